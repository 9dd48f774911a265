//! Demand surveys: staff publish one for their area, households answer once (a household is the
//! phone its resident signs in with), and the answers add up per community in one scan.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::community::survey::{
    Answer, CareFor, Demand, Frequency, QuestionKind, SurveyDraft, SurveyState, TimeOfDay, parse_questions_text,
    questions_text, refuse_unless_open, state,
};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::catalog::CatalogItem;
use serde::Serialize;

use super::coverage::area_prefix;
use crate::crypto::random_bytes;
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Survey {
        pub id: i64,
        pub area_code: String,
        pub area_name: String,
        pub title: String,
        pub intro: String,
        /// Question kinds, comma-separated, in the order asked.
        pub questions: String,
        pub opens_on: NaiveDate,
        pub closes_on: NaiveDate,
        #[serde(skip)]
        pub link_token: String,
        pub closed_at: Option<DateTime<Utc>>,
        pub created_at: DateTime<Utc>,
        pub answers: i64,
    }
}

impl Survey {
    pub fn asked(&self) -> Vec<QuestionKind> {
        parse_questions_text(&self.questions)
    }

    pub fn state(&self, today: NaiveDate) -> SurveyState {
        state(self.opens_on, self.closes_on, self.closed_at.is_some(), today)
    }

    pub fn area(&self) -> Option<DivisionCode> {
        DivisionCode::parse(&self.area_code).ok()
    }
}

const SELECT_SURVEY: &str = "SELECT s.id, s.area_code, d.name AS area_name, s.title, s.intro, s.questions, s.opens_on,
        s.closes_on, s.link_token, s.closed_at, s.created_at,
        (SELECT COUNT(*) FROM survey_answers a WHERE a.survey_id = s.id) AS answers
    FROM surveys s JOIN divisions d ON d.code = s.area_code";

/// One community's demand in a survey (or a street's or district's, added up).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommunityDemand {
    pub community_code: String,
    pub demand: Demand,
}

impl Store {
    pub async fn create_survey(&self, area: &DivisionCode, draft: &SurveyDraft, account_id: i64) -> Result<i64> {
        let token = hex::encode(random_bytes::<16>());
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO surveys (area_code, title, intro, questions, opens_on, closes_on, link_token, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(area.as_str()).bind(&draft.title).bind(&draft.intro).bind(questions_text(&draft.questions))
        .bind(draft.opens_on).bind(draft.closes_on).bind(token).bind(account_id).bind(now())
        .fetch_one(p).await?);
        Ok(id)
    }

