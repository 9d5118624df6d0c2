//! Login throttling: exponential backoff per login and per client address.
//!
//! Every login attempt is charged *before* the password is checked (so a
//! burst of parallel guesses cannot slip in before the first failure is
//! recorded); a success clears the login's record and refunds the address's
//! charge. After `free` charges a key is blocked for `base`, then twice as
//! long after each further failure, capped at `cap`: the real owner of a
//! login that is being guessed waits at most `cap`, never forever. Records
//! are forgotten `forget_after` their last failure, and the table holds at
//! most `max_entries` keys (the stalest are evicted first), so an attacker
//! inventing logins cannot grow memory without bound.
//!
//! Pure and clock-injected: callers pass `now`, tests drive time by hand.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The knobs of [`LoginLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures of one login (from any address) before backoff starts.
    pub per_login_free: u32,
    /// Failures from one address (any login) before backoff starts.
    pub per_ip_free: u32,
    /// First block.
    pub base: Duration,
    /// Longest block.
    pub cap: Duration,
    /// A record with no failure for this long is forgotten.
    pub forget_after: Duration,
    /// Most keys kept per table.
    pub max_entries: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            per_login_free: 5,
            per_ip_free: 20,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            forget_after: Duration::from_secs(900),
            max_entries: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Record {
    charges: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Debug, Default)]
struct Tables {
    logins: HashMap<String, Record>,
    ips: HashMap<IpAddr, Record>,
}

/// A charged attempt; give it back to [`LoginLimiter::succeeded`] when the
/// credentials were right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    login: String,
    ip: Option<IpAddr>,
}

/// Shared login throttle (one per server).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    policy: Policy,
    tables: Mutex<Tables>,
}

