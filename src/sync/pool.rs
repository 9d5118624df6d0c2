//! The thread pool of server-side validation and sync: as many threads as
//! rayon's global pool (all cores), each lowered to nice
//! [`BACKGROUND_NICE`] as it starts, so a large sync uses every idle cycle
//! but yields the cores to request handling when the server is busy.
//!
//! `setpriority(PRIO_PROCESS, tid)` on Linux applies to that one thread;
//! elsewhere it would renice the whole process, so other systems keep
//! normal priority. The CLI (`attune validate`) keeps rayon's global pool.

use std::sync::OnceLock;

/// Nice value of the pool's threads.
pub const BACKGROUND_NICE: i32 = 10;

/// The pool, built on first use; `None` when it could not be built (then
/// the work runs on rayon's global pool).
pub fn background_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("attune-sync-{i}"))
            .start_handler(|_| lower_priority())
            .build()
            .map_err(|e| {
                tracing::warn!("cannot start the sync thread pool: {e}; using the global pool")
            })
            .ok()
    })
    .as_ref()
}

/// Threads of the pool (of rayon's global pool when it could not be built).
pub fn pool_threads() -> usize {
    background_pool().map_or_else(rayon::current_num_threads, |p| p.current_num_threads())
}

/// Runs `f` in the background pool (its parallel iterators use the pool).
pub(crate) fn run<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match background_pool() {
        Some(pool) => {
            // the audit scope of the request follows the work onto the pool
            let scope = crate::store::audit::in_force();
            pool.install(move || crate::store::audit::on_thread(scope, f))
        }
        None => f(),
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), BACKGROUND_NICE) {
        tracing::warn!("cannot lower the priority of a sync thread: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use rayon::prelude::*;

    /// Field 19 (nice) of /proc/self/task/TID/stat; the command name
    /// (field 2) is in parentheses and may hold spaces.
    fn nice_of_this_thread() -> i32 {
        let tid = rustix::thread::gettid().as_raw_nonzero().get();
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        // after_name starts at field 3
        after_name.split(' ').nth(19 - 3).unwrap().parse().unwrap()
    }

    #[test]
    fn pool_threads_run_at_nice_10_and_the_caller_keeps_its_priority() {
        let before = nice_of_this_thread();
        let nices: Vec<i32> = run(|| {
            (0..64)
                .into_par_iter()
                .map(|_| nice_of_this_thread())
                .collect()
        });
        assert!(nices.iter().all(|&n| n == BACKGROUND_NICE), "{nices:?}");
        let pool = background_pool().unwrap();
        assert_eq!(
            pool.current_num_threads(),
            rayon::current_num_threads(),
            "all cores"
        );
        assert_eq!(
            nice_of_this_thread(),
            before,
            "the calling thread is not reniced"
        );
    }
}
