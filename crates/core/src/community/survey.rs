//! Demand surveys (需求清单): community staff build a questionnaire from a fixed set of question
//! types; a household answers once; answers add up to a demand list per community, street and
//! district. Multi-choice answers are bit masks over the choices' order, so a million answers
//! aggregate in one scan.

use chrono::NaiveDate;

use crate::choice;
use crate::field::{FieldErrors, Invalid, optional_text, required_text};
use crate::market::catalog::CatalogItem;
use crate::workforce::parse_date;

choice!(
    /// The kinds of question a survey may ask, in the order they are asked.
    QuestionKind {
        Services = ("services", "需要哪些服务", "Which services the household needs"),
        Frequency = ("frequency", "多久需要一次", "How often"),
        Price = ("price", "可接受的价格", "Acceptable price"),
        TimeOfDay = ("time_of_day", "希望的服务时段", "Preferred time of day"),
        CareFor = ("care_for", "家中需要照护的人", "Who in the household needs care"),
        FreeText = ("free_text", "其他意见和建议", "Anything else"),
    }
);

choice!(
    Frequency {
        SeveralAWeek = ("several_a_week", "每周多次", "Several times a week"),
        Weekly = ("weekly", "每周一次", "Once a week"),
        Monthly = ("monthly", "每月一两次", "Once or twice a month"),
        Occasionally = ("occasionally", "偶尔", "Now and then"),
        LiveIn = ("live_in", "长期住家", "Live-in, long term"),
    }
);

choice!(
    TimeOfDay {
        Morning = ("morning", "上午", "Morning"),
        Afternoon = ("afternoon", "下午", "Afternoon"),
        Evening = ("evening", "晚上", "Evening"),
        Night = ("night", "夜间", "Night"),
    }
);

choice!(
    CareFor {
        Elderly = ("elderly", "老人", "An older person"),
        Newborn = ("newborn", "产妇和新生儿", "Mother and newborn"),
        Child = ("child", "婴幼儿", "A young child"),
        Patient = ("patient", "病人", "Someone ill"),
        Disabled = ("disabled", "残疾人", "A disabled person"),
        Nobody = ("nobody", "无需照护", "No one"),
    }
);

choice!(
    /// Where a survey stands on a given day.
    SurveyState {
        NotYetOpen = ("not_yet_open", "尚未开始", "Not open yet"),
        Open = ("open", "进行中", "Open"),
        Closed = ("closed", "已结束", "Closed"),
    }
);

pub const TITLE_MAX: usize = 60;
pub const INTRO_MAX: usize = 500;
pub const NOTE_MAX: usize = 300;
/// A survey runs at most a year.
pub const LONGEST_DAYS: i64 = 366;
/// Prices a household may name, per hour: ¥1 to ¥1,000.
pub const PRICE_MAX_YUAN: u32 = 1000;
/// More entries than any list of choices has (with repeats a browser might send).
const MAX_PICKS: usize = 32;

/// A set of choices as a bit mask over `ALL`'s order.
pub fn mask_of<T: Copy + PartialEq>(all: &[T], picked: &[T]) -> i64 {
    all.iter().enumerate().filter(|(_, c)| picked.contains(c)).fold(0, |m, (i, _)| m | (1 << i))
}

pub fn members<T: Copy>(all: &[T], mask: i64) -> Vec<T> {
    all.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| *c).collect()
}

/// A survey as typed on the staff's form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SurveyForm {
    pub title: String,
    pub intro: String,
    /// Question kinds: `services`, `frequency`, `price`, `time_of_day`, `care_for`, `free_text`.
    pub questions: Vec<String>,
    /// First day answers are taken (Beijing), `YYYY-MM-DD`.
    pub opens_on: String,
    /// Last day answers are taken (Beijing), `YYYY-MM-DD`.
    pub closes_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyDraft {
    pub title: String,
    pub intro: String,
    pub questions: Vec<QuestionKind>,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
}