impl LoginLimiter {
    pub fn new(policy: Policy) -> LoginLimiter {
        LoginLimiter {
            policy,
            tables: Mutex::new(Tables::default()),
        }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Charges an attempt of `login` from `ip`, or says how long to wait.
    pub fn begin(
        &self,
        login: &str,
        ip: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, Duration> {
        let p = self.policy;
        // Valid logins are at most 64 characters: a longer text cannot make
        // a record bigger than that.
        let key: String = login.chars().take(64).collect::<String>().to_lowercase();
        let mut t = self.lock();
        let wait_login = blocked_for(t.logins.get(&key), now, p.forget_after);
        let wait_ip = ip.and_then(|ip| blocked_for(t.ips.get(&ip), now, p.forget_after));
        if let Some(wait) = wait_login.into_iter().chain(wait_ip).max() {
            return Err(wait);
        }
        charge(&mut t.logins, key.clone(), now, p, p.per_login_free);
        if let Some(ip) = ip {
            charge(&mut t.ips, ip, now, p, p.per_ip_free);
        }
        Ok(Attempt { login: key, ip })
    }

    /// The attempt's credentials were right: clear the login's record and
    /// refund the address's charge.
    pub fn succeeded(&self, attempt: Attempt) {
        let p = self.policy;
        let mut t = self.lock();
        t.logins.remove(&attempt.login);
        if let Some(ip) = attempt.ip
            && let Some(r) = t.ips.get_mut(&ip)
        {
            r.charges = r.charges.saturating_sub(1);
            if r.charges <= p.per_ip_free {
                r.blocked_until = None;
            }
        }
    }

    /// Number of keys held (logins, addresses).
    pub fn len(&self) -> (usize, usize) {
        let t = self.lock();
        (t.logins.len(), t.ips.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave the tables
        // inconsistent in a way that matters: keep serving.
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long `record` is still blocked at `now`, if at all.
fn blocked_for(record: Option<&Record>, now: Instant, forget_after: Duration) -> Option<Duration> {
    let r = record?;
    if now.saturating_duration_since(r.last) >= forget_after {
        return None;
    }
    let until = r.blocked_until?;
    let wait = until.saturating_duration_since(now);
    (!wait.is_zero()).then_some(wait)
}

fn charge<K: std::hash::Hash + Eq + Clone>(
    table: &mut HashMap<K, Record>,
    key: K,
    now: Instant,
    p: Policy,
    free: u32,
) {
    if !table.contains_key(&key) && table.len() >= p.max_entries {
        table.retain(|_, r| now.saturating_duration_since(r.last) < p.forget_after);
        if table.len() >= p.max_entries
            && let Some(stalest) = table
                .iter()
                .min_by_key(|(_, r)| r.last)
                .map(|(k, _)| k.clone())
        {
            table.remove(&stalest);
        }
    }
    let r = table.entry(key).or_insert(Record {
        charges: 0,
        last: now,
        blocked_until: None,
    });
    if now.saturating_duration_since(r.last) >= p.forget_after {
        r.charges = 0;
        r.blocked_until = None;
    }
    r.charges = r.charges.saturating_add(1);
    r.last = now;
    if r.charges > free {
        let doublings = (r.charges - free - 1).min(30);
        let block = p.base.saturating_mul(1u32 << doublings).min(p.cap);
        r.blocked_until = Some(now + block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, n]))
    }

    fn fail_n(l: &LoginLimiter, login: &str, from: Option<IpAddr>, n: u32, now: Instant) {
        for i in 0..n {
            l.begin(login, from, now)
                .unwrap_or_else(|w| panic!("attempt {i} refused for {w:?}"));
        }
    }

    #[test]
    fn backoff_doubles_per_failure_and_is_capped() {
        let l = LoginLimiter::default();
        let mut now = Instant::now();
        fail_n(&l, "admin", ip(1), 5, now);
        // The sixth attempt is allowed and blocks the next for 1 s.
        l.begin("admin", ip(1), now).unwrap();
        assert_eq!(l.begin("admin", ip(1), now), Err(Duration::from_secs(1)));
        let mut expected = Duration::from_secs(1);
        for _ in 0..20 {
            now += expected;
            l.begin("admin", ip(1), now).unwrap();
            expected = (expected * 2).min(Duration::from_secs(300));
            assert_eq!(l.begin("admin", ip(1), now), Err(expected));
        }
        assert_eq!(expected, Duration::from_secs(300), "capped at five minutes");
    }

    #[test]
    fn a_blocked_login_is_blocked_from_every_address_and_a_success_resets_it() {
        let l = LoginLimiter::default();
        let now = Instant::now();
        fail_n(&l, "admin", ip(1), 6, now);
        assert!(l.begin("ADMIN", ip(2), now).is_err(), "case-insensitive");
        assert!(
            l.begin("alice", ip(2), now).is_ok(),
            "other logins unaffected"
        );
        let later = now + Duration::from_secs(1);
        let attempt = l.begin("admin", ip(2), later).unwrap();
        l.succeeded(attempt);
        fail_n(&l, "admin", ip(2), 5, later);
    }

    #[test]
    fn one_address_guessing_many_logins_is_blocked() {
        let l = LoginLimiter::default();
        let now = Instant::now();
        for i in 0..21 {
            l.begin(&format!("user{i}"), ip(9), now).unwrap();
        }
        assert_eq!(l.begin("admin", ip(9), now), Err(Duration::from_secs(1)));
        assert!(
            l.begin("admin", ip(8), now).is_ok(),
            "other addresses unaffected"
        );
    }

    #[test]
    fn records_are_forgotten_after_a_quiet_period() {
        let l = LoginLimiter::default();
        let now = Instant::now();
        fail_n(&l, "admin", ip(1), 6, now);
        assert!(l.begin("admin", ip(1), now).is_err());
        let later = now + Policy::default().forget_after;
        fail_n(&l, "admin", ip(1), 5, later);
    }

    #[test]
    fn successes_do_not_accumulate_against_an_address() {
        let l = LoginLimiter::default();
        let now = Instant::now();
        for _ in 0..100 {
            let a = l.begin("admin", ip(1), now).unwrap();
            l.succeeded(a);
        }
        assert!(l.begin("admin", ip(1), now).is_ok());
    }

    #[test]
    fn the_tables_stay_bounded() {
        let l = LoginLimiter::new(Policy {
            max_entries: 50,
            per_ip_free: u32::MAX,
            ..Policy::default()
        });
        let now = Instant::now();
        for i in 0..1_000 {
            let _ = l.begin(&format!("u{i}"), ip((i % 200) as u8), now);
        }
        let (logins, ips) = l.len();
        assert!(logins <= 50 && ips <= 50, "{logins} {ips}");
    }
}
