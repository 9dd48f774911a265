//! The certificate's QR token: a few fields and an Ed25519 signature, base64url-encoded, short
//! enough for a small QR code and checkable with nothing but the public key.
//!
//! Layout (version 1): version u8 · key id u16 · issued at i64 (Unix s) · valid until i32 (days
//! since 1970-01-01) · status u8 · number (u8 length + ASCII) · masked name (u8 length + UTF-8) ·
//! signature (64 bytes over everything before it, prefixed by a domain string).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::certificate::Colour;

const VERSION: u8 = 1;
const DOMAIN: &[u8] = b"jiazheng-certificate-v1";

/// What the card claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub number: String,
    pub name_masked: String,
    pub status: Colour,
    pub valid_until: NaiveDate,
    pub key_id: u16,
    pub issued_at: DateTime<Utc>,
}

/// Why a token is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of ours: bad encoding, truncated, wrong version or lengths.
    Malformed,
    /// Signed by a key this checker does not know.
    UnknownKey,
    /// The signature does not match the contents.
    Tampered,
    /// Signed by a key after it was retired: whoever still holds a retired key cannot mint cards.
    RetiredKey,
}

impl TokenError {
    pub fn code(self) -> &'static str {
        match self {
            TokenError::Malformed => "malformed",
            TokenError::UnknownKey => "unknown_key",
            TokenError::Tampered => "tampered",
            TokenError::RetiredKey => "retired_key",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Malformed, Self::UnknownKey, Self::Tampered, Self::RetiredKey].into_iter().find(|e| e.code() == code)
    }
}