impl SurveyForm {
    /// Every field at once; the closing day may not be past already, nor more than a year on.
    pub fn parse(&self, today: NaiveDate) -> Result<SurveyDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let title = e.take("title", required_text(&self.title, TITLE_MAX));
        let intro = e.take("intro", optional_text(&self.intro, INTRO_MAX)).map(Option::unwrap_or_default);
        let mut questions = Vec::new();
        if self.questions.len() > MAX_PICKS {
            e.take::<()>("questions", Err(Invalid::new("too_many", "问题过多", "too many questions")));
        }
        for raw in self.questions.iter().take(MAX_PICKS).filter(|q| !q.trim().is_empty()) {
            match e.take("questions", QuestionKind::parse(raw)) {
                Some(q) => questions.push(q),
                None => break,
            }
        }
        questions.sort_by_key(|q| QuestionKind::ALL.iter().position(|k| k == q));
        questions.dedup();
        if questions.is_empty() && e.for_field("questions").is_none() {
            e.take::<()>(
                "questions",
                Err(Invalid::new("no_questions", "请至少选择一个问题", "pick at least one question")),
            );
        }
        let opens_on = e.take("opens_on", parse_date(&self.opens_on));
        let closes_on = e.take("closes_on", parse_date(&self.closes_on));
        if let (Some(o), Some(c)) = (opens_on, closes_on) {
            if c < o {
                e.take::<()>(
                    "closes_on",
                    Err(Invalid::new("before_open", "结束日期早于开始日期", "is before the first day")),
                );
            } else if c < today {
                e.take::<()>("closes_on", Err(Invalid::new("in_the_past", "结束日期已过", "has passed already")));
            } else if (c - o).num_days() > LONGEST_DAYS {
                e.take::<()>(
                    "closes_on",
                    Err(Invalid::new("too_long_survey", "调查最长一年", "a survey runs at most a year")),
                );
            }
        }
        match (title, intro, opens_on, closes_on) {
            (Some(title), Some(intro), Some(opens_on), Some(closes_on)) if e.is_empty() => {
                Ok(SurveyDraft { title, intro, questions, opens_on, closes_on })
            }
            _ => Err(e),
        }
    }
}

/// Where a survey stands on `today`: closed early by staff, or by its dates.
pub fn state(opens_on: NaiveDate, closes_on: NaiveDate, closed_early: bool, today: NaiveDate) -> SurveyState {
    if closed_early || today > closes_on {
        SurveyState::Closed
    } else if today < opens_on {
        SurveyState::NotYetOpen
    } else {
        SurveyState::Open
    }
}

/// Why an answer cannot be taken today, in words for the household.
pub fn refuse_unless_open(state: SurveyState, opens_on: NaiveDate, closes_on: NaiveDate) -> Result<(), Invalid> {
    match state {
        SurveyState::Open => Ok(()),
        SurveyState::NotYetOpen => Err(Invalid::new(
            "not_yet_open",
            format!("调查尚未开始，{opens_on} 起可以填写"),
            format!("This survey opens on {opens_on}"),
        )),
        SurveyState::Closed => Err(Invalid::new(
            "closed",
            format!("调查已结束（截至 {closes_on}），不再收集答卷"),
            format!("This survey closed (last day {closes_on}) and takes no more answers"),
        )),
    }
}

/// One household's answer as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct AnswerForm {
    /// The household's community (12 digits), picked on the page.
    pub community: String,
    /// Catalog items.
    pub services: Vec<String>,
    pub frequency: String,
    /// Yuan per hour, whole.
    pub price_min: String,
    pub price_max: String,
    pub times: Vec<String>,
    pub care: Vec<String>,
    pub note: String,
}

/// An answer ready to store: sets as masks, prices in fen per hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub services: i64,
    pub frequency: Option<Frequency>,
    pub price_min_fen: Option<i64>,
    pub price_max_fen: Option<i64>,
    pub times: i64,
    pub care: i64,
    pub note: Option<String>,
}

fn yuan_per_hour(raw: &str) -> Result<i64, Invalid> {
    if raw.trim().is_empty() {
        return Err(Invalid::required());
    }
    let yuan: u32 = raw
        .trim()
        .parse()
        .map_err(|_| Invalid::new("not_a_number", "请填写整数金额（元/小时）", "must be whole yuan per hour"))?;
    if (1..=PRICE_MAX_YUAN).contains(&yuan) {
        Ok(i64::from(yuan) * 100)
    } else {
        Err(Invalid::new(
            "out_of_range",
            format!("金额须在1到{PRICE_MAX_YUAN}元/小时之间"),
            format!("must be between 1 and {PRICE_MAX_YUAN} yuan per hour"),
        ))
    }
}

