//! The catalog: the service items of national practice, each tied to the skill a worker offers
//! (`ServiceKind`) and so to what the workforce rules ask of whoever is sent.

use crate::choice;
use crate::registry::ServiceKind;
use crate::workforce::compliance::Requirement;
use crate::workforce::{SkillLevel, Trade};

choice!(
    /// What a resident can book.
    CatalogItem {
        DailyCleaning = ("daily_cleaning", "日常保洁", "Daily cleaning"),
        DeepCleaning = ("deep_cleaning", "深度保洁", "Deep cleaning"),
        MoveInCleaning = ("move_in_cleaning", "开荒保洁", "Post-renovation cleaning"),
        Organising = ("organising", "收纳整理", "Organising"),
        ApplianceCleaning = ("appliance_cleaning", "家电清洗", "Appliance cleaning"),
        Cooking = ("cooking", "家庭烹饪", "Home cooking"),
        HourlyHelp = ("hourly_help", "钟点工", "Hourly helper"),
        Maternity = ("maternity", "母婴护理（月嫂）", "Maternity nurse (yuesao)"),
        Childcare = ("childcare", "育婴（育儿嫂）", "Childcare (nanny)"),
        ElderlyCare = ("elderly_care", "居家养老照护", "Elderly care at home"),
        PatientCare = ("patient_care", "病患陪护", "Patient care"),
        LiveIn = ("live_in", "住家保姆", "Live-in helper"),
    }
);

choice!(
    /// How an item is sold.
    PriceMode {
        PerItem = ("per_item", "按次（点单式）", "Per visit"),
        PerHour = ("per_hour", "按小时（分时段）", "Per hour"),
        Package = ("package", "套餐（按天）", "Package (whole days)"),
    }
);

impl CatalogItem {
    /// The skill a worker must offer to be sent for this item.
    pub fn service(self) -> ServiceKind {
        use CatalogItem::*;
        match self {
            DailyCleaning | HourlyHelp => ServiceKind::Cleaning,
            DeepCleaning | MoveInCleaning => ServiceKind::DeepCleaning,
            Organising => ServiceKind::Laundry,
            ApplianceCleaning => ServiceKind::ApplianceCleaning,
            Cooking => ServiceKind::Cooking,
            Maternity => ServiceKind::Maternity,
            Childcare => ServiceKind::Childcare,
            ElderlyCare => ServiceKind::ElderlyCare,
            PatientCare => ServiceKind::PatientCare,
            LiveIn => ServiceKind::LiveIn,
        }
    }

    /// The ways this item may be sold: home-stay care comes in whole days; visits by the job or
    /// the hour; care at home either way.
    pub fn modes(self) -> &'static [PriceMode] {
        use CatalogItem::*;
        match self {
            Maternity | LiveIn => &[PriceMode::Package],
            Childcare | ElderlyCare | PatientCare => &[PriceMode::PerHour, PriceMode::Package],
            HourlyHelp => &[PriceMode::PerHour],
            DailyCleaning | Cooking => &[PriceMode::PerItem, PriceMode::PerHour],
            DeepCleaning | MoveInCleaning | Organising | ApplianceCleaning => &[PriceMode::PerItem],
        }
    }

    /// The trade whose level a package may ask for (金牌月嫂: 三级 母婴护理员).
    pub fn trade(self) -> Option<Trade> {
        match self {
            CatalogItem::Maternity | CatalogItem::Childcare => Some(Trade::Maternity),
            CatalogItem::ElderlyCare | CatalogItem::PatientCare => Some(Trade::HomeCare),
            _ => None,
        }
    }

    /// What a worker needs to be sent for this item, at `level` when the menu asks for one.
    pub fn requirement(self, level: Option<SkillLevel>) -> Requirement {
        let base = Requirement::for_service(self.service());
        match (self.trade(), level) {
            (Some(trade), Some(level)) => base.with_level(trade, level),
            _ => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workforce::HealthCategory;
    use crate::workforce::compliance::Accepts;

    #[test]
    fn every_item_has_a_mode_and_maps_to_the_rules_of_its_service() {
        assert_eq!(CatalogItem::ALL.len(), 12);
        for item in CatalogItem::ALL {
            assert!(!item.modes().is_empty(), "{item:?}");
        }
        assert_eq!(CatalogItem::DailyCleaning.requirement(None).health, HealthCategory::InHome);
        assert_eq!(CatalogItem::ApplianceCleaning.requirement(None).health, HealthCategory::General);
        let maternity = CatalogItem::Maternity.requirement(None);
        assert_eq!(maternity.health, HealthCategory::Maternity);
        assert_eq!(maternity.skills, vec![vec![Accepts::Trade(Trade::Maternity, SkillLevel::Level5)]]);
    }

    #[test]
    fn a_package_level_raises_the_certificate_asked_for() {
        let gold = CatalogItem::Maternity.requirement(Some(SkillLevel::Level3));
        assert_eq!(gold.skills, vec![vec![Accepts::Trade(Trade::Maternity, SkillLevel::Level3)]]);
        // Cleaning has no trade level: a level asked for changes nothing.
        assert!(CatalogItem::DailyCleaning.requirement(Some(SkillLevel::Level3)).skills.is_empty());
    }

    #[test]
    fn items_parse_from_codes_and_labels() {
        assert_eq!(CatalogItem::parse("日常保洁").unwrap(), CatalogItem::DailyCleaning);
        assert_eq!(CatalogItem::parse("live_in").unwrap(), CatalogItem::LiveIn);
        assert!(CatalogItem::parse("massage").is_err());
    }
}
