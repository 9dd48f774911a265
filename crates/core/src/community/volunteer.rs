//! 家政驿站 and volunteer service (plan tasks 9 and 10). A school proposes a station in a
//! community, with the services it offers and its hours; the community's staff confirm it, and
//! either side ends it. Community staff run volunteer and public-welfare projects with events;
//! agencies and schools join an event with the people they send and the hours each gave, and
//! the staff confirm what was given before it counts.

use chrono::NaiveDate;

use crate::choice;
use crate::division::{DivisionCode, DivisionLevel};
use crate::field::{FieldErrors, Invalid, required_paragraphs, required_text};
use crate::market::CatalogItem;
use crate::market::slot::Slot;

use super::operations::{parse_count, parse_day_range};

pub const MAX_STATION_NAME_CHARS: usize = 60;
pub const MAX_ADDRESS_CHARS: usize = 120;
pub const MAX_HOURS_CHARS: usize = 100;
pub const MAX_PROJECT_TITLE_CHARS: usize = 60;
pub const MAX_PROJECT_DESCRIPTION_CHARS: usize = 500;
pub const MAX_EVENT_DESCRIPTION_CHARS: usize = 300;
pub const MAX_PEOPLE: i64 = 500;
/// One person's hours at one event: at most a day.
pub const MAX_MINUTES_EACH: i64 = 24 * 60;

choice!(
    /// The kinds of volunteer and public-welfare work the plan names.
    VolunteerKind {
        MicroVenture = ("micro_venture", "微公益创投", "Micro public-welfare venture"),
        Red = ("red", "红色家政", "Red domestic service"),
        Service = ("service", "志愿服务", "Volunteer service"),
    }
);

choice!(
    /// Where a 家政驿站 stands.
    StationStatus {
        Proposed = ("proposed", "待社区确认", "Waiting for the community"),
        Active = ("active", "运营中", "Active"),
        Ended = ("ended", "已结束", "Ended"),
    }
);

choice!(
    /// Which side of a station acted.
    StationSide {
        School = ("school", "院校", "School"),
        Community = ("community", "社区", "Community"),
    }
);

choice!(
    /// A participant's part in an event.
    ParticipationStatus {
        Joined = ("joined", "待社区确认", "Waiting for the community"),
        Confirmed = ("confirmed", "已确认", "Confirmed"),
    }
);

/// A village-level code picked from the list.
pub fn parse_community_pick(raw: &str) -> Result<DivisionCode, Invalid> {
    let code = DivisionCode::parse(raw).map_err(|_| Invalid::new("required", "请选择社区", "pick a community"))?;
    if code.level() == DivisionLevel::Community {
        Ok(code)
    } else {
        Err(Invalid::new("required", "请选择社区", "pick a community"))
    }
}

/// A station as a school proposes it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct StationForm {
    /// At most 60 characters.
    pub name: String,
    /// The community's 12-digit code (picked: street, then community).
    pub community: String,
    /// At most 120 characters.
    pub address: String,
    /// Catalog item codes (`daily_cleaning`, `elderly_care` …), at least one.
    pub services: Vec<String>,
    /// Opening hours as people read them, at most 100 characters.
    pub hours: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationDraft {
    pub name: String,
    pub community: DivisionCode,
    pub address: String,
    pub services: Vec<CatalogItem>,
    pub hours: String,
}

impl StationDraft {
    /// The services as stored: codes joined by commas, in catalog order.
    pub fn services_text(&self) -> String {
        self.services.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// Stored service codes as labels, joined for display.
pub fn service_labels(stored: &str, english: bool) -> String {
    let labels: Vec<&str> =
        stored.split(',').map(|c| CatalogItem::label_of(c, english)).filter(|l| !l.is_empty()).collect();
    labels.join(if english { ", " } else { "、" })
}

impl StationForm {
    pub fn parse(&self) -> Result<StationDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = e.take("name", required_text(&self.name, MAX_STATION_NAME_CHARS));
        let community = e.take("community", parse_community_pick(&self.community));
        let address = e.take("address", required_text(&self.address, MAX_ADDRESS_CHARS));
        let hours = e.take("hours", required_text(&self.hours, MAX_HOURS_CHARS));
        let mut services = Vec::new();
        if self.services.len() > CatalogItem::ALL.len() * 2 {
            e.0.push(Invalid::new("too_many", "服务项目过多", "too many services").at("services"));
        } else {
            for raw in &self.services {
                if let Some(item) = e.take("services", CatalogItem::parse(raw)) {
                    services.push(item);
                }
            }
        }
        services.sort_by_key(|s| CatalogItem::ALL.iter().position(|a| a == s));
        services.dedup();
        if services.is_empty() && e.for_field("services").is_none() {
            e.0.push(Invalid::new("required", "请至少选择一项服务", "pick at least one service").at("services"));
        }
        match (name, community, address, hours) {
            (Some(name), Some(community), Some(address), Some(hours)) if e.is_empty() => {
                Ok(StationDraft { name, community, address, services, hours })
            }
            _ => Err(e),
        }
    }
}

/// A volunteer or public-welfare project as community staff create it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ProjectForm {
    /// `micro_venture` (微公益创投), `red` (红色家政) or `service` (志愿服务).
    pub kind: String,
    /// At most 60 characters.
    pub title: String,
    /// At most 500 characters.
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDraft {
    pub kind: VolunteerKind,
    pub title: String,
    pub description: String,
}

impl ProjectForm {
    pub fn parse(&self) -> Result<ProjectDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = e.take("kind", VolunteerKind::parse(&self.kind));
        let title = e.take("title", required_text(&self.title, MAX_PROJECT_TITLE_CHARS));
        let description = e.take("description", required_paragraphs(&self.description, MAX_PROJECT_DESCRIPTION_CHARS));
        match (kind, title, description) {
            (Some(kind), Some(title), Some(description)) if e.is_empty() => {
                Ok(ProjectDraft { kind, title, description })
            }
            _ => Err(e),
        }
    }
}