/// Verifies a token against keys that may have been retired: a key verifies only what it signed
/// before its retirement.
pub fn verify_with_retirement(
    token: &str,
    key_for: impl Fn(u16) -> Option<(VerifyingKey, Option<DateTime<Utc>>)>,
) -> Result<Claims, TokenError> {
    let claims = verify(token, |id| key_for(id).map(|(key, _)| key))?;
    match key_for(claims.key_id) {
        Some((_, Some(retired_at))) if claims.issued_at > retired_at => Err(TokenError::RetiredKey),
        _ => Ok(claims),
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

fn body(c: &Claims) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    b.push(VERSION);
    b.extend(c.key_id.to_be_bytes());
    b.extend(c.issued_at.timestamp().to_be_bytes());
    b.extend(((c.valid_until - epoch()).num_days() as i32).to_be_bytes());
    b.push(c.status.code());
    for text in [&c.number, &c.name_masked] {
        let bytes = text.as_bytes();
        b.push(bytes.len().min(255) as u8);
        b.extend(&bytes[..bytes.len().min(255)]);
    }
    b
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    [DOMAIN, body].concat()
}

/// Encodes and signs the claims.
pub fn issue(claims: &Claims, key: &SigningKey) -> String {
    let mut bytes = body(claims);
    let signature = key.sign(&signed_message(&bytes));
    bytes.extend(signature.to_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TokenError> {
        if self.0.len() < n {
            return Err(TokenError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], TokenError> {
        self.take(N)?.try_into().map_err(|_| TokenError::Malformed)
    }

    fn text(&mut self) -> Result<String, TokenError> {
        let len = self.take(1)?[0] as usize;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| TokenError::Malformed)
    }
}

/// The longest token a card can carry: its body (two texts of at most 255 bytes) and signature,
/// in base64. Anything longer is not a card's, and is refused before it is decoded.
pub const MAX_TOKEN_CHARS: usize = 800;

/// The token in text a person pasted, when it is a card's code or the link the code holds
/// (`…/v/TOKEN`): as long as a token can be (a certificate number is far shorter) and made of
/// base64url characters only. Whether it is genuine is for [`verify`].
pub fn in_pasted(text: &str) -> Option<&str> {
    let text = text.trim();
    let token = text.rsplit("/v/").next().unwrap_or(text).trim_end_matches('/');
    let shaped = (64..=MAX_TOKEN_CHARS).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    shaped.then_some(token)
}

/// Decodes a token and checks its signature with the key it names. Expiry and revocation are
/// the caller's: they depend on the day and on the latest revocation list.
pub fn verify(token: &str, key_for: impl Fn(u16) -> Option<VerifyingKey>) -> Result<Claims, TokenError> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_CHARS {
        return Err(TokenError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD.decode(token.as_bytes()).map_err(|_| TokenError::Malformed)?;
    if bytes.len() < 64 + 17 {
        return Err(TokenError::Malformed);
    }
    let (signed, signature) = bytes.split_at(bytes.len() - 64);
    let mut r = Reader(signed);
    if r.take(1)?[0] != VERSION {
        return Err(TokenError::Malformed);
    }
    let key_id = u16::from_be_bytes(r.array()?);
    let issued_at = DateTime::from_timestamp(i64::from_be_bytes(r.array()?), 0).ok_or(TokenError::Malformed)?;
    let days = i32::from_be_bytes(r.array()?);
    let valid_until =
        epoch().checked_add_signed(chrono::Duration::days(i64::from(days))).ok_or(TokenError::Malformed)?;
    let status = Colour::from_code(r.take(1)?[0]).ok_or(TokenError::Malformed)?;
    let number = r.text()?;
    let name_masked = r.text()?;
    if !r.0.is_empty() {
        return Err(TokenError::Malformed);
    }
    let key = key_for(key_id).ok_or(TokenError::UnknownKey)?;
    let signature = Signature::from_bytes(signature.try_into().map_err(|_| TokenError::Malformed)?);
    key.verify_strict(&signed_message(signed), &signature).map_err(|_| TokenError::Tampered)?;
    Ok(Claims { number, name_masked, status, valid_until, key_id, issued_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            number: "JZ-220102-000123".into(),
            name_masked: "王*英".into(),
            status: Colour::Green,
            valid_until: NaiveDate::from_ymd_opt(2027, 6, 1).unwrap(),
            key_id: 1,
            issued_at: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        }
    }

    fn keys() -> (SigningKey, impl Fn(u16) -> Option<VerifyingKey>) {
        let key = SigningKey::from_bytes(&[3; 32]);
        let public = key.verifying_key();
        (key, move |id| (id == 1).then_some(public))
    }

    #[test]
    fn a_token_round_trips_and_is_short_enough_for_a_small_qr_code() {
        let (key, lookup) = keys();
        let token = issue(&claims(), &key);
        assert!(token.len() < 160, "{} chars", token.len());
        assert_eq!(verify(&token, lookup).unwrap(), claims());
    }

    #[test]
    fn forged_edited_truncated_and_foreign_tokens_are_refused() {
        let (key, lookup) = keys();
        let token = issue(&claims(), &key);
        // Edit one byte of the contents (the status): the signature no longer matches.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[15] = Colour::Green.code() ^ 1;
        assert_eq!(verify(&URL_SAFE_NO_PAD.encode(&bytes), &lookup), Err(TokenError::Tampered));
        // Signed by someone else with our key id.
        let forger = SigningKey::from_bytes(&[9; 32]);
        assert_eq!(verify(&issue(&claims(), &forger), &lookup), Err(TokenError::Tampered));
        // A key we do not know.
        let foreign = Claims { key_id: 42, ..claims() };
        assert_eq!(verify(&issue(&foreign, &key), &lookup), Err(TokenError::UnknownKey));
        let truncated = verify(&token[..token.len() - 5], &lookup);
        assert!(matches!(truncated, Err(TokenError::Malformed | TokenError::Tampered)), "{truncated:?}");
        for junk in ["", "!!!", "AAAA", &token[..20]] {
            assert_eq!(verify(junk, &lookup), Err(TokenError::Malformed), "{junk}");
        }
    }

    #[test]
    fn a_pasted_code_or_its_link_gives_the_token_and_a_number_does_not() {
        let token = "A".repeat(120);
        assert_eq!(in_pasted(&format!(" {token} ")), Some(token.as_str()));
        assert_eq!(in_pasted(&format!("https://jz.example/v/{token}/")), Some(token.as_str()));
        for not_a_token in ["JZ-220102-000123", "", &"A".repeat(MAX_TOKEN_CHARS + 1), &format!("{token}!")] {
            assert_eq!(in_pasted(not_a_token), None, "{not_a_token}");
        }
    }
}
