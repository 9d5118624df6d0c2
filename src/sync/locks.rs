//! Per-pack async locks: two syncs (or a sync and a workflow write) of one
//! pack run one after the other; different packs proceed in parallel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// One async mutex per pack ref, created on demand and dropped when unused.
#[derive(Debug, Default)]
pub struct PackLocks {
    map: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

impl PackLocks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for the pack's lock; it is released when the guard drops.
    pub async fn lock(&self, pack_ref: &str) -> OwnedMutexGuard<()> {
        let mutex = {
            let mut map = match self.map.lock() {
                Ok(m) => m,
                Err(poisoned) => poisoned.into_inner(),
            };
            // Forget locks nobody holds or waits for.
            map.retain(|_, m| Arc::strong_count(m) > 1);
            map.entry(pack_ref.to_string()).or_default().clone()
        };
        mutex.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_pack_serializes_and_others_do_not_wait() {
        let locks = PackLocks::new();
        let a = locks.lock("a").await;
        // Another pack is free while "a" is held.
        let b = locks.lock("b").await;
        drop(b);
        let mut second = Box::pin(locks.lock("a"));
        assert!(futures_poll_once(&mut second).is_none());
        drop(a);
        let _again = second.await;
    }

    fn futures_poll_once<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match std::pin::Pin::new(f).poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
