//! One-time codes for signing in by phone: six digits, five minutes, five tries.

use chrono::Duration;

use crate::field::Invalid;

pub const CODE_DIGITS: usize = 6;
pub const CODE_LIFETIME: Duration = Duration::minutes(5);
/// Wrong tries before a code is spent.
pub const MAX_TRIES: i64 = 5;
/// Codes sent to one number per Beijing day, and the wait between two of them.
pub const CODES_PER_NUMBER_PER_DAY: i64 = 10;
pub const RESEND_AFTER: Duration = Duration::seconds(60);
/// Codes asked from one network address per Beijing day.
pub const CODES_PER_ADDRESS_PER_DAY: i64 = 30;

/// What checking a typed code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    Wrong {
        tries_left: i64,
    },
    /// Five wrong tries: the code is spent; ask for a new one.
    Locked,
    /// No live code for this number (never sent, used, or older than five minutes).
    Expired,
}

impl CodeCheck {
    pub fn refusal(self) -> Option<Invalid> {
        match self {
            CodeCheck::Accepted => None,
            CodeCheck::Wrong { tries_left } => Some(Invalid::new(
                "wrong_code",
                format!("验证码不正确，还可尝试{tries_left}次"),
                format!("the code is wrong; {tries_left} tries left"),
            )),
            CodeCheck::Locked => Some(Invalid::new(
                "code_locked",
                "验证码错误次数过多，已失效，请重新获取",
                "too many wrong tries: this code no longer works; ask for a new one",
            )),
            CodeCheck::Expired => Some(Invalid::new(
                "code_expired",
                "验证码已过期或未发送，请重新获取",
                "the code has expired or was never sent; ask for a new one",
            )),
        }
    }
}

/// Six ASCII digits, spaces ignored.
pub fn parse_code(raw: &str) -> Result<String, Invalid> {
    let text: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return Err(Invalid::required());
    }
    if text.len() == CODE_DIGITS && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text)
    } else {
        Err(Invalid::new("code_format", "验证码为6位数字", "the code is six digits"))
    }
}

/// The outcome of a wrong try that leaves `tries` wrong tries on the code.
pub fn after_wrong_try(tries: i64) -> CodeCheck {
    if tries >= MAX_TRIES { CodeCheck::Locked } else { CodeCheck::Wrong { tries_left: MAX_TRIES - tries } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(parse_code(" 123 456 ").unwrap(), "123456");
        assert_eq!(parse_code("12345").unwrap_err().code, "code_format");
        assert_eq!(parse_code("１２３４５６").unwrap_err().code, "code_format");
    }

    #[test]
    fn the_fifth_wrong_try_locks_the_code() {
        assert_eq!(after_wrong_try(1), CodeCheck::Wrong { tries_left: 4 });
        assert_eq!(after_wrong_try(4), CodeCheck::Wrong { tries_left: 1 });
        assert_eq!(after_wrong_try(5), CodeCheck::Locked);
        assert!(CodeCheck::Locked.refusal().unwrap().message_zh.contains("重新获取"));
    }
}
