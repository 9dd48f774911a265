//! Divisions come from a statistical CSV (one row per village-level unit); the city,
//! districts and streets are derived from its columns.

use std::collections::BTreeMap;
use std::io::Read;

use jiazheng_core::division::{DivisionCode, DivisionLevel, UnitType};
use jiazheng_core::field::Invalid;
use serde::{Deserialize, Serialize};

use crate::{Result, Store, StoreError, on_pool};

/// Changchun's divisions, shipped with the binary (see data/README.md for the source).
pub const CHANGCHUN_DIVISIONS: &str = include_str!("../../data/changchun_divisions.csv");

#[derive(Debug, Deserialize)]
struct CsvRow {
    district_code: String,
    district_name: String,
    street_code: String,
    street_name: String,
    community_code: String,
    community_name: String,
    unit_type: String,
    #[serde(default)]
    urban_rural_code: String,
}

row! {
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Division {
        pub code: String,
        pub name: String,
        pub level: String,
        pub parent_code: Option<String>,
        pub unit_type: Option<String>,
        pub urban_rural_code: Option<String>,
    }
}

/// How many divisions of each kind a load holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DivisionCounts {
    pub districts: usize,
    pub streets: usize,
    pub communities: usize,
    pub village_committees: usize,
    pub other_units: usize,
}

impl DivisionCounts {
    pub fn village_level_units(&self) -> usize {
        self.communities + self.village_committees + self.other_units
    }
}

/// Parses the CSV into divisions, parents first; a bad row is named by its line.
pub fn parse_divisions_csv(reader: impl Read, city_name: &str) -> Result<(Vec<Division>, DivisionCounts)> {
    let mut csv = csv::Reader::from_reader(reader);
    let mut parents: BTreeMap<String, Division> = BTreeMap::new();
    let mut units = Vec::new();
    let mut counts = DivisionCounts::default();
    let bad = |line: usize, what: &str, invalid: Invalid| {
        StoreError::File(format!("line {line}: {what}: {}", invalid.message_en))
    };
    for (index, row) in csv.deserialize::<CsvRow>().enumerate() {
        let line = index + 2;
        let row = row.map_err(|e| StoreError::File(format!("line {line}: {e}")))?;
        let district = DivisionCode::parse(&row.district_code).map_err(|e| bad(line, "district_code", e))?;
        let street = DivisionCode::parse(&row.street_code).map_err(|e| bad(line, "street_code", e))?;
        let unit = DivisionCode::parse(&row.community_code).map_err(|e| bad(line, "community_code", e))?;
        let unit_type = UnitType::parse(&row.unit_type).map_err(|e| bad(line, "unit_type", e))?;
        if unit.level() != DivisionLevel::Community || unit.street() != street || street.district() != district {
            return Err(StoreError::File(format!("line {line}: the codes do not nest (district > street > unit)")));
        }
        let city = format!("{}00000000", &district.as_str()[..4]);
        parents.entry(city.clone()).or_insert_with(|| division(&city, city_name, DivisionLevel::City, None));
        if !parents.contains_key(district.as_str()) {
            counts.districts += 1;
            let d = division(district.as_str(), &row.district_name, DivisionLevel::District, Some(city));
            parents.insert(district.to_string(), d);
        }
        if !parents.contains_key(street.as_str()) {
            counts.streets += 1;
            let s = division(street.as_str(), &row.street_name, DivisionLevel::Street, Some(district.to_string()));
            parents.insert(street.to_string(), s);
        }
        match unit_type {
            UnitType::Community => counts.communities += 1,
            UnitType::VillageCommittee => counts.village_committees += 1,
            UnitType::Other => counts.other_units += 1,
        }
        units.push(Division {
            unit_type: Some(unit_type.as_str().into()),
            urban_rural_code: Some(row.urban_rural_code.trim().to_string()).filter(|c| !c.is_empty()),
            ..division(unit.as_str(), &row.community_name, DivisionLevel::Community, Some(street.to_string()))
        });
    }
    // Parents must exist before their children (foreign keys), so insert level by level.
    let mut all: Vec<Division> = parents.into_values().collect();
    all.sort_by_key(|d| level_rank(&d.level));
    all.extend(units);
    Ok((all, counts))
}

