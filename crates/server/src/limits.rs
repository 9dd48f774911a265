//! Limits on what is counted: sign-ins, one-time consent codes, and look-ups that tell whether
//! a person is registered. Each key gets a few free failures; after that every further try
//! waits twice as long as the one before, up to a cap, so a guesser is slowed to a crawl while a
//! person who mistyped is never locked out for long. And the address a request came from, which
//! such keys are made of.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::{AppError, AppState};

/// Failures counted per key, with growing delays once the free ones are spent.
pub struct Throttle {
    free: u32,
    base: Duration,
    cap: Duration,
    /// A key with no failure for this long starts afresh.
    forget_after: Duration,
    tallies: Mutex<HashMap<String, Tally>>,
}

#[derive(Debug, Clone, Copy)]
struct Tally {
    failures: u32,
    last: Instant,
}

/// Keys kept before old ones are dropped: a spray of names cannot grow memory without bound.
const MAX_KEYS: usize = 200_000;

impl Throttle {
    pub fn new(free: u32, base: Duration, cap: Duration, forget_after: Duration) -> Self {
        Self { free, base, cap, forget_after, tallies: Mutex::new(HashMap::new()) }
    }

    /// The wait imposed after `failures` failures.
    pub fn delay_after(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(20);
        self.base.saturating_mul(1 << doublings).min(self.cap)
    }

    /// `Err(seconds to wait)` while `key` must wait before its next try.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tally) = tallies.get(key) else { return Ok(()) };
        let since = now.saturating_duration_since(tally.last);
        if since >= self.forget_after {
            return Ok(());
        }
        let delay = self.delay_after(tally.failures);
        if since >= delay { Ok(()) } else { Err((delay - since).as_secs_f64().ceil().max(1.0) as u64) }
    }

    pub fn record_failure(&self, key: &str) {
        self.record_failure_at(key, Instant::now());
    }

    fn record_failure_at(&self, key: &str, now: Instant) {
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        if tallies.len() >= MAX_KEYS {
            let forget = self.forget_after;
            tallies.retain(|_, t| now.saturating_duration_since(t.last) < forget);
        }
        let tally = tallies.entry(key.to_string()).or_insert(Tally { failures: 0, last: now });
        if now.saturating_duration_since(tally.last) >= self.forget_after {
            tally.failures = 0;
        }
        tally.failures += 1;
        tally.last = now;
    }

    pub fn clear(&self, key: &str) {
        self.tallies.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// Every limit the server keeps.
pub struct Limits {
    /// Wrong passwords per sign-in name, from any address.
    pub login_name: Throttle,
    /// Wrong passwords per address, across names.
    pub login_address: Throttle,
    /// Wrong consent codes per account and per address (the code itself locks after five).
    pub code_account: Throttle,
    pub code_address: Throttle,
    /// Look-ups of workers by ID number per school (each says whether a person is registered).
    pub school_lookups: Throttle,
    /// Photo uploads per account: each costs a decode of up to 25 megapixels.
    pub photo_uploads: Throttle,
    /// Contract checks per address that found nothing or asked by number alone (each says
    /// whether a number exists).
    pub contract_checks: Throttle,
}

impl Default for Limits {
    fn default() -> Self {
        let minute = Duration::from_secs(60);
        Self {
            login_name: Throttle::new(5, Duration::from_secs(1), 15 * minute, 60 * minute),
            login_address: Throttle::new(20, Duration::from_secs(1), 15 * minute, 60 * minute),
            code_account: Throttle::new(5, Duration::from_secs(2), 60 * minute, 24 * 60 * minute),
            code_address: Throttle::new(20, Duration::from_secs(2), 60 * minute, 24 * 60 * minute),
            school_lookups: Throttle::new(SCHOOL_LOOKUPS_PER_DAY, 24 * 60 * minute, 24 * 60 * minute, 24 * 60 * minute),
            photo_uploads: Throttle::new(PHOTO_UPLOADS_FREE, minute, 60 * minute, 24 * 60 * minute),
            contract_checks: Throttle::new(30, Duration::from_secs(2), 60 * minute, 24 * 60 * minute),
        }
    }
}

/// Photo uploads an account makes before each further one waits (a minute, then longer): a
/// clerk photographing a whole team stays well under it.
pub const PHOTO_UPLOADS_FREE: u32 = 60;

/// Enrolments by ID number a school may try in a day: several classes' worth, far fewer than a
/// search of candidate ID numbers needs. (Agencies' answers are counted in the store, per day.)
pub const SCHOOL_LOOKUPS_PER_DAY: u32 = 300;

impl Limits {
    /// Both sign-in limits; the longer wait wins.
    pub fn check_login(&self, username: &str, address: &str) -> Result<(), u64> {
        let by_name = self.login_name.check(&name_key(username));
        let by_address = self.login_address.check(address);
        match (by_name, by_address) {
            (Ok(()), Ok(())) => Ok(()),
            (a, b) => Err(a.err().unwrap_or(0).max(b.err().unwrap_or(0))),
        }
    }

    pub fn login_failed(&self, username: &str, address: &str) {
        self.login_name.record_failure(&name_key(username));
        self.login_address.record_failure(address);
    }

    /// A correct password clears its name's count; the address keeps its count, so one account
    /// the guesser owns does not reset a spray of guesses at others.
    pub fn login_succeeded(&self, username: &str) {
        self.login_name.clear(&name_key(username));
    }
}

/// Claims a worker's one-time consent code for `account`, counting wrong codes per account and
/// per address (the code itself dies after five wrong tries, in the store).
pub async fn claim_consent_code(
    state: &AppState,
    account: i64,
    address: IpAddr,
    worker_id: i64,
    code: &str,
) -> Result<(), AppError> {
    let (account_key, address_key) = (account.to_string(), address.to_string());
    let limits = &state.limits;
    for waited in [limits.code_account.check(&account_key), limits.code_address.check(&address_key)] {
        if let Err(retry_after_secs) = waited {
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
    }
    let claimed = state.store.claim_consent_code(worker_id, account, code).await;
    if claimed.is_err() {
        limits.code_account.record_failure(&account_key);
        limits.code_address.record_failure(&address_key);
    }
    Ok(claimed?)
}

fn name_key(username: &str) -> String {
    username.trim().to_lowercase()
}

/// The address a request came from. `X-Forwarded-For` is believed only when the connection
/// comes from a proxy named in the configuration; then the last address not a proxy's is the
/// client's. Anyone else could write any address there.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| AppError::Internal("no peer address".into()))?;
        let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        Ok(ClientAddr(client_address(peer, forwarded, &state.config.trusted_proxies)))
    }
}

