//! The plan's three targets and the figures kept beside them, as counts over counts so that a
//! district's and the city's figures add up exactly and "at least 90%" is decided without
//! rounding.

use crate::choice;

choice!(
    /// A figure the plan asks the city to watch.
    Metric {
        BrandedEmployeeAgencies = ("branded_employee_agencies", "品牌化员工制家政企业", "Branded employee-based agencies"),
        CommunityCoverage = ("community_coverage", "社区家政网点覆盖率（社区）", "Service-point coverage (urban communities)"),
        VillageCoverage = ("village_coverage", "网点覆盖率（全部村级单位）", "Service-point coverage (all village-level units)"),
        RelatedEducation = ("related_education", "接受过家政相关学历教育的从业人员", "Workers with related formal education"),
        EmployeeShare = ("employee_share", "员工制从业人员占比", "Employee-based share of workers"),
        PreJobTraining = ("pre_job_training", "岗前培训率", "Pre-job training"),
        RetrainingCurrent = ("retraining_current", "两年内回炉培训率", "Retraining within two years"),
        HealthValid = ("health_valid", "体检有效率", "Valid health checks"),
        Insured = ("insured", "保险有效率", "Valid insurance"),
        Certified = ("certified", "持证率", "Holding a certificate"),
        ModelContracts = ("model_contracts", "员工制企业规范合同使用率", "Model contracts in employee-based agencies"),
        ComplaintRate = ("complaint_rate", "投诉率（每千单）", "Complaints per 1,000 services"),
        ResolveDays = ("resolve_days", "投诉平均办结天数", "Average days to resolve a complaint"),
        PricePublished = ("price_published", "明码标价企业占比", "Agencies publishing prices"),
    }
);

/// How a figure is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A number of things (agencies).
    Count,
    /// A share: numerator over denominator, shown in per cent.
    Share,
    /// Per thousand.
    PerMille,
    /// An average: numerator (hours in total) over denominator (cases), shown in days.
    AverageDays,
}

/// What the plan asks of a figure, where it asks anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// At least this many.
    AtLeast(i64),
    /// At least this share, in per cent (exact: `numerator * 100 >= percent * denominator`).
    ShareAtLeast(i64),
}

impl Metric {
    pub fn shape(self) -> Shape {
        match self {
            Metric::BrandedEmployeeAgencies => Shape::Count,
            Metric::ComplaintRate => Shape::PerMille,
            Metric::ResolveDays => Shape::AverageDays,
            _ => Shape::Share,
        }
    }

    /// The plan's own numbers: targets 1-3 and full use of model contracts by the end of 2022.
    pub fn target(self) -> Option<Target> {
        match self {
            Metric::BrandedEmployeeAgencies => Some(Target::AtLeast(3)),
            Metric::CommunityCoverage => Some(Target::ShareAtLeast(90)),
            Metric::RelatedEducation => Some(Target::ShareAtLeast(10)),
            Metric::ModelContracts => Some(Target::ShareAtLeast(100)),
            _ => None,
        }
    }

    /// Which of the plan's three targets this is.
    pub fn target_number(self) -> Option<u8> {
        match self {
            Metric::BrandedEmployeeAgencies => Some(1),
            Metric::CommunityCoverage => Some(2),
            Metric::RelatedEducation => Some(3),
            _ => None,
        }
    }

    /// Whether a higher figure is better (for the chart's colour and the report's wording).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Metric::ComplaintRate | Metric::ResolveDays)
    }
}

/// One figure of one area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figure {
    pub metric: Metric,
    pub numerator: i64,
    pub denominator: i64,
}

impl Figure {
    pub fn new(metric: Metric, numerator: i64, denominator: i64) -> Self {
        Self { metric, numerator, denominator }
    }

    /// The figure as a number to draw: a count, per cent, per mille or days. `None` when there is
    /// nothing to divide by.
    pub fn value(&self) -> Option<f64> {
        let (n, d) = (self.numerator as f64, self.denominator as f64);
        match self.metric.shape() {
            Shape::Count => Some(n),
            _ if self.denominator == 0 => None,
            Shape::Share => Some(n * 100.0 / d),
            Shape::PerMille => Some(n * 1000.0 / d),
            Shape::AverageDays => Some(n / d / 24.0),
        }
    }

    /// Whether the plan's target is met; `None` where the plan sets none. A share target with
    /// nothing counted is not met.
    pub fn met(&self) -> Option<bool> {
        Some(match self.metric.target()? {
            Target::AtLeast(n) => self.numerator >= n,
            Target::ShareAtLeast(percent) => {
                self.denominator > 0
                    && i128::from(self.numerator) * 100 >= i128::from(percent) * i128::from(self.denominator)
            }
        })
    }

    /// The figure in words: "3 家", "91.2%", "1.4‰", "2.5 天".
    pub fn display(&self, english: bool) -> String {
        match (self.metric.shape(), self.value()) {
            (_, None) => "—".into(),
            (Shape::Count, Some(v)) => {
                if english {
                    format!("{v:.0}")
                } else {
                    format!("{v:.0} 家")
                }
            }
            // Rounded down, as coverage is: 89.96% never reads as the 90% it has not reached.
            (Shape::Share, Some(_)) => {
                let tenths = i128::from(self.numerator) * 1000 / i128::from(self.denominator);
                format!("{}.{}%", tenths / 10, tenths % 10)
            }
            (Shape::PerMille, Some(v)) => format!("{v:.2}‰"),
            (Shape::AverageDays, Some(v)) => {
                if english {
                    format!("{v:.1} days")
                } else {
                    format!("{v:.1} 天")
                }
            }
        }
    }