fn picked<T: Copy + PartialEq>(
    e: &mut FieldErrors,
    field: &str,
    raw: &[String],
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Vec<T> {
    let mut out = Vec::new();
    // A list longer than any honest answer, or one bad entry, is said once for the field.
    if raw.len() > MAX_PICKS {
        e.take::<()>(field, Err(Invalid::new("too_many", "选项过多", "too many choices")));
        return out;
    }
    for r in raw.iter().filter(|r| !r.trim().is_empty()) {
        match e.take(field, parse(r)) {
            Some(v) if !out.contains(&v) => out.push(v),
            Some(_) => {}
            None => return out,
        }
    }
    if out.is_empty() && e.for_field(field).is_none() {
        e.take::<()>(field, Err(Invalid::new("pick_one", "请至少选择一项", "pick at least one")));
    }
    out
}

impl AnswerForm {
    /// The answers to the questions the survey asks; each asked question but the free text must
    /// be answered, and questions not asked are ignored.
    pub fn parse(&self, asked: &[QuestionKind]) -> Result<Answer, FieldErrors> {
        let mut e = FieldErrors::default();
        let mut answer = Answer {
            services: 0,
            frequency: None,
            price_min_fen: None,
            price_max_fen: None,
            times: 0,
            care: 0,
            note: None,
        };
        for q in asked {
            match q {
                QuestionKind::Services => {
                    let items = picked(&mut e, "services", &self.services, CatalogItem::parse);
                    answer.services = mask_of(CatalogItem::ALL, &items);
                }
                QuestionKind::Frequency => {
                    answer.frequency = e.take("frequency", Frequency::parse(&self.frequency));
                }
                QuestionKind::Price => {
                    let min = e.take("price_min", yuan_per_hour(&self.price_min));
                    let max = e.take("price_max", yuan_per_hour(&self.price_max));
                    if let (Some(lo), Some(hi)) = (min, max)
                        && lo > hi
                    {
                        e.take::<()>(
                            "price_max",
                            Err(Invalid::new("below_min", "最高价不能低于最低价", "is below the lowest price")),
                        );
                    }
                    answer.price_min_fen = min;
                    answer.price_max_fen = max;
                }
                QuestionKind::TimeOfDay => {
                    let t = picked(&mut e, "times", &self.times, TimeOfDay::parse);
                    answer.times = mask_of(TimeOfDay::ALL, &t);
                }
                QuestionKind::CareFor => {
                    let c = picked(&mut e, "care", &self.care, CareFor::parse);
                    if c.contains(&CareFor::Nobody) && c.len() > 1 {
                        e.take::<()>(
                            "care",
                            Err(Invalid::new(
                                "nobody_and_someone",
                                "“无需照护”不能与其他项同选",
                                "\"No one\" goes alone",
                            )),
                        );
                    }
                    answer.care = mask_of(CareFor::ALL, &c);
                }
                QuestionKind::FreeText => answer.note = e.take("note", optional_text(&self.note, NOTE_MAX)).flatten(),
            }
        }
        if e.is_empty() { Ok(answer) } else { Err(e) }
    }
}

/// The questions a survey stores, as their codes joined by commas.
pub fn questions_text(questions: &[QuestionKind]) -> String {
    questions.iter().map(|q| q.as_str()).collect::<Vec<_>>().join(",")
}

pub fn parse_questions_text(raw: &str) -> Vec<QuestionKind> {
    raw.split(',').filter_map(|q| QuestionKind::parse(q).ok()).collect()
}

/// What the households of one place asked for, added up: counts per choice, and sums of the
/// prices named so that places roll up into streets and districts exactly.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Demand {
    pub households: i64,
    /// Per `CatalogItem::ALL`.
    pub services: Vec<i64>,
    /// Per `Frequency::ALL`.
    pub frequency: Vec<i64>,
    /// Per `TimeOfDay::ALL`.
    pub times: Vec<i64>,
    /// Per `CareFor::ALL`.
    pub care: Vec<i64>,
    /// Households that named a price, and the sums of their lowest and highest (fen per hour).
    pub priced: i64,
    pub price_min_sum_fen: i64,
    pub price_max_sum_fen: i64,
}