/// An event of a project, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct VolunteerEventForm {
    /// A community of the staff's area (12 digits, picked from the list).
    pub community: String,
    /// Beijing date, `YYYY-MM-DD`.
    pub date: String,
    pub from: String,
    pub to: String,
    /// At most 300 characters.
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolunteerEventDraft {
    pub community: DivisionCode,
    pub slot: Slot,
    pub description: String,
}

impl VolunteerEventForm {
    pub fn parse(&self, today: NaiveDate) -> Result<VolunteerEventDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let community = e.take("community", parse_community_pick(&self.community));
        let slot = parse_day_range(&mut e, &self.date, &self.from, &self.to, today);
        let description = e.take("description", required_paragraphs(&self.description, MAX_EVENT_DESCRIPTION_CHARS));
        match (community, slot, description) {
            (Some(community), Some(slot), Some(description)) if e.is_empty() => {
                Ok(VolunteerEventDraft { community, slot, description })
            }
            _ => Err(e),
        }
    }
}

/// What an agency or school gave at an event: people sent and hours each.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct VolunteerJoinForm {
    /// People sent, 1 to 500.
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub people: String,
    /// Hours each gave, 0.5 to 24 in half hours.
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub hours: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinDraft {
    pub people: i64,
    pub minutes_each: i64,
}

impl JoinDraft {
    pub fn minutes(self) -> i64 {
        self.people * self.minutes_each
    }
}

/// Hours in halves, `0.5` to `24`, as minutes.
pub fn parse_half_hours(raw: &str) -> Result<i64, Invalid> {
    let text = raw.trim();
    let bad = || {
        Invalid::new(
            "out_of_range",
            "每人小时数应为0.5到24之间，以半小时计",
            "hours each must be from 0.5 to 24, in half hours",
        )
    };
    if text.is_empty() {
        return Err(Invalid::required());
    }
    let (whole, half) = match text.split_once('.') {
        None => (text, false),
        Some((w, "5")) => (w, true),
        Some((w, "0")) => (w, false),
        Some(_) => return Err(bad()),
    };
    let whole = if whole.is_empty() { "0" } else { whole };
    if whole.len() > 3 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let minutes = whole.parse::<i64>().map_err(|_| bad())? * 60 + if half { 30 } else { 0 };
    if minutes > 0 && minutes <= MAX_MINUTES_EACH { Ok(minutes) } else { Err(bad()) }
}

impl VolunteerJoinForm {
    pub fn parse(&self) -> Result<JoinDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let people = e.take("people", parse_count(&self.people, MAX_PEOPLE));
        let minutes_each = e.take("hours", parse_half_hours(&self.hours));
        match (people, minutes_each) {
            (Some(people), Some(minutes_each)) => Ok(JoinDraft { people, minutes_each }),
            _ => Err(e),
        }
    }
}

/// Minutes as hours for reading: `12`, `7.5`.
pub fn hours_text(minutes: i64) -> String {
    if minutes % 60 == 0 { format!("{}", minutes / 60) } else { format!("{:.1}", minutes as f64 / 60.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_station_needs_a_community_picked_and_a_service_from_the_catalog() {
        let form = StationForm {
            name: "南岭家政驿站".into(),
            community: "220102001001".into(),
            address: "华阳街8号".into(),
            services: vec!["elderly_care".into(), "daily_cleaning".into(), "elderly_care".into()],
            hours: "周一至周五 09:00-17:00".into(),
        };
        let draft = form.parse().unwrap();
        assert_eq!(draft.services_text(), "daily_cleaning,elderly_care");
        assert_eq!(service_labels(&draft.services_text(), false), "日常保洁、居家养老照护");
        let bad = StationForm { community: "220102001".into(), services: vec!["massage".into()], ..form };
        let errors = bad.parse().unwrap_err();
        assert!(errors.for_field("community").is_some() && errors.for_field("services").is_some());
        let none = StationForm { services: vec![], ..StationForm::default() };
        assert_eq!(none.parse().unwrap_err().for_field("services").unwrap().code, "required");
    }

    #[test]
    fn a_project_kind_is_one_of_three_and_hours_come_in_halves() {
        let form = ProjectForm {
            kind: "红色家政".into(),
            title: "党员家政服务队".into(),
            description: "为独居老人上门保洁".into(),
        };
        assert_eq!(form.parse().unwrap().kind, VolunteerKind::Red);
        assert!(ProjectForm { kind: "慈善".into(), ..form }.parse().is_err());
        assert_eq!(parse_half_hours("2.5").unwrap(), 150);
        assert_eq!(parse_half_hours(".5").unwrap(), 30);
        for bad in ["0", "2.25", "25", "-1", "abc", ""] {
            assert!(parse_half_hours(bad).is_err(), "{bad}");
        }
        let join = VolunteerJoinForm { people: "4".into(), hours: "3".into() }.parse().unwrap();
        assert_eq!(join.minutes(), 720);
        assert_eq!(hours_text(720), "12");
        assert_eq!(hours_text(450), "7.5");
        let refused = VolunteerJoinForm { people: "0".into(), hours: "30".into() }.parse().unwrap_err();
        assert!(refused.for_field("people").is_some() && refused.for_field("hours").is_some());
    }
}
