//! The city's names as people read them: set with the divisions from a configuration file (the
//! shipped divisions come with `data/changchun_city.json`), or derived from the loaded city's
//! division name when no file was given.

use serde::{Deserialize, Serialize};

use crate::{Result, Store, StoreError, on_pool};

/// The shipped divisions' profile.
pub const CHANGCHUN_CITY: &str = include_str!("../../data/changchun_city.json");

row! {
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    pub struct CityProfile {
        #[serde(default)]
        pub name_zh: String,
        #[serde(default)]
        pub name_en: String,
        #[serde(default)]
        pub platform_zh: String,
        #[serde(default)]
        pub platform_en: String,
        #[serde(default)]
        pub regulator_zh: String,
        #[serde(default)]
        pub regulator_en: String,
    }
}

impl CityProfile {
    /// Reads a profile file (JSON with the fields above, any of them may be left out) and fills
    /// what it leaves out from the city's Chinese name.
    pub fn from_json(bytes: &[u8], city_name: &str) -> Result<Self> {
        let read: CityProfile = serde_json::from_slice(bytes)
            .map_err(|e| StoreError::File(format!("the city configuration is not valid JSON: {e}")))?;
        read.filled(city_name)
    }

    /// Fills empty names from `city_name` and checks their lengths.
    pub fn filled(mut self, city_name: &str) -> Result<Self> {
        let pick =
            |value: &str, default: String| if value.trim().is_empty() { default } else { value.trim().to_string() };
        self.name_zh = pick(&self.name_zh, city_name.to_string());
        self.name_en = pick(&self.name_en, self.name_zh.clone());
        self.platform_zh = pick(&self.platform_zh, format!("{}家政服务平台", self.name_zh.trim_end_matches('市')));
        self.platform_en = pick(&self.platform_en, format!("{} Home Services", self.name_en));
        self.regulator_zh = pick(&self.regulator_zh, format!("{}商务局", self.name_zh));
        self.regulator_en = pick(&self.regulator_en, format!("{} Bureau of Commerce", self.name_en));
        let limits = [
            (&self.name_zh, 40),
            (&self.name_en, 60),
            (&self.platform_zh, 40),
            (&self.platform_en, 80),
            (&self.regulator_zh, 40),
            (&self.regulator_en, 80),
        ];
        if limits.iter().any(|(v, max)| v.chars().count() > *max) {
            return Err(StoreError::File("a name in the city configuration is too long".into()));
        }
        Ok(self)
    }
}

impl Store {
    /// The city's names: the stored profile, or names derived from the loaded city's division.
    pub async fn city_profile(&self) -> Result<CityProfile> {
        let stored: Option<CityProfile> = on_pool!(self, p => sqlx::query_as(
            "SELECT name_zh, name_en, platform_zh, platform_en, regulator_zh, regulator_en FROM city_profile WHERE id = 1",
        ).fetch_optional(p).await?);
        match stored {
            Some(profile) => Ok(profile),
            None => CityProfile::default().filled(&self.city().await?.name),
        }
    }

    pub async fn set_city_profile(&self, profile: &CityProfile) -> Result<()> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO city_profile (id, name_zh, name_en, platform_zh, platform_en, regulator_zh, regulator_en)
             VALUES (1, $1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
                 platform_zh = excluded.platform_zh, platform_en = excluded.platform_en,
                 regulator_zh = excluded.regulator_zh, regulator_en = excluded.regulator_en",
        )
        .bind(&profile.name_zh).bind(&profile.name_en).bind(&profile.platform_zh).bind(&profile.platform_en)
        .bind(&profile.regulator_zh).bind(&profile.regulator_en)
        .execute(p).await?.rows_affected());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_names_come_from_the_city() {
        let p = CityProfile::from_json(br#"{"name_en": "Jilin"}"#, "吉林市").unwrap();
        assert_eq!(p.platform_zh, "吉林家政服务平台");
        assert_eq!(p.platform_en, "Jilin Home Services");
        assert_eq!(p.regulator_zh, "吉林市商务局");
        let shipped = CityProfile::from_json(CHANGCHUN_CITY.as_bytes(), "x").unwrap();
        assert_eq!(shipped.name_zh, "长春市");
        assert!(CityProfile::from_json(b"{", "x").is_err());
        assert!(
            CityProfile::from_json(format!(r#"{{"platform_zh": "{}"}}"#, "家".repeat(41)).as_bytes(), "x").is_err()
        );
    }
}