impl Default for Demand {
    fn default() -> Self {
        Self {
            households: 0,
            services: vec![0; CatalogItem::ALL.len()],
            frequency: vec![0; Frequency::ALL.len()],
            times: vec![0; TimeOfDay::ALL.len()],
            care: vec![0; CareFor::ALL.len()],
            priced: 0,
            price_min_sum_fen: 0,
            price_max_sum_fen: 0,
        }
    }
}

impl Demand {
    pub fn add(&mut self, other: &Demand) {
        fn sum(into: &mut [i64], from: &[i64]) {
            for (a, b) in into.iter_mut().zip(from) {
                *a += b;
            }
        }
        self.households += other.households;
        sum(&mut self.services, &other.services);
        sum(&mut self.frequency, &other.frequency);
        sum(&mut self.times, &other.times);
        sum(&mut self.care, &other.care);
        self.priced += other.priced;
        self.price_min_sum_fen += other.price_min_sum_fen;
        self.price_max_sum_fen += other.price_max_sum_fen;
    }

    /// One answer's contribution.
    pub fn of(answer: &Answer) -> Self {
        let mut d = Demand { households: 1, ..Default::default() };
        let count = |counts: &mut Vec<i64>, mask: i64| {
            for (i, c) in counts.iter_mut().enumerate() {
                *c += (mask >> i) & 1;
            }
        };
        count(&mut d.services, answer.services);
        count(&mut d.times, answer.times);
        count(&mut d.care, answer.care);
        if let Some(f) = answer.frequency {
            d.frequency[Frequency::ALL.iter().position(|x| *x == f).unwrap_or(0)] += 1;
        }
        if let (Some(lo), Some(hi)) = (answer.price_min_fen, answer.price_max_fen) {
            d.priced = 1;
            d.price_min_sum_fen = lo;
            d.price_max_sum_fen = hi;
        }
        d
    }

    /// The average lowest and highest price named, in fen per hour.
    pub fn average_price_fen(&self) -> Option<(i64, i64)> {
        (self.priced > 0).then(|| (self.price_min_sum_fen / self.priced, self.price_max_sum_fen / self.priced))
    }

