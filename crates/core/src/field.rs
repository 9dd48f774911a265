//! A bad value names its field and says why in both languages, so pages, the API and
//! spreadsheet error reports can all show the same sentence.

use serde::Serialize;

/// Why one value was refused, in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invalid {
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

impl Invalid {
    pub fn new(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { code, message_zh: zh.into(), message_en: en.into() }
    }

    pub fn required() -> Self {
        Self::new("required", "必填项", "is required")
    }

    pub fn too_long(max: usize) -> Self {
        Self::new("too_long", format!("不能超过{max}个字符"), format!("must be at most {max} characters"))
    }

    /// A value outside a closed list, with the list as people read it in each language.
    pub fn unknown_choice(allowed_zh: &str, allowed_en: &str) -> Self {
        Self::new("unknown_choice", format!("取值无效，可选：{allowed_zh}"), format!("is not one of: {allowed_en}"))
    }

    pub fn at(self, field: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), code: self.code, message_zh: self.message_zh, message_en: self.message_en }
    }
}

/// A refused value and the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

/// Collects every problem of a form so the user sees them all at once, not one per submit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Keeps the parsed value, or records why the field was refused.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, Invalid>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(invalid) => {
                self.0.push(invalid.at(field));
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn for_field(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }
}

/// Accepts a JSON number or string for a numeric form field, so API clients may send either;
/// the field's own parser then decides.
pub fn string_or_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Integer(i64),
        Float(f64),
    }
    Ok(match <Raw as serde::Deserialize>::deserialize(deserializer)? {
        Raw::Text(text) => text,
        Raw::Integer(n) => n.to_string(),
        Raw::Float(x) => x.to_string(),
    })
}

/// Trimmed text that must be present and not longer than `max` characters.
pub fn required_text(raw: &str, max: usize) -> Result<String, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::required());
    }
    bounded_text(text, max)
}

/// Trimmed optional text; empty becomes `None`.
pub fn optional_text(raw: &str, max: usize) -> Result<Option<String>, Invalid> {
    let text = raw.trim();
    if text.is_empty() { Ok(None) } else { bounded_text(text, max).map(Some) }
}

/// Trimmed required text of several paragraphs: line breaks kept (as `\n`), other control
/// characters refused as in one-line text.
pub fn required_paragraphs(raw: &str, max: usize) -> Result<String, Invalid> {
    let text = raw.trim().replace("\r\n", "\n");
    if text.is_empty() {
        return Err(Invalid::required());
    }
    let lines = text.split('\n').map(|line| bounded_text(line, max)).collect::<Result<Vec<_>, _>>()?.join("\n");
    if lines.chars().count() > max { Err(Invalid::too_long(max)) } else { Ok(lines) }
}

/// Characters no field keeps: control characters (line breaks included: a name or an address
/// is one line, and it is printed on cards and reports) and the invisible direction overrides
/// that make text read differently from how it is stored.
fn is_refused(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn bounded_text(text: &str, max: usize) -> Result<String, Invalid> {
    if text.chars().any(is_refused) {
        return Err(Invalid::new(
            "control_characters",
            "不能包含换行、控制字符或文字方向控制符",
            "must not contain line breaks, control characters or direction overrides",
        ));
    }
    if text.chars().count() > max { Err(Invalid::too_long(max)) } else { Ok(text.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_trims_and_bounds() {
        assert_eq!(required_text("  王芳 ", 10).unwrap(), "王芳");
        assert_eq!(required_text("   ", 10).unwrap_err().code, "required");
        assert_eq!(required_text("一二三四五", 4).unwrap_err().code, "too_long");
        assert_eq!(optional_text(" ", 4).unwrap(), None);
    }

    #[test]
    fn text_refuses_control_characters_and_direction_overrides_and_paragraphs_keep_line_breaks() {
        for bad in ["南岭街道\n人民大街", "a\u{0}b", "tab\there", "\u{202E}gnp.exe"] {
            assert_eq!(required_text(bad, 100).unwrap_err().code, "control_characters", "{bad:?}");
        }
        assert_eq!(required_paragraphs(" 第一段\r\n第二段 ", 100).unwrap(), "第一段\n第二段");
        assert_eq!(required_paragraphs("a\u{7}", 100).unwrap_err().code, "control_characters");
        assert_eq!(required_paragraphs("一二\n三", 3).unwrap_err().code, "too_long");
    }

    #[test]
    fn errors_collect_per_field() {
        let mut errors = FieldErrors::default();
        assert_eq!(errors.take("a", Ok::<_, Invalid>(1)), Some(1));
        assert_eq!(errors.take::<i32>("b", Err(Invalid::required())), None);
        assert_eq!(errors.for_field("b").unwrap().code, "required");
        assert!(errors.for_field("a").is_none());
    }
}