    /// Surveys whose area lies within `area` (or all), newest first.
    pub async fn surveys(&self, area: Option<&DivisionCode>, page: PageRequest) -> Result<Page<Survey>> {
        let prefix = format!("{}%", area.map(area_prefix).unwrap_or(""));
        let items: Vec<Survey> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_SURVEY} WHERE s.area_code LIKE $1 ORDER BY s.id DESC LIMIT $2 OFFSET $3"
        ))).bind(&prefix).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(t) => t,
            None => {
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
                    "SELECT COUNT(*) FROM surveys WHERE area_code LIKE $1",
                ).bind(&prefix).fetch_one(p).await?);
                n
            }
        };
        Ok(page.wrap(items, total))
    }

    /// A survey of `area` (staff see only their area's; another area's is not found).
    pub async fn survey_in(&self, id: i64, area: Option<&DivisionCode>) -> Result<Survey> {
        let survey: Option<Survey> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_SURVEY} WHERE s.id = $1"))).bind(id).fetch_optional(p).await?);
        survey.filter(|s| area.is_none_or(|a| s.area().is_some_and(|sa| sa.is_within(a)))).ok_or(StoreError::NotFound)
    }

    /// A survey by the token of its link.
    pub async fn survey_by_link(&self, token: &str) -> Result<Survey> {
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::NotFound);
        }
        let survey: Option<Survey> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_SURVEY} WHERE s.link_token = $1")))
            .bind(token).fetch_optional(p).await?);
        survey.ok_or(StoreError::NotFound)
    }

    pub async fn close_survey(&self, id: i64, area: &DivisionCode) -> Result<()> {
        let survey = self.survey_in(id, Some(area)).await?;
        on_pool!(self, p => sqlx::query("UPDATE surveys SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
            .bind(now()).bind(survey.id).execute(p).await?.rows_affected());
        Ok(())
    }

    /// Whether this resident's household has answered.
    pub async fn has_answered(&self, survey_id: i64, account_id: i64) -> Result<bool> {
        let found: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT a.id FROM survey_answers a JOIN accounts u ON u.phone_hash = a.household_hash
             WHERE a.survey_id = $1 AND u.id = $2",
        ).bind(survey_id).bind(account_id).fetch_optional(p).await?);
        Ok(found.is_some())
    }

    /// Takes a household's answer: the survey must be open on `today`, the community within its
    /// area, and the household (the resident's phone) must not have answered yet (409).
    pub async fn answer_survey(
        &self,
        survey: &Survey,
        account_id: i64,
        community: &DivisionCode,
        answer: &Answer,
        today: NaiveDate,
    ) -> Result<i64> {
        refuse_unless_open(survey.state(today), survey.opens_on, survey.closes_on)
            .map_err(|e| StoreError::Invalid(FieldErrors(vec![e.at("survey")])))?;
        if !survey.area().is_some_and(|a| community.is_within(&a)) {
            return Err(StoreError::Invalid(FieldErrors(vec![
                Invalid::new(
                    "outside_survey",
                    format!("所选社区不在本次调查范围（{}）内", survey.area_name),
                    format!("is outside this survey's area ({})", survey.area_name),
                )
                .at("community"),
            ])));
        }
        self.require_divisions(&[(community.as_str(), "community")]).await?;
        let household: Option<(Option<Vec<u8>>,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT phone_hash FROM accounts WHERE id = $1 AND role = 'resident'",
        ).bind(account_id).fetch_optional(p).await?);
        let Some((Some(household),)) = household else {
            return Err(StoreError::Invalid(FieldErrors(vec![
                Invalid::new(
                    "phone_needed",
                    "请先用手机号登录，每户凭手机号填写一次",
                    "Sign in with your phone first: one answer per household's phone",
                )
                .at("survey"),
            ])));
        };
        let tally = Demand::of(answer);
        let inserted: std::result::Result<i64, sqlx::Error> = on_pool!(self, p => async {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO survey_answers (survey_id, household_hash, account_id, community_code, services, frequency,
                     price_min_fen, price_max_fen, times, care, note, answered_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(survey.id).bind(household).bind(account_id).bind(community.as_str()).bind(answer.services)
            .bind(answer.frequency.map(|f| f.as_str())).bind(answer.price_min_fen).bind(answer.price_max_fen)
            .bind(answer.times).bind(answer.care).bind(&answer.note).bind(now())
            .fetch_one(&mut *tx).await?;
            let mut add = sqlx::QueryBuilder::new(TALLY_INSERT.as_str());
            push_tally(&mut add, survey.id, community.as_str(), &tally);
            add.push(tally_upsert());
            add.build().execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(id)
        }.await);
        match inserted {
            Ok(id) => Ok(id),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(StoreError::Conflict { what: "survey_answer", existing_id: None })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Each community's demand in a survey, from the running totals: one row per community.
    pub async fn survey_demand(&self, survey_id: i64) -> Result<Vec<CommunityDemand>> {
        let sql = format!(
            "SELECT community_code, {} FROM survey_tallies WHERE survey_id = $1 ORDER BY community_code",
            TALLY_COLUMNS.join(", ")
        );
        self.demand_rows(sql, survey_id).await
    }

    /// Each community's demand counted again from the answers themselves, in one scan: what the
    /// running totals must equal (`jiazheng` tests it; a repair could rebuild from it).
    pub async fn survey_demand_recount(&self, survey_id: i64) -> Result<Vec<CommunityDemand>> {
        let bits = |column: &str, n: usize| {
            (0..n).map(|i| format!("CAST(SUM(({column} >> {i}) & 1) AS BIGINT)")).collect::<Vec<_>>()
        };
        let mut columns = vec!["community_code".to_string(), "CAST(COUNT(*) AS BIGINT)".into()];
        columns.extend(bits("services", CatalogItem::ALL.len()));
        columns.extend(
            Frequency::ALL
                .iter()
                .map(|f| format!("CAST(SUM(CASE WHEN frequency = '{}' THEN 1 ELSE 0 END) AS BIGINT)", f.as_str())),
        );
        columns.extend(bits("times", TimeOfDay::ALL.len()));
        columns.extend(bits("care", CareFor::ALL.len()));
        columns.push("CAST(COUNT(price_max_fen) AS BIGINT)".into());
        columns.push("CAST(COALESCE(SUM(price_min_fen), 0) AS BIGINT)".into());
        columns.push("CAST(COALESCE(SUM(price_max_fen), 0) AS BIGINT)".into());
        let sql = format!(
            "SELECT {} FROM survey_answers WHERE survey_id = $1 GROUP BY community_code ORDER BY community_code",
            columns.join(", ")
        );
        self.demand_rows(sql, survey_id).await
    }

    /// Rows of (community, households, the choices' counts, prices) as `Demand`s.
    async fn demand_rows(&self, sql: String, survey_id: i64) -> Result<Vec<CommunityDemand>> {
        on_pool!(self, p => {
            use sqlx::Row;
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(survey_id).fetch_all(p).await?;
            rows.iter()
                .map(|row| {
                    let mut next = 2usize;
                    let mut take = |n: usize| -> std::result::Result<Vec<i64>, sqlx::Error> {
                        let v = (next..next + n).map(|i| row.try_get::<i64, usize>(i)).collect();
                        next += n;
                        v
                    };
                    let demand = Demand {
                        households: row.try_get::<i64, usize>(1)?,
                        services: take(CatalogItem::ALL.len())?,
                        frequency: take(Frequency::ALL.len())?,
                        times: take(TimeOfDay::ALL.len())?,
                        care: take(CareFor::ALL.len())?,
                        priced: take(1)?[0],
                        price_min_sum_fen: take(1)?[0],
                        price_max_sum_fen: take(1)?[0],
                    };
                    Ok(CommunityDemand { community_code: row.try_get::<String, usize>(0)?, demand })
                })
                .collect::<Result<Vec<_>>>()
        })
    }
}

/// Adds communities' demand up by the first `digits` of their codes (6: districts, 9: streets),
/// keeping the order of the codes.
pub fn roll_up(rows: &[CommunityDemand], digits: usize) -> Vec<CommunityDemand> {
    let mut out: Vec<CommunityDemand> = Vec::new();
    for row in rows {
        let code = format!("{:0<12}", &row.community_code[..digits.min(row.community_code.len())]);
        match out.last_mut() {
            Some(last) if last.community_code == code => last.demand.add(&row.demand),
            _ => out.push(CommunityDemand { community_code: code, demand: row.demand.clone() }),
        }
    }
    out
}

/// One answer written in bulk (benchmarks and imports of paper surveys): the household's key is
/// given, not looked up.
#[derive(Debug, Clone)]
pub struct BulkAnswer {
    pub household: [u8; 16],
    pub community_code: String,
    pub answer: Answer,
}

impl Store {
    /// Writes answers in multi-row statements inside one transaction: all or none.
    pub async fn bulk_survey_answers(&self, survey_id: i64, answers: &[BulkAnswer]) -> Result<()> {
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in answers.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO survey_answers (survey_id, household_hash, community_code, services, frequency,
                         price_min_fen, price_max_fen, times, care, answered_at) ",
                );
                qb.push_values(chunk, |mut row, a| {
                    row.push_bind(survey_id)
                        .push_bind(a.household.to_vec())
                        .push_bind(a.community_code.clone())
                        .push_bind(a.answer.services)
                        .push_bind(a.answer.frequency.map(|f| f.as_str()))
                        .push_bind(a.answer.price_min_fen)
                        .push_bind(a.answer.price_max_fen)
                        .push_bind(a.answer.times)
                        .push_bind(a.answer.care)
                        .push_bind(at);
                });
                qb.build().execute(&mut *tx).await?;
                let mut sums: std::collections::BTreeMap<&str, Demand> = std::collections::BTreeMap::new();
                for a in chunk {
                    sums.entry(a.community_code.as_str()).or_default().add(&Demand::of(&a.answer));
                }
                for (community, demand) in sums {
                    let mut add = sqlx::QueryBuilder::new(TALLY_INSERT.as_str());
                    push_tally(&mut add, survey_id, community, &demand);
                    add.push(tally_upsert());
                    add.build().execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

/// The running totals' count columns, in `Demand`'s order.
static TALLY_COLUMNS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let mut columns = vec!["households".to_string()];
    let each = |prefix: &'static str, n: usize| (0..n).map(move |i| format!("{prefix}{i}"));
    columns.extend(each("s", CatalogItem::ALL.len()));
    columns.extend(each("f", Frequency::ALL.len()));
    columns.extend(each("t", TimeOfDay::ALL.len()));
    columns.extend(each("c", CareFor::ALL.len()));
    columns.extend(["priced", "price_min_sum_fen", "price_max_sum_fen"].map(String::from));
    columns
});

static TALLY_INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("INSERT INTO survey_tallies (survey_id, community_code, {}) ", TALLY_COLUMNS.join(", "))
});

/// Adds to an existing row rather than replacing it.
fn tally_upsert() -> String {
    let sets: Vec<String> = TALLY_COLUMNS.iter().map(|c| format!("{c} = survey_tallies.{c} + excluded.{c}")).collect();
    format!(" ON CONFLICT (survey_id, community_code) DO UPDATE SET {}", sets.join(", "))
}

fn push_tally<DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<DB>, survey_id: i64, community: &str, d: &Demand)
where
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let counts = std::iter::once(d.households)
        .chain(d.services.iter().copied())
        .chain(d.frequency.iter().copied())
        .chain(d.times.iter().copied())
        .chain(d.care.iter().copied())
        .chain([d.priced, d.price_min_sum_fen, d.price_max_sum_fen]);
    qb.push("VALUES (").push_bind(survey_id).push(", ").push_bind(community.to_string());
    for n in counts {
        qb.push(", ").push_bind(n);
    }
    qb.push(")");
}
