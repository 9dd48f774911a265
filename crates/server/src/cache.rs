//! A value recomputed at most once per time-to-live: for figures that are costly to compute on
//! every request and may be a little old (home-page counts, the district list).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiazheng_store::commits::CommitMark;

pub struct Ttl<T> {
    ttl: Duration,
    value: Mutex<Option<(Instant, Arc<T>)>>,
    /// Held by the one request that recomputes; the others keep serving the old value.
    refreshing: tokio::sync::Mutex<()>,
}

impl<T> Ttl<T> {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, value: Mutex::new(None), refreshing: tokio::sync::Mutex::new(()) }
    }

    /// The value and whether it is still fresh.
    fn current(&self) -> Option<(bool, Arc<T>)> {
        let slot = self.value.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map(|(at, value)| (at.elapsed() < self.ttl, value.clone()))
    }

    /// Marks the value old, after a write that changes what it was computed from: the next
    /// reader recomputes it (readers meanwhile may still get the old one).
    pub fn expire(&self) {
        let mut slot = self.value.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, _)) = slot.as_mut()
            && let Some(old) = Instant::now().checked_sub(self.ttl)
        {
            *at = old;
        } else {
            *slot = None;
        }
    }

    /// The cached value. When it is too old, one caller recomputes it with `compute` while the
    /// others get the old one; when there is none yet, the first computes and the rest wait.
    pub async fn get_or_try<E, F: Future<Output = Result<T, E>>>(
        &self,
        compute: impl FnOnce() -> F,
    ) -> Result<Arc<T>, E> {
        let stale = match self.current() {
            Some((true, value)) => return Ok(value),
            Some((false, value)) => Some(value),
            None => None,
        };
        let _guard = match (self.refreshing.try_lock(), stale) {
            (Ok(guard), _) => guard,
            (Err(_), Some(stale)) => return Ok(stale),
            (Err(_), None) => self.refreshing.lock().await,
        };
        if let Some((true, value)) = self.current() {
            return Ok(value);
        }
        let value = Arc::new(compute().await?);
        *self.value.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), value.clone()));
        Ok(value)
    }
}

/// Values per key for a short time, for hot reads (the door check): bounded, and dropped
/// at once when a write changes what they were computed from.
pub struct Keyed<V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<std::collections::HashMap<String, (Instant, Arc<V>)>>,
}

impl<V> Keyed<V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity, entries: Mutex::new(std::collections::HashMap::new()) }
    }

    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    /// The value, fresh or not yet twice its age, and whether this caller should refresh it.
    /// The first caller to find it past its time is told to; its clock restarts, so the others
    /// keep being served while that one refresh runs.
    pub fn get_or_refresh(&self, key: &str) -> Option<(Arc<V>, bool)> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (at, value) = entries.get_mut(key)?;
        let age = at.elapsed();
        if age < self.ttl {
            return Some((value.clone(), false));
        }
        if age >= self.ttl * 2 {
            return None;
        }
        *at = Instant::now();
        Some((value.clone(), true))
    }

    pub fn put(&self, key: String, value: Arc<V>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), value));
    }

    /// Drops every value `stale` says a write has changed.
    pub fn forget(&self, stale: impl Fn(&V) -> bool) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, (_, v)| !stale(v));
    }
}

/// Values per key that stay current for as long as the database's commit mark does (see
/// `jiazheng_store::commits`): a hit is never older than the last committed write, whoever made
/// it, and costs no statement. Bounded by the bytes its values weigh, least recently used first.
pub struct Current<V> {
    budget: usize,
    inner: Mutex<CurrentInner<V>>,
}

struct CurrentInner<V> {
    entries: hashlink::LruCache<String, (CommitMark, Arc<V>, usize)>,
    weight: usize,
}

const ENTRY_OVERHEAD: usize = 448;

/// How many bytes a cached value holds, for the budget.
pub trait Weigh {
    fn weight(&self) -> usize;
}

impl<V: Weigh> Current<V> {
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            budget: budget_bytes,
            inner: Mutex::new(CurrentInner { entries: hashlink::LruCache::new_unbounded(), weight: 0 }),
        }
    }

    /// The value for `key` if it was computed under the mark `now`.
    pub fn get(&self, key: &str, now: &CommitMark) -> Option<Arc<V>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match inner.entries.get(key) {
            Some((mark, value, _)) if mark.still(now) => Some(value.clone()),
            Some(_) => {
                if let Some((_, _, w)) = inner.entries.remove(key) {
                    inner.weight -= w;
                }
                None
            }
            None => None,
        }
    }

    /// Keeps `value`, computed from what the database held at `mark` (read before computing).
    pub fn put(&self, key: String, mark: CommitMark, value: Arc<V>) {
        if matches!(mark, CommitMark::Unknown) {
            return;
        }
        // Besides the value and its key: the list node, the map slot, the counted pointers and
        // the allocator's rounding (about 450 bytes an entry, measured with small entries).
        let weight = value.weight() + key.len() + ENTRY_OVERHEAD;
        if weight > self.budget / 4 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, _, w)) = inner.entries.insert(key, (mark, value, weight)) {
            inner.weight -= w;
        }
        inner.weight += weight;
        while inner.weight > self.budget {
            match inner.entries.remove_lru() {
                Some((_, (_, _, w))) => inner.weight -= w,
                None => break,
            }
        }
    }

    /// Bytes held now (values, keys and bookkeeping).
    pub fn weight(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).weight
    }
}

/// A response body as it goes out, kept whole so a hit is a copy of a pointer.
#[derive(Clone)]
pub struct Body {
    pub status: axum::http::StatusCode,
    pub content_type: &'static str,
    pub bytes: axum::body::Bytes,
}