    /// Households that asked for one catalog item.
    pub fn wanting(&self, item: CatalogItem) -> i64 {
        CatalogItem::ALL.iter().position(|x| *x == item).map_or(0, |i| self.services[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn form() -> SurveyForm {
        SurveyForm {
            title: "2026年冬季家政需求调查".into(),
            intro: String::new(),
            questions: vec!["price".into(), "services".into(), "services".into()],
            opens_on: "2026-12-01".into(),
            closes_on: "2026-12-31".into(),
        }
    }

    #[test]
    fn a_survey_keeps_its_questions_in_order_once() {
        let draft = form().parse(day("2026-12-03")).unwrap();
        assert_eq!(draft.questions, vec![QuestionKind::Services, QuestionKind::Price]);
        assert_eq!(parse_questions_text(&questions_text(&draft.questions)), draft.questions);
    }

    #[test]
    fn a_survey_reports_every_bad_field() {
        let bad = SurveyForm {
            title: " ".into(),
            questions: vec![],
            opens_on: "2026-12-10".into(),
            closes_on: "2026-12-09".into(),
            ..form()
        };
        let e = bad.parse(day("2026-12-03")).unwrap_err();
        assert_eq!(e.for_field("title").unwrap().code, "required");
        assert_eq!(e.for_field("questions").unwrap().code, "no_questions");
        assert_eq!(e.for_field("closes_on").unwrap().code, "before_open");
        let past = SurveyForm { opens_on: "2026-11-01".into(), closes_on: "2026-11-30".into(), ..form() };
        assert_eq!(past.parse(day("2026-12-03")).unwrap_err().for_field("closes_on").unwrap().code, "in_the_past");
        let long = SurveyForm { closes_on: "2028-01-01".into(), ..form() };
        assert_eq!(long.parse(day("2026-12-03")).unwrap_err().for_field("closes_on").unwrap().code, "too_long_survey");
        let unknown = SurveyForm { questions: vec!["income".into()], ..form() };
        assert_eq!(
            unknown.parse(day("2026-12-03")).unwrap_err().for_field("questions").unwrap().code,
            "unknown_choice"
        );
    }

    #[test]
    fn states_by_date_and_early_close() {
        let (o, c) = (day("2026-12-01"), day("2026-12-31"));
        assert_eq!(state(o, c, false, day("2026-11-30")), SurveyState::NotYetOpen);
        assert_eq!(state(o, c, false, day("2026-12-01")), SurveyState::Open);
        assert_eq!(state(o, c, false, day("2026-12-31")), SurveyState::Open);
        assert_eq!(state(o, c, false, day("2027-01-01")), SurveyState::Closed);
        assert_eq!(state(o, c, true, day("2026-12-05")), SurveyState::Closed);
        assert!(refuse_unless_open(SurveyState::Closed, o, c).unwrap_err().message_zh.contains("2026-12-31"));
        assert!(refuse_unless_open(SurveyState::NotYetOpen, o, c).unwrap_err().message_en.contains("2026-12-01"));
    }

    #[test]
    fn an_answer_is_masks_and_fen() {
        let asked = QuestionKind::ALL;
        let a = AnswerForm {
            community: "220102001001".into(),
            services: vec!["elderly_care".into(), "daily_cleaning".into()],
            frequency: "weekly".into(),
            price_min: "30".into(),
            price_max: "50".into(),
            times: vec!["morning".into()],
            care: vec!["elderly".into()],
            note: "  ".into(),
        }
        .parse(asked)
        .unwrap();
        assert_eq!(members(CatalogItem::ALL, a.services), vec![CatalogItem::DailyCleaning, CatalogItem::ElderlyCare]);
        assert_eq!((a.price_min_fen, a.price_max_fen), (Some(3000), Some(5000)));
        assert_eq!(a.frequency, Some(Frequency::Weekly));
        assert_eq!(a.note, None);
    }

    #[test]
    fn demand_adds_up_answers_exactly() {
        let a = Answer {
            services: mask_of(CatalogItem::ALL, &[CatalogItem::Cooking, CatalogItem::ElderlyCare]),
            frequency: Some(Frequency::Weekly),
            price_min_fen: Some(3000),
            price_max_fen: Some(5000),
            times: mask_of(TimeOfDay::ALL, &[TimeOfDay::Morning]),
            care: mask_of(CareFor::ALL, &[CareFor::Elderly]),
            note: None,
        };
        let b = Answer {
            services: mask_of(CatalogItem::ALL, &[CatalogItem::Cooking]),
            price_min_fen: None,
            price_max_fen: None,
            ..a.clone()
        };
        let mut d = Demand::of(&a);
        d.add(&Demand::of(&b));
        assert_eq!(d.households, 2);
        assert_eq!(d.wanting(CatalogItem::Cooking), 2);
        assert_eq!(d.wanting(CatalogItem::ElderlyCare), 1);
        assert_eq!(d.wanting(CatalogItem::LiveIn), 0);
        assert_eq!(d.frequency[1], 2);
        assert_eq!(d.average_price_fen(), Some((3000, 5000)));
        assert_eq!(Demand::default().average_price_fen(), None);
    }

    #[test]
    fn an_answer_names_each_missing_or_wrong_field() {
        let e = AnswerForm {
            price_min: "80".into(),
            price_max: "20".into(),
            care: vec!["nobody".into(), "elderly".into()],
            ..Default::default()
        }
        .parse(QuestionKind::ALL)
        .unwrap_err();
        assert_eq!(e.for_field("services").unwrap().code, "pick_one");
        assert_eq!(e.for_field("frequency").unwrap().code, "required");
        assert_eq!(e.for_field("price_max").unwrap().code, "below_min");
        assert_eq!(e.for_field("times").unwrap().code, "pick_one");
        assert_eq!(e.for_field("care").unwrap().code, "nobody_and_someone");
        // Questions not asked are not required.
        assert!(
            AnswerForm { frequency: "weekly".into(), ..Default::default() }.parse(&[QuestionKind::Frequency]).is_ok()
        );
        let e = AnswerForm { price_min: "0".into(), price_max: "5000".into(), ..Default::default() }
            .parse(&[QuestionKind::Price])
            .unwrap_err();
        assert_eq!(e.for_field("price_min").unwrap().code, "out_of_range");
        assert_eq!(e.for_field("price_max").unwrap().code, "out_of_range");
    }
}
