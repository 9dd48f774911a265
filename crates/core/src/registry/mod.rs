//! Who is in the market: agencies, workers, their bindings over time, and service points.

pub mod agency;
pub mod binding;
pub mod service_point;
pub mod worker;

use crate::choice;

choice!(
    /// Services a worker offers and an agency sells. Stored as a bit set so that search by
    /// service is one integer test.
    ServiceKind {
        Cleaning = ("cleaning", "日常保洁", "Cleaning"),
        DeepCleaning = ("deep_cleaning", "深度保洁", "Deep cleaning"),
        Cooking = ("cooking", "家庭烹饪", "Cooking"),
        Laundry = ("laundry", "洗涤收纳", "Laundry and tidying"),
        ElderlyCare = ("elderly_care", "居家养老照护", "Elderly care at home"),
        PatientCare = ("patient_care", "病患陪护", "Patient care"),
        Maternity = ("maternity", "月嫂（母婴护理）", "Maternity nurse (yuesao)"),
        Childcare = ("childcare", "育儿嫂", "Childcare"),
        LiveIn = ("live_in", "住家保姆", "Live-in helper"),
        ApplianceCleaning = ("appliance_cleaning", "家电清洗", "Appliance cleaning"),
    }
);

impl ServiceKind {
    pub fn bit(self) -> i64 {
        let index = Self::ALL.iter().position(|s| *s == self).expect("listed in ALL");
        1 << index
    }
}

/// A set of services, stored as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceSet(i64);

impl ServiceSet {
    pub fn from_bits(bits: i64) -> Self {
        Self(bits)
    }

    pub fn bits(self) -> i64 {
        self.0
    }

    pub fn contains(self, kind: ServiceKind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn kinds(self) -> Vec<ServiceKind> {
        ServiceKind::ALL.iter().copied().filter(|k| self.contains(*k)).collect()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses codes or labels separated by commas, semicolons, 、 or whitespace.
    pub fn parse_list<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, crate::field::Invalid> {
        let mut bits = 0;
        for item in items {
            for part in item.split([',', ';', '，', '；', '、', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
                bits |= ServiceKind::parse(part)?.bit();
            }
        }
        if bits == 0 { Err(crate::field::Invalid::required()) } else { Ok(Self(bits)) }
    }
}

impl FromIterator<ServiceKind> for ServiceSet {
    fn from_iter<I: IntoIterator<Item = ServiceKind>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, k| bits | k.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_sets_round_trip_through_bits_and_labels() {
        let set = ServiceSet::parse_list(["cleaning、月嫂（母婴护理）", " Childcare "]).unwrap();
        assert_eq!(set.kinds(), vec![ServiceKind::Cleaning, ServiceKind::Maternity, ServiceKind::Childcare]);
        assert_eq!(ServiceSet::from_bits(set.bits()), set);
        assert!(!set.contains(ServiceKind::Cooking));
        assert_eq!(ServiceSet::parse_list(["", " "]).unwrap_err().code, "required");
        assert_eq!(ServiceSet::parse_list(["cleaning, flying"]).unwrap_err().code, "unknown_choice");
    }
}