    /// The target in words, or empty.
    pub fn target_display(&self, english: bool) -> String {
        match self.metric.target() {
            None => String::new(),
            Some(Target::AtLeast(n)) if english => format!("≥ {n}"),
            Some(Target::AtLeast(n)) => format!("≥ {n} 家"),
            Some(Target::ShareAtLeast(p)) => format!("≥ {p}%"),
        }
    }
}

/// One agency's standing towards target 1.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgencyShare {
    pub agency_id: i64,
    pub active: i64,
    pub active_employee: i64,
    /// Recognised by the city as a brand and not withdrawn.
    pub branded: bool,
}

impl AgencyShare {
    /// Employee-based workers are more than half the agency's active workers (the plan's "超过50%":
    /// exactly half does not pass).
    pub fn employee_based(&self) -> bool {
        self.active > 0 && self.active_employee * 2 > self.active
    }

    /// Counts towards target 1.
    pub fn passes(&self) -> bool {
        self.branded && self.employee_based()
    }

    /// The share in per mille, rounded down, for sorting and showing.
    pub fn per_mille(&self) -> i64 {
        if self.active == 0 { 0 } else { self.active_employee * 1000 / self.active }
    }
}

/// Target 1 over a set of agencies.
pub fn target_one<'a>(agencies: impl IntoIterator<Item = &'a AgencyShare>) -> Figure {
    let (mut passing, mut branded) = (0, 0);
    for a in agencies {
        branded += i64::from(a.branded);
        passing += i64::from(a.passes());
    }
    Figure::new(Metric::BrandedEmployeeAgencies, passing, branded)
}

/// The employee-based share of all active bindings over a set of agencies.
pub fn employee_share<'a>(agencies: impl IntoIterator<Item = &'a AgencyShare>) -> Figure {
    let (mut employee, mut active) = (0, 0);
    for a in agencies {
        employee += a.active_employee;
        active += a.active;
    }
    Figure::new(Metric::EmployeeShare, employee, active)
}

/// A month as the series keys it: "2026-12".
pub fn month_key(day: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:04}-{:02}", day.year(), day.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(active: i64, employee: i64, branded: bool) -> AgencyShare {
        AgencyShare { agency_id: 1, active, active_employee: employee, branded }
    }

    #[test]
    fn exactly_half_is_not_employee_based() {
        assert!(!share(10, 5, true).passes());
        assert!(share(10, 6, true).passes());
        assert!(share(11, 6, true).passes());
        assert!(!share(0, 0, true).employee_based());
        assert!(!share(10, 10, false).passes(), "not a recognised brand");
    }

    #[test]
    fn target_one_counts_branded_employee_based_agencies() {
        let agencies = [share(4, 3, true), share(2, 2, true), share(3, 2, true), share(2, 1, true), share(9, 9, false)];
        let figure = target_one(&agencies);
        assert_eq!((figure.numerator, figure.denominator), (3, 4));
        assert_eq!(figure.met(), Some(true));
        let figure = target_one(&agencies[1..]);
        assert_eq!(figure.numerator, 2);
        assert_eq!(figure.met(), Some(false));
    }

    #[test]
    fn share_targets_are_exact() {
        assert_eq!(Figure::new(Metric::CommunityCoverage, 900, 1000).met(), Some(true));
        assert_eq!(Figure::new(Metric::CommunityCoverage, 899, 1000).met(), Some(false));
        // 2,518.2 of 2,798 would be 90%: 2,518 is short.
        assert_eq!(Figure::new(Metric::CommunityCoverage, 2518, 2798).met(), Some(false));
        assert_eq!(Figure::new(Metric::CommunityCoverage, 2519, 2798).met(), Some(true));
        assert_eq!(Figure::new(Metric::RelatedEducation, 0, 0).met(), Some(false));
        assert_eq!(Figure::new(Metric::Insured, 1, 2).met(), None);
    }

    #[test]
    fn figures_read_in_words() {
        assert_eq!(Figure::new(Metric::CommunityCoverage, 912, 1000).display(false), "91.2%");
        assert_eq!(Figure::new(Metric::BrandedEmployeeAgencies, 3, 7).display(false), "3 家");
        assert_eq!(Figure::new(Metric::ComplaintRate, 3, 2000).display(true), "1.50‰");
        assert_eq!(Figure::new(Metric::ResolveDays, 60, 1).display(true), "2.5 days");
        assert_eq!(Figure::new(Metric::Insured, 0, 0).display(true), "—");
        assert_eq!(Figure::new(Metric::CommunityCoverage, 1, 2).target_display(false), "≥ 90%");
    }

    #[test]
    fn shares_add_up() {
        let agencies = [share(4, 3, true), share(6, 1, false)];
        let figure = employee_share(&agencies);
        assert_eq!((figure.numerator, figure.denominator), (4, 10));
    }

    #[test]
    fn months_are_keys() {
        assert_eq!(month_key(chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()), "2026-03");
    }
}
