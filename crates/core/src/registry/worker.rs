//! 家政服务员: the person behind the record, parsed from what an agency types or imports.

use chrono::NaiveDate;

use super::ServiceSet;
use super::agency::parse_street;
use crate::choice;
use crate::division::DivisionCode;
use crate::field::{FieldErrors, Invalid, optional_text, required_text};
use crate::ids::{Mobile, ResidentId};

choice!(
    EducationLevel {
        None = ("none", "未受学历教育", "None"),
        Primary = ("primary", "小学", "Primary school"),
        Junior = ("junior", "初中", "Junior middle school"),
        Senior = ("senior", "高中", "Senior high school"),
        Vocational = ("vocational", "中专/技校", "Vocational school"),
        College = ("college", "大专", "College"),
        Bachelor = ("bachelor", "本科", "Bachelor"),
        Master = ("master", "硕士及以上", "Master or above"),
    }
);

/// What a person types when adding or editing a worker; services may come as several values.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct WorkerForm {
    pub id_number: String,
    pub name: String,
    pub phone: String,
    pub ethnicity: String,
    pub education_level: String,
    pub education_major: String,
    pub education_related: String,
    pub home_street: String,
    pub services: Vec<String>,
}

/// A worker's registration, every field known to be well formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerDraft {
    pub id_number: ResidentId,
    pub name: String,
    pub phone: Mobile,
    pub ethnicity: String,
    pub education_level: EducationLevel,
    pub education_major: Option<String>,
    pub education_related: bool,
    pub home_street: DivisionCode,
    pub services: ServiceSet,
}

/// Yes/no as forms (checkbox "on") and spreadsheets (是/否) write it; empty is no.
pub fn parse_yes_no(raw: &str) -> Result<bool, Invalid> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "no" | "false" | "0" | "否" | "n" => Ok(false),
        "yes" | "true" | "1" | "on" | "是" | "y" => Ok(true),
        _ => Err(Invalid::new("yes_no", "请填写“是”或“否”", "must be yes or no")),
    }
}

/// A person's name as written on the ID card: CJK and the middle dot of minority names allowed.
pub fn parse_person_name(raw: &str) -> Result<String, Invalid> {
    let name = required_text(raw, 30)?;
    if name.chars().any(|c| c.is_ascii_digit() || c.is_control() || "<>\"'&;".contains(c)) {
        return Err(Invalid::new("name_chars", "姓名含有无效字符", "the name contains characters a name cannot have"));
    }
    Ok(name)
}

impl WorkerForm {
    pub fn parse(&self, today: NaiveDate) -> Result<WorkerDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let id_number = e.take("id_number", ResidentId::parse(&self.id_number, today));
        let name = e.take("name", parse_person_name(&self.name));
        let phone = e.take("phone", Mobile::parse(&self.phone));
        let ethnicity =
            e.take("ethnicity", optional_text(&self.ethnicity, 20).map(|t| t.unwrap_or_else(|| "汉族".into())));
        let education_level = e.take("education_level", EducationLevel::parse(&self.education_level));
        let education_major = e.take("education_major", optional_text(&self.education_major, 50));
        let education_related = e.take("education_related", parse_yes_no(&self.education_related));
        let home_street = e.take("home_street", parse_street(&self.home_street));
        let services = e.take("services", ServiceSet::parse_list(self.services.iter().map(String::as_str)));
        match (
            id_number,
            name,
            phone,
            ethnicity,
            education_level,
            education_major,
            education_related,
            home_street,
            services,
        ) {
            (
                Some(id_number),
                Some(name),
                Some(phone),
                Some(ethnicity),
                Some(education_level),
                Some(education_major),
                Some(education_related),
                Some(home_street),
                Some(services),
            ) if e.is_empty() => Ok(WorkerDraft {
                id_number,
                name,
                phone,
                ethnicity,
                education_level,
                education_major,
                education_related,
                home_street,
                services,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::resident_id_check_char;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    fn form() -> WorkerForm {
        let first17 = "22010219850612124";
        WorkerForm {
            id_number: format!("{first17}{}", resident_id_check_char(first17.as_bytes())),
            name: "王秀英".into(),
            phone: "13904310000".into(),
            ethnicity: String::new(),
            education_level: "大专".into(),
            education_major: "家政服务与管理".into(),
            education_related: "是".into(),
            home_street: "220102001".into(),
            services: vec!["cleaning".into(), "maternity".into()],
        }
    }

    #[test]
    fn parses_a_worker_and_defaults_ethnicity() {
        let draft = form().parse(today()).unwrap();
        assert_eq!(draft.ethnicity, "汉族");
        assert!(draft.education_related);
        assert_eq!(draft.id_number.sex(), crate::ids::Sex::Female);
        assert_eq!(draft.services.kinds().len(), 2);
    }

    #[test]
    fn names_each_bad_field() {
        let mut bad = form();
        bad.id_number.pop();
        bad.id_number.push('Y');
        bad.name = "王2".into();
        bad.services = vec![];
        bad.education_related = "maybe".into();
        let errors = bad.parse(today()).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["id_number", "name", "education_related", "services"]);
    }
}

/// Index terms for a name: every character and every pair of neighbours, so a fragment of
/// one or more characters can be found through an index on any database.
pub fn name_grams(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
    let mut grams: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
    grams.extend(chars.windows(2).map(|pair| pair.iter().collect()));
    grams.sort();
    grams.dedup();
    grams
}

/// The index term that narrows a search for `fragment`: the fragment itself when it is one
/// character, else its first two characters (the rest is checked against the name).
pub fn search_gram(fragment: &str) -> Option<String> {
    let chars: Vec<char> = fragment.chars().filter(|c| !c.is_whitespace()).collect();
    match chars.len() {
        0 => None,
        1 => Some(chars[0].to_string()),
        _ => Some(chars[..2].iter().collect()),
    }
}

#[cfg(test)]
mod gram_tests {
    use super::*;

    #[test]
    fn every_fragment_has_its_gram_among_the_names_grams() {
        let name = "欧阳秀英";
        let grams = name_grams(name);
        assert_eq!(grams.len(), 7);
        for fragment in ["欧", "秀英", "阳秀英", "欧阳秀英"] {
            assert!(grams.contains(&search_gram(fragment).unwrap()), "{fragment}");
        }
        assert_eq!(search_gram(" "), None);
    }
}