/// The client behind zero or more trusted proxies.
pub fn client_address<'a>(peer: IpAddr, forwarded: impl Iterator<Item = &'a str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = forwarded.flat_map(|v| v.split(',')).filter_map(|h| h.trim().parse().ok()).collect();
    hops.into_iter().rev().find(|hop| !trusted.contains(hop)).unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_free_failures_and_stop_at_the_cap() {
        let throttle = Throttle::new(3, Duration::from_secs(1), Duration::from_secs(60), Duration::from_secs(3600));
        let delays: Vec<u64> = (0..12).map(|n| throttle.delay_after(n).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(throttle.check_at("k", t0).is_ok());
            throttle.record_failure_at("k", t0);
        }
        assert!(throttle.check_at("k", t0).is_err(), "the fourth try waits");
        assert!(throttle.check_at("k", t0 + Duration::from_secs(1)).is_ok(), "but not for ever");
        assert!(throttle.check_at("other", t0).is_ok(), "other keys are untouched");
        throttle.record_failure_at("k", t0 + Duration::from_secs(1));
        assert_eq!(throttle.check_at("k", t0 + Duration::from_secs(1)), Err(2));
        // An hour with no failure forgets the key.
        let later = t0 + Duration::from_secs(3601 + 1);
        assert!(throttle.check_at("k", later).is_ok());
        throttle.record_failure_at("k", later);
        assert!(throttle.check_at("k", later).is_ok(), "counted afresh");
    }

    #[test]
    fn sign_ins_are_limited_per_address_across_names_and_per_name_across_addresses() {
        let limits = Limits::default();
        // 48 guesses over 12 names from one address: slowed after 20, whichever name.
        let mut refused = 0;
        for n in 0..48 {
            let name = format!("user{}", n % 12);
            if limits.check_login(&name, "10.0.0.1").is_err() {
                refused += 1;
                continue;
            }
            limits.login_failed(&name, "10.0.0.1");
        }
        assert_eq!(refused, 28, "after 20 failures the address waits");
        assert!(limits.check_login("someone", "10.0.0.2").is_ok(), "another address is not slowed");
        // One name guessed from many addresses: slowed after 5, from any address.
        for n in 0..5 {
            limits.login_failed("Admin", &format!("10.1.0.{n}"));
        }
        assert!(limits.check_login("admin", "10.9.9.9").is_err());
        limits.login_succeeded("admin");
        assert!(limits.check_login("admin", "10.9.9.9").is_ok());
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let header = ["198.51.100.1, 203.0.113.7"];
        assert_eq!(client_address(proxy, header.into_iter(), &[proxy]), client);
        let stranger: IpAddr = "192.0.2.9".parse().unwrap();
        assert_eq!(client_address(stranger, header.into_iter(), &[proxy]), stranger, "a forged header is ignored");
        assert_eq!(client_address(proxy, std::iter::empty(), &[proxy]), proxy);
        assert_eq!(client_address(proxy, ["not an address"].into_iter(), &[proxy]), proxy);
    }
}
