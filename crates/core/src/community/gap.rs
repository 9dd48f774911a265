//! The gap between demand (households that asked for a service in a survey) and supply (agencies
//! whose open points serve the community and whose menu sells that service).

use crate::choice;

choice!(
    /// How demand and supply of one service meet in one community.
    GapKind {
        DemandWithoutSupply = ("demand_only", "有需求、无供给", "Demand, no supply"),
        PricedAbove = ("priced_above", "有供给，但价格高于居民可接受价", "Supplied above the price residents accept"),
        Met = ("met", "供需相符", "Demand met"),
        SupplyWithoutDemand = ("supply_only", "有供给、无需求", "Supply, no demand"),
    }
);

/// What is known of one service in one community.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cell {
    /// Households that asked for it.
    pub households: u32,
    /// Agencies that offer it there.
    pub agencies: u32,
    /// The middle of what those households said they would pay per hour at most (fen).
    pub accepted_per_hour_fen: Option<i64>,
    /// The cheapest published per-hour price there (fen).
    pub cheapest_per_hour_fen: Option<i64>,
}

impl Cell {
    /// `None` when there is neither demand nor supply.
    pub fn kind(&self) -> Option<GapKind> {
        match (self.households, self.agencies) {
            (0, 0) => None,
            (_, 0) => Some(GapKind::DemandWithoutSupply),
            (0, _) => Some(GapKind::SupplyWithoutDemand),
            _ => match (self.accepted_per_hour_fen, self.cheapest_per_hour_fen) {
                (Some(accepted), Some(cheapest)) if cheapest > accepted => Some(GapKind::PricedAbove),
                _ => Some(GapKind::Met),
            },
        }
    }
}

/// The median of some values (the lower middle of an even count), or `None` when there are none.
pub fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_gap() {
        let c = |households, agencies, accepted, cheapest| Cell {
            households,
            agencies,
            accepted_per_hour_fen: accepted,
            cheapest_per_hour_fen: cheapest,
        };
        assert_eq!(c(0, 0, None, None).kind(), None);
        assert_eq!(c(3, 0, Some(4000), None).kind(), Some(GapKind::DemandWithoutSupply));
        assert_eq!(c(0, 2, None, Some(5000)).kind(), Some(GapKind::SupplyWithoutDemand));
        assert_eq!(c(3, 2, Some(4000), Some(5000)).kind(), Some(GapKind::PricedAbove));
        assert_eq!(c(3, 2, Some(5000), Some(5000)).kind(), Some(GapKind::Met));
        // Sold only per visit: no hourly price to compare, the demand is met.
        assert_eq!(c(3, 2, Some(4000), None).kind(), Some(GapKind::Met));
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
    }
}