fn level_rank(level: &str) -> u8 {
    match level {
        "province" => 0,
        "city" => 1,
        "district" => 2,
        "street" => 3,
        _ => 4,
    }
}

fn division(code: &str, name: &str, level: DivisionLevel, parent: Option<String>) -> Division {
    Division {
        code: code.to_string(),
        name: name.trim().to_string(),
        level: level.as_str().to_string(),
        parent_code: parent,
        unit_type: None,
        urban_rural_code: None,
    }
}

impl Store {
    /// Inserts or updates every division in one transaction; running it twice changes nothing.
    pub async fn import_divisions(&self, divisions: &[Division]) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in divisions.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO divisions (code, name, level, parent_code, unit_type, urban_rural_code) ",
                );
                qb.push_values(chunk, |mut row, d| {
                    row.push_bind(d.code.clone()).push_bind(d.name.clone()).push_bind(d.level.clone())
                        .push_bind(d.parent_code.clone()).push_bind(d.unit_type.clone())
                        .push_bind(d.urban_rural_code.clone());
                });
                qb.push(
                    " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                       parent_code = excluded.parent_code, unit_type = excluded.unit_type,
                       urban_rural_code = excluded.urban_rural_code",
                );
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Loads the shipped Changchun divisions when the database has none yet.
    pub async fn ensure_default_divisions(&self) -> Result<()> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM divisions").fetch_one(p).await?);
        if n == 0 {
            let profile = super::city::CityProfile::from_json(super::city::CHANGCHUN_CITY.as_bytes(), "")?;
            let (divisions, _) = parse_divisions_csv(CHANGCHUN_DIVISIONS.as_bytes(), &profile.name_zh)?;
            self.import_divisions(&divisions).await?;
            self.set_city_profile(&profile).await?;
        }
        Ok(())
    }

    pub async fn division(&self, code: &str) -> Result<Division> {
        on_pool!(self, p => sqlx::query_as("SELECT * FROM divisions WHERE code = $1").bind(code).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Children of a division in code order; `None` lists the top level (cities).
    pub async fn child_divisions(&self, parent: Option<&str>) -> Result<Vec<Division>> {
        Ok(on_pool!(self, p => match parent {
            Some(code) => sqlx::query_as("SELECT * FROM divisions WHERE parent_code = $1 ORDER BY code").bind(code).fetch_all(p).await?,
            None => sqlx::query_as("SELECT * FROM divisions WHERE level = 'city' ORDER BY code").fetch_all(p).await?,
        }))
    }

    /// The city the platform serves: the one whose divisions are loaded.
    pub async fn city(&self) -> Result<Division> {
        on_pool!(self, p => sqlx::query_as("SELECT * FROM divisions WHERE level = 'city' ORDER BY code LIMIT 1")
            .fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)
    }

    pub async fn districts(&self) -> Result<Vec<Division>> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT * FROM divisions WHERE level = 'district' ORDER BY code").fetch_all(p).await?),
        )
    }

    /// Every street (and town) of the city, in code order (so grouped by district).
    pub async fn streets(&self) -> Result<Vec<Division>> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT * FROM divisions WHERE level = 'street' ORDER BY code").fetch_all(p).await?),
        )
    }

    pub async fn division_counts(&self) -> Result<DivisionCounts> {
        let rows: Vec<(String, Option<String>, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT level, unit_type, COUNT(*) FROM divisions GROUP BY level, unit_type",
        ).fetch_all(p).await?);
        let mut counts = DivisionCounts::default();
        for (level, unit_type, n) in rows {
            let n = n as usize;
            match (level.as_str(), unit_type.as_deref()) {
                ("district", _) => counts.districts += n,
                ("street", _) => counts.streets += n,
                ("community", Some("community")) => counts.communities += n,
                ("community", Some("village_committee")) => counts.village_committees += n,
                ("community", _) => counts.other_units += n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Village-level units with their parents' names, for pickers and demo data.
    pub async fn village_units(&self) -> Result<Vec<Division>> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT * FROM divisions WHERE level = 'community' ORDER BY code").fetch_all(p).await?),
        )
    }
}
