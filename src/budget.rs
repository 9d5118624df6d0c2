//! The memory budget of server-side validation work: every text validation
//! (`POST /api/v1/workflows/validate`, workflow create and update), every
//! sync and validation run (API, auto-sync after a pack write, watch mode)
//! and every pack upload is admitted by the working memory it may need,
//! estimated from its input bytes, against `validation.memory_budget_bytes`.
//!
//! Work whose estimate does not fit waits (first come, first served: tokio's
//! semaphore is fair) up to `validation.max_wait_ms`; past it the request is
//! answered 503 `BUSY` with `Retry-After`, so memory stays flat under a flood
//! and `/health` and reads, which take no budget, keep answering. Runs no
//! client waits for (watch mode) wait without a bound instead.
//!
//! The estimate is [`WORK_FACTOR`] × the input bytes: the peak working
//! memory per input byte of the YAML layer plus the validator, measured,
//! with a margin for denser texts (docs/PERFORMANCE.md, issue 18,
//! "Session 5: compact tree"). A run reserves the worst case of
//! the sync pool: one file of `max_workflow_file_bytes` per pool thread.
//! One estimate larger than the whole budget is clamped to the budget (it
//! then runs alone), so no input is refused for its size here; the size
//! limits are `max_workflow_file_bytes` and the body limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Working memory per input byte reserved for a validation. Measured at
/// 1 MiB (docs/PERFORMANCE.md, issue 18, "Session 5: compact tree"): the
/// validate endpoint's work (`sync::check_text`, i.e. `validate_json`)
/// peaks at 10× the text in RSS and 8.7× in counted heap bytes; the
/// request also holds its body and the decoded YAML string (2×). The
/// margin is for denser texts than the measured chain of tasks: the tree
/// costs 32 bytes a node, so a flow list of one-character scalars
/// (`[1,1,1,…]`, 2 bytes a node) is 16× the text, 24× while its list
/// grows. Was 64 while a node cost 56 bytes and the server built the
/// definition as a `serde_json::Value` tree (then 44–72× measured).
pub const WORK_FACTOR: u64 = 24;

/// The budget is counted in units of this many bytes.
const UNIT: u64 = 64 * 1024;

/// The smallest reservation: a tiny text still holds buffers and a thread.
const MIN_COST: u64 = UNIT;

/// Whether a caller waits a bounded time or until admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// A client is waiting for the answer: `validation.max_wait_ms`, then busy.
    Bounded,
    /// Background work (watch mode): wait as long as it takes.
    Unbounded,
}

/// The budget was full for the whole wait.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the server is busy with other validation work ({needed_mib} MiB needed of a \
     {budget_mib} MiB budget, validation.memory_budget_bytes); retry in {retry_after} s"
)]
pub struct Busy {
    pub needed_mib: u64,
    pub budget_mib: u64,
    /// Seconds, for `Retry-After`.
    pub retry_after: u64,
}

/// The shared budget (a cheap clone).
#[derive(Debug, Clone)]
pub struct WorkBudget {
    permits: Arc<Semaphore>,
    units: u32,
    max_wait: Duration,
    refused: Arc<AtomicU64>,
}

/// Admitted work; its reservation returns to the budget when dropped.
#[derive(Debug)]
pub struct Admission {
    _permit: OwnedSemaphorePermit,
}

impl WorkBudget {
    pub fn new(budget_bytes: u64, max_wait: Duration) -> WorkBudget {
        let units = (budget_bytes / UNIT).clamp(1, u64::from(u32::MAX >> 4));
        let units = u32::try_from(units).unwrap_or(u32::MAX >> 4);
        WorkBudget {
            permits: Arc::new(Semaphore::new(units as usize)),
            units,
            max_wait,
            refused: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Work refused since start (`attune_validation_refused_total`).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// The estimate for validating a text of `bytes`.
    pub fn cost_of_text(bytes: u64) -> u64 {
        bytes.saturating_mul(WORK_FACTOR).max(MIN_COST)
    }

    /// The estimate for a sync or validation run: one file of
    /// `max_file_bytes` in every thread of the sync pool.
    pub fn cost_of_run(max_file_bytes: u64) -> u64 {
        let threads = crate::sync::pool_threads() as u64;
        Self::cost_of_text(max_file_bytes).saturating_mul(threads.max(1))
    }

    /// Bytes of the whole budget.
    pub fn budget_bytes(&self) -> u64 {
        u64::from(self.units) * UNIT
    }

    /// Bytes reserved right now.
    pub fn in_flight_bytes(&self) -> u64 {
        let free = u64::try_from(self.permits.available_permits()).unwrap_or(u64::MAX);
        u64::from(self.units).saturating_sub(free) * UNIT
    }

    /// Reserves `cost` bytes (clamped to the budget), waiting as `wait` says.
    pub async fn admit(&self, cost: u64, wait: Wait) -> Result<Admission, Busy> {
        let units = cost.div_ceil(UNIT).clamp(1, u64::from(self.units));
        let units = u32::try_from(units).unwrap_or(self.units);
        let acquire = self.permits.clone().acquire_many_owned(units);
        let permit = match wait {
            Wait::Unbounded => acquire.await.ok(),
            Wait::Bounded => match tokio::time::timeout(self.max_wait, acquire).await {
                Ok(p) => p.ok(),
                Err(_) => None,
            },
        };
        match permit {
            Some(p) => Ok(Admission { _permit: p }),
            None => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                Err(Busy {
                    needed_mib: (u64::from(units) * UNIT).div_ceil(1 << 20),
                    budget_mib: self.budget_bytes().div_ceil(1 << 20),
                    retry_after: self.max_wait.as_secs().max(1),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_waits_for_the_budget_then_is_refused_and_admitted_once_it_frees() {
        let budget = WorkBudget::new(4 * UNIT, Duration::from_millis(0));
        let held = budget.admit(3 * UNIT, Wait::Bounded).await.unwrap();
        assert_eq!(budget.in_flight_bytes(), 3 * UNIT);
        let busy = budget.admit(2 * UNIT, Wait::Bounded).await.unwrap_err();
        assert_eq!(busy.retry_after, 1);
        assert_eq!(budget.refused(), 1);
        assert!(busy.to_string().contains("validation.memory_budget_bytes"));
        // what fits still passes
        let small = budget.admit(UNIT, Wait::Bounded).await.unwrap();
        drop((held, small));
        assert_eq!(budget.in_flight_bytes(), 0);
        // an estimate above the budget is clamped: it runs alone
        let huge = budget.admit(u64::MAX, Wait::Bounded).await.unwrap();
        assert_eq!(budget.in_flight_bytes(), budget.budget_bytes());
        drop(huge);
        budget.admit(2 * UNIT, Wait::Bounded).await.unwrap();
    }

    #[tokio::test]
    async fn an_unbounded_wait_is_admitted_when_the_budget_frees() {
        let budget = WorkBudget::new(2 * UNIT, Duration::from_millis(0));
        let held = budget.admit(2 * UNIT, Wait::Bounded).await.unwrap();
        let b = budget.clone();
        let waiter = tokio::spawn(async move { b.admit(UNIT, Wait::Unbounded).await.is_ok() });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(held);
        assert!(waiter.await.unwrap());
    }
}
