//! A value recomputed at most once per time-to-live: for figures that are costly to compute on
//! every request and may be a little old (home-page counts, the district list).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Ttl<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T> Ttl<T> {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, slot: Mutex::new(None) }
    }

    /// The cached value, or a fresh one from `compute` when it is missing or too old.
    pub async fn get_or_try<E, F: Future<Output = Result<T, E>>>(
        &self,
        compute: impl FnOnce() -> F,
    ) -> Result<Arc<T>, E> {
        if let Some((at, value)) = &*self.slot.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < self.ttl
        {
            return Ok(value.clone());
        }
        let value = Arc::new(compute().await?);
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn computes_once_within_the_ttl_and_again_after() {
        let cache = Ttl::new(Duration::from_millis(50));
        let calls = std::sync::atomic::AtomicU32::new(0);
        let compute = || async { Ok::<_, ()>(calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst)) };
        assert_eq!(*cache.get_or_try(compute).await.unwrap(), 0);
        assert_eq!(*cache.get_or_try(compute).await.unwrap(), 0);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(*cache.get_or_try(compute).await.unwrap(), 1);
        let failing = Ttl::<u32>::new(Duration::from_secs(1));
        assert!(failing.get_or_try(|| async { Err::<u32, _>("down") }).await.is_err());
    }
}
