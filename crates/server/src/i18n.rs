//! The language of a page: Chinese by default, English when the `lang` cookie says so.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn is_en(self) -> bool {
        self == Lang::En
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "zh" | "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The translation of `key`; the city's own names come from its profile.
    pub fn t(self, key: &str) -> String {
        if let Some(text) = city_text(self, key) {
            return text;
        }
        t!(key, locale = self.code()).into_owned()
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// Picks the Chinese or English text of a message that carries both.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        if self.is_en() { en } else { zh }
    }

    pub fn from_parts(parts: &Parts) -> Self {
        CookieJar::from_headers(&parts.headers).get("lang").and_then(|c| Lang::parse(c.value())).unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_parts(parts))
    }
}

/// The city this process serves: one process, one city (its divisions and profile are loaded
/// from the database when the application is built).
static CITY: std::sync::RwLock<Option<jiazheng_store::registry::city::CityProfile>> = std::sync::RwLock::new(None);

pub fn set_city(profile: jiazheng_store::registry::city::CityProfile) {
    if let Ok(mut city) = CITY.write() {
        *city = Some(profile);
    }
}

/// The platform's, the regulator's and the footer's words for the loaded city.
fn city_text(lang: Lang, key: &str) -> Option<String> {
    let city = CITY.read().ok()?;
    let p = city.as_ref()?;
    let en = lang.is_en();
    Some(match key {
        "app.name" => if en { &p.platform_en } else { &p.platform_zh }.clone(),
        "app.regulator" => if en { &p.regulator_en } else { &p.regulator_zh }.clone(),
        "app.footer" if en => {
            format!("{} domestic-services credit and market platform · demo data is synthetic", p.name_en)
        }
        "app.footer" => format!("{}家政服务信用与市场平台 · 数据为合成演示数据", p.name_zh),
        _ => return None,
    })
}

#[cfg(test)]
mod city_tests {
    use super::*;

    #[test]
    fn the_city_names_come_from_its_profile() {
        let profile = jiazheng_store::registry::city::CityProfile::default().filled("吉林市").unwrap();
        set_city(profile);
        assert_eq!(Lang::Zh.t("app.name"), "吉林家政服务平台");
        assert_eq!(Lang::Zh.t("app.regulator"), "吉林市商务局");
        assert!(Lang::Zh.t("app.footer").starts_with("吉林市"));
        assert_eq!(Lang::En.t("nav.market"), t!("nav.market", locale = "en"), "other keys are untouched");
    }
}
