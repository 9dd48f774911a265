//! Parsers and the token reader take any input without panicking, and what they accept reads back.

use chrono::NaiveDate;
use jiazheng_core::credit::token;
use jiazheng_core::ids::{Mobile, ResidentId, Uscc};
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn identifier_parsers_never_panic(raw in any::<String>()) {
        let _ = ResidentId::parse(&raw, today());
        let _ = Uscc::parse(&raw);
        let _ = Mobile::parse(&raw);
    }

    #[test]
    fn id_shaped_input_never_panics(raw in "[0-9xX ]{0,24}") {
        if let Ok(id) = ResidentId::parse(&raw, today()) {
            prop_assert_eq!(id.as_str().len(), 18);
            prop_assert!(id.birth_date() <= today());
        }
    }

    #[test]
    fn composed_id_numbers_parse_back(days in 0i64..30_000, seq in 0u16..1000) {
        let birth = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap() + chrono::Duration::days(days);
        prop_assume!(birth <= today());
        let number = ResidentId::compose("220102", birth, seq);
        let id = ResidentId::parse(&number, today()).unwrap();
        prop_assert_eq!(id.birth_date(), birth);
        prop_assert_eq!(id.as_str(), number.as_str());
    }

    #[test]
    fn uscc_shaped_input_never_panics(raw in "[0-9A-Z -]{0,24}") {
        if let Ok(code) = Uscc::parse(&raw) {
            prop_assert_eq!(code.as_str().len(), 18);
        }
    }

    #[test]
    fn token_reader_never_panics_on_text_or_bytes(raw in any::<String>(), bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        use base64::Engine;
        let _ = token::verify(&raw, |_| None);
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        prop_assert!(token::verify(&encoded, |_| None).is_err());
    }
}