impl Weigh for Body {
    fn weight(&self) -> usize {
        self.bytes.len()
    }
}

impl Weigh for jiazheng_store::credit::certificates::LiveStatus {
    fn weight(&self) -> usize {
        let strings = self.number.len() + self.name_masked.len() + self.photo.as_ref().map_or(0, String::len);
        std::mem::size_of::<Self>()
            + strings
            + self.agencies.iter().map(|a| a.len() + 24).sum::<usize>()
            + self.certificates.len() * 64
    }
}

impl<T> Weigh for Vec<T> {
    fn weight(&self) -> usize {
        self.len() * (std::mem::size_of::<T>() + 64)
    }
}

impl Weigh for jiazheng_store::market::search::Found {
    fn weight(&self) -> usize {
        self.workers.iter().map(|w| 128 + w.worker_name.len() + w.agency_name.len()).sum::<usize>() + 32
    }
}

impl axum::response::IntoResponse for Body {
    fn into_response(self) -> axum::response::Response {
        (self.status, [(axum::http::header::CONTENT_TYPE, self.content_type)], self.bytes).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_past_its_time_is_refreshed_by_one_caller_while_the_others_are_served() {
        let cache: Keyed<i64> = Keyed::new(Duration::from_millis(40), 10);
        cache.put("a".into(), Arc::new(1));
        assert_eq!(cache.get_or_refresh("a").map(|(v, r)| (*v, r)), Some((1, false)));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(cache.get_or_refresh("a").map(|(v, r)| (*v, r)), Some((1, true)), "the first refreshes");
        assert_eq!(cache.get_or_refresh("a").map(|(v, r)| (*v, r)), Some((1, false)), "the rest are served");
        std::thread::sleep(Duration::from_millis(90));
        assert!(cache.get_or_refresh("a").is_none(), "too old to serve: computed inline");
        assert!(cache.get_or_refresh("b").is_none());
    }

    #[test]
    fn keyed_values_expire_are_bounded_and_are_forgotten_on_writes() {
        let cache: Keyed<i64> = Keyed::new(Duration::from_secs(60), 2);
        cache.put("a".into(), Arc::new(1));
        cache.put("b".into(), Arc::new(2));
        assert_eq!(cache.get("a").as_deref(), Some(&1));
        cache.forget(|v| *v == 1);
        assert!(cache.get("a").is_none());
        cache.put("c".into(), Arc::new(3));
        cache.put("d".into(), Arc::new(4));
        assert!(cache.get("d").is_some(), "a full cache makes room");
        let short: Keyed<i64> = Keyed::new(Duration::from_millis(0), 10);
        short.put("x".into(), Arc::new(1));
        assert!(short.get("x").is_none(), "expired");
    }

    #[tokio::test]
    async fn computes_once_within_the_ttl_and_serves_the_old_value_while_refreshing() {
        let cache = Ttl::new(Duration::from_millis(50));
        let calls = std::sync::atomic::AtomicU32::new(0);
        let compute = || async { Ok::<_, ()>(calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst)) };
        assert_eq!(*cache.get_or_try(compute).await.unwrap(), 0);
        assert_eq!(*cache.get_or_try(compute).await.unwrap(), 0);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(*cache.get_or_try(compute).await.unwrap(), 1);

        // Expired again: while one caller recomputes, another gets the old value at once.
        tokio::time::sleep(Duration::from_millis(60)).await;
        let (gate_tx, gate_rx) = tokio::sync::oneshot::channel::<()>();
        let slow = cache.get_or_try(|| async {
            let _ = gate_rx.await;
            Ok::<_, ()>(99)
        });
        let fast = async {
            tokio::task::yield_now().await;
            let old = *cache.get_or_try(compute).await.unwrap();
            let _ = gate_tx.send(());
            old
        };
        let (slow, fast) = tokio::join!(slow, fast);
        assert_eq!((*slow.unwrap(), fast), (99, 1));
        assert_eq!(*cache.get_or_try(compute).await.unwrap(), 99);

        let failing = Ttl::<u32>::new(Duration::from_secs(1));
        assert!(failing.get_or_try(|| async { Err::<u32, _>("down") }).await.is_err());
    }

    struct Sized(usize);
    impl Weigh for Sized {
        fn weight(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn a_current_value_is_served_only_under_its_mark_and_the_budget_drops_the_least_used() {
        let cache: Current<Sized> = Current::new(6_000);
        let m1 = CommitMark::Sqlite(1);
        let m2 = CommitMark::Sqlite(2);
        cache.put("a".into(), m1.clone(), Arc::new(Sized(500)));
        assert!(cache.get("a", &m1).is_some());
        assert!(cache.get("a", &m2).is_none(), "a commit since: recomputed");
        assert!(cache.get("a", &m1).is_none(), "and the old value is gone");
        assert_eq!(cache.weight(), 0);
        cache.put("u".into(), CommitMark::Unknown, Arc::new(Sized(10)));
        assert!(cache.get("u", &CommitMark::Unknown).is_none(), "no mark, no keeping");

        for key in ["b", "c", "d", "e"] {
            cache.put(key.into(), m2.clone(), Arc::new(Sized(1_000)));
        }
        assert!(cache.get("b", &m2).is_some(), "b is now the most recently used");
        cache.put("f".into(), m2.clone(), Arc::new(Sized(1_000)));
        assert!(cache.weight() <= 6_000);
        assert!(cache.get("c", &m2).is_none(), "the least recently used made room");
        assert!(cache.get("b", &m2).is_some() && cache.get("f", &m2).is_some() && cache.get("d", &m2).is_some());
        cache.put("huge".into(), m2.clone(), Arc::new(Sized(1_600)));
        assert!(cache.get("huge", &m2).is_none(), "a value over a quarter of the budget is not kept");
    }
}
