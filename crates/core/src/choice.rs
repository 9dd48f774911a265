//! Closed vocabularies (business models, services, roles ...) share one shape: a stable code
//! stored in the database and sent over the API, and a label in each language.

/// Declares an enum whose variants carry a code, a Chinese label and an English label.
#[macro_export]
macro_rules! choice {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = ($code:literal, $zh:literal, $en:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $code)] $variant),+ }

        // Written out rather than derived: the derive does not see the codes through this macro
        // and documented the variant names, which the API never sends.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            pub fn label(self, english: bool) -> &'static str {
                if english { self.label_en() } else { self.label_zh() }
            }

            /// The label of a stored code; empty for a code this version does not know.
            pub fn label_of(code: &str, english: bool) -> &'static str {
                Self::ALL.iter().find(|v| v.as_str() == code).map_or("", |v| v.label(english))
            }

            /// Accepts the code or either label, so spreadsheets may use the words people know.
            pub fn parse(raw: &str) -> Result<Self, $crate::field::Invalid> {
                let text = raw.trim();
                if text.is_empty() {
                    return Err($crate::field::Invalid::required());
                }
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == text || v.label_zh() == text || v.label_en().eq_ignore_ascii_case(text))
                    .ok_or_else(|| {
                        let zh: Vec<&str> = Self::ALL.iter().map(|v| v.label_zh()).collect();
                        let en: Vec<&str> = Self::ALL.iter().map(|v| v.label_en()).collect();
                        $crate::field::Invalid::unknown_choice(&zh.join("、"), &en.join(", "))
                    })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::choice!(
        Colour {
            Red = ("red", "红", "Red"),
        }
    );

    #[test]
    fn a_stored_code_reads_as_its_label_and_an_unknown_one_as_nothing() {
        assert_eq!(Colour::label_of("red", false), "红");
        assert_eq!(Colour::label_of("red", true), "Red");
        assert_eq!(Colour::label_of("红", true), "", "labels are not codes");
        assert_eq!(Colour::label_of("purple", true), "");
        assert_eq!(Colour::parse("红").map(Colour::as_str), Ok("red"), "parsing does accept labels");
    }

    #[test]
    fn a_value_outside_the_list_is_answered_with_the_labels_people_read() {
        let refused = crate::registry::worker::EducationLevel::parse("博士后").unwrap_err();
        assert!(
            refused.message_zh.contains("高中") && !refused.message_zh.contains("senior"),
            "{}",
            refused.message_zh
        );
        assert!(!refused.message_en.contains('_'), "{}", refused.message_en);
    }
}
