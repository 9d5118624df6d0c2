//! Prometheus metrics (`GET /metrics`, OpenMetrics text), with
//! `prometheus-client`: the series, the calls that record them, and the
//! values read at scrape time. Every name starts with `attune_`.
//!
//! Recorded as things happen: HTTP requests (matched route template,
//! method, status; latency histogram), syncs and validations (kind,
//! trigger, outcome; duration histogram), diagnostics of each pack's last
//! run, login failures and throttling. Read at scrape time: workflows
//! registered / stale / disabled, the database file size, whether the
//! database accepts writes and how often it was reopened, watch mode's
//! mode, queue depth, fallbacks and syncs, open event streams, build info.
//!
//! Labels are bounded: routes are templates (`/api/v1/packs/{ref}`, never
//! the ref), methods outside the standard set are `other`, diagnostic codes
//! come from the validator's fixed list.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::sync::{ReportDiagnostic, Trigger};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    kind: &'static str,
    trigger: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
    trigger: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DiagLabels {
    code: &'static str,
    severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Diagnostic counts of one run, by (code, severity).
type DiagCounts = HashMap<(&'static str, &'static str), i64>;

/// Every series; held by `AppState` (one per server).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram>,
    /// Route templates as `'static` label values (see [`Metrics::route_label`]).
    routes: std::sync::RwLock<std::collections::HashSet<&'static str>>,
    runs: Family<RunLabels, Counter>,
    run_duration: Family<KindLabels, Histogram>,
    diagnostics: Family<DiagLabels, Gauge>,
    last_diagnostics: Mutex<HashMap<String, DiagCounts>>,
    workflows: Family<StateLabels, Gauge>,
    db_size: Gauge,
    db_up: Gauge,
    db_reopens: Counter,
    watch_mode: Family<ModeLabels, Gauge>,
    watch_queue: Gauge,
    watch_fallbacks: Counter,
    watch_syncs: Counter,
    watch_rewatches: Counter,
    event_streams: Gauge,
    validation_budget: Gauge,
    validation_in_flight: Gauge,
    validation_refused: Counter,
    login_failures: Counter,
    login_throttled: Counter,
}

fn http_buckets() -> impl Iterator<Item = f64> {
    [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ]
    .into_iter()
}

fn run_buckets() -> impl Iterator<Item = f64> {
    [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
    ]
    .into_iter()
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The method label: standard methods by name, anything else `other`.
pub fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// A counter raised to `target` (values kept elsewhere as atomics).
fn raise(counter: &Counter, target: u64) {
    let now = counter.get();
    if target > now {
        counter.inc_by(target - now);
    }
}

impl Metrics {
    pub fn new() -> Self {
        let m = Metrics {
            registry: Registry::with_prefix("attune"),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(|| Histogram::new(http_buckets())),
            routes: std::sync::RwLock::default(),
            runs: Family::default(),
            run_duration: Family::new_with_constructor(|| Histogram::new(run_buckets())),
            diagnostics: Family::default(),
            last_diagnostics: Mutex::new(HashMap::new()),
            workflows: Family::default(),
            db_size: Gauge::default(),
            db_up: Gauge::default(),
            db_reopens: Counter::default(),
            watch_mode: Family::default(),
            watch_queue: Gauge::default(),
            watch_fallbacks: Counter::default(),
            watch_syncs: Counter::default(),
            watch_rewatches: Counter::default(),
            event_streams: Gauge::default(),
            validation_budget: Gauge::default(),
            validation_in_flight: Gauge::default(),
            validation_refused: Counter::default(),
            login_failures: Counter::default(),
            login_throttled: Counter::default(),
        };
        m.registered()
    }

    fn registered(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "http_requests",
            "HTTP requests answered, by matched route template, method and status",
            self.http_requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to the response head, by matched route template and method",
            self.http_duration.clone(),
        );
        r.register(
            "runs",
            "Syncs and validations finished, by kind (sync, validate), trigger (api, auto, watch, upload) and outcome (ok, failed, error)",
            self.runs.clone(),
        );
        r.register(
            "run_duration_seconds",
            "Duration of syncs and validations, by kind and trigger",
            self.run_duration.clone(),
        );
        r.register(
            "diagnostics",
            "Diagnostics of each pack's last sync or validation since start, summed, by code and severity",
            self.diagnostics.clone(),
        );
        r.register(
            "workflows",
            "Workflows by state: registered (all), stale (file now has errors), disabled",
            self.workflows.clone(),
        );
        r.register(
            "database_size_bytes",
            "Size of the database file attune.redb",
            self.db_size.clone(),
        );
        r.register(
            "database_up",
            "1 when the database answers reads and accepts writes, 0 in the failed state",
            self.db_up.clone(),
        );
        r.register(
            "database_reopens",
            "Times the database was reopened in place after an I/O failure",
            self.db_reopens.clone(),
        );
        r.register(
            "watch_mode",
            "Watch mode: 1 for the mode in use (off, inotify, polling)",
            self.watch_mode.clone(),
        );
        r.register(
            "watch_queue_depth",
            "Packs waiting for their debounce or a follow-up sync",
            self.watch_queue.clone(),
        );
        r.register(
            "watch_fallbacks",
            "Times watch mode fell back to polling",
            self.watch_fallbacks.clone(),
        );
        r.register(
            "watch_syncs",
            "Syncs started by watch mode",
            self.watch_syncs.clone(),
        );
        r.register(
            "watch_rewatches",
            "Times the watch was rebuilt because the packs folder was replaced",
            self.watch_rewatches.clone(),
        );
        r.register(
            "event_streams",
            "Open /api/v1/events streams",
            self.event_streams.clone(),
        );
        r.register(
            "validation_budget_bytes",
            "Working memory validation work may reserve at once (validation.memory_budget_bytes)",
            self.validation_budget.clone(),
        );
        r.register(
            "validation_in_flight_bytes",
            "Working memory reserved by admitted validations, syncs and uploads",
            self.validation_in_flight.clone(),
        );
        r.register(
            "validation_refused",
            "Validation work answered 503 BUSY after waiting for the budget",
            self.validation_refused.clone(),
        );
        r.register(
            "login_failures",
            "Logins refused for a wrong login or password",
            self.login_failures.clone(),
        );
        r.register(
            "login_throttled",
            "Logins refused by the throttle (429)",
            self.login_throttled.clone(),
        );
        let build: Family<BuildLabels, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        r.register("build_info", "attune version (value 1)", build);
        self
    }

    /// One HTTP request answered; `route` is the matched route template
    /// (`None`: unmatched).
    pub fn http_request(
        &self,
        method: &'static str,
        route: Option<&str>,
        status: u16,
        seconds: f64,
    ) {
        let route = route.map_or("(unmatched)", |r| self.route_label(r));
        self.http_requests
            .get_or_create(&HttpLabels {
                method,
                route,
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels { method, route })
            .observe(seconds);
    }

    /// `template` as a `'static` label value, so that a request labels its
    /// series without allocating. Each template is leaked once: they come
    /// from the route table (axum's matched path, never a request's own
    /// path), so the set is fixed and small.
    fn route_label(&self, template: &str) -> &'static str {
        if let Ok(known) = self.routes.read()
            && let Some(r) = known.get(template)
        {
            return r;
        }
        let Ok(mut known) = self.routes.write() else {
            return "(unknown)";
        };
        if let Some(r) = known.get(template) {
            return r;
        }
        let leaked: &'static str = Box::leak(template.to_owned().into_boxed_str());
        known.insert(leaked);
        leaked
    }

    /// A sync or validation of `pack` finished (`outcome`: `ok`, `failed`
    /// for a run with errors, `error` when it could not run).
    pub fn run_finished(
        &self,
        pack: &str,
        kind: &'static str,
        trigger: Trigger,
        outcome: &'static str,
        seconds: f64,
        diagnostics: Option<&[ReportDiagnostic]>,
    ) {
        self.runs
            .get_or_create(&RunLabels {
                kind,
                trigger: trigger.as_str(),
                outcome,
            })
            .inc();
        self.run_duration
            .get_or_create(&KindLabels {
                kind,
                trigger: trigger.as_str(),
            })
            .observe(seconds);
        if let Some(diags) = diagnostics {
            let mut counts = DiagCounts::new();
            for d in diags {
                *counts
                    .entry((d.diagnostic.code.as_str(), d.diagnostic.severity.as_str()))
                    .or_default() += 1;
            }
            let mut last = match self.last_diagnostics.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            last.insert(pack.to_string(), counts);
        }
    }

    pub fn login_failed(&self) {
        self.login_failures.inc();
    }

    pub fn login_throttled(&self) {
        self.login_throttled.inc();
    }

    /// Values read at scrape time.
    pub fn set_snapshot(&self, s: &Snapshot<'_>) {
        if let Some(c) = s.workflows {
            for (state, v) in [
                ("registered", c.registered),
                ("stale", c.stale),
                ("disabled", c.disabled),
            ] {
                self.workflows
                    .get_or_create(&StateLabels { state })
                    .set(i64::try_from(v).unwrap_or(i64::MAX));
            }
        }
        self.db_size
            .set(i64::try_from(s.db_size).unwrap_or(i64::MAX));
        self.db_up.set(i64::from(s.db_up));
        raise(&self.db_reopens, s.reopens);
        let report = s.watch.report();
        for (mode, label) in [
            (crate::watch::WatchMode::Off, "off"),
            (crate::watch::WatchMode::Inotify, "inotify"),
            (crate::watch::WatchMode::Polling, "polling"),
        ] {
            self.watch_mode
                .get_or_create(&ModeLabels { mode: label })
                .set(i64::from(report.mode == mode));
        }
        self.watch_queue
            .set(i64::try_from(report.queue_depth).unwrap_or(i64::MAX));
        raise(
            &self.watch_fallbacks,
            s.watch.fallbacks.load(Ordering::Relaxed),
        );
        raise(&self.watch_syncs, s.watch.syncs.load(Ordering::Relaxed));
        raise(
            &self.watch_rewatches,
            s.watch.rewatches.load(Ordering::Relaxed),
        );
        self.event_streams
            .set(i64::try_from(s.event_streams).unwrap_or(i64::MAX));
        self.validation_budget
            .set(i64::try_from(s.budget.budget_bytes()).unwrap_or(i64::MAX));
        self.validation_in_flight
            .set(i64::try_from(s.budget.in_flight_bytes()).unwrap_or(i64::MAX));
        raise(&self.validation_refused, s.budget.refused());
        // Diagnostics of the packs that still exist.
        let mut last = match self.last_diagnostics.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(packs) = s.packs {
            last.retain(|p, _| packs.contains(p));
        }
        let mut sum = DiagCounts::new();
        for counts in last.values() {
            for (k, v) in counts {
                *sum.entry(*k).or_default() += v;
            }
        }
        drop(last);
        self.diagnostics.clear();
        for ((code, severity), v) in sum {
            self.diagnostics
                .get_or_create(&DiagLabels { code, severity })
                .set(v);
        }
    }

    /// The OpenMetrics text.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// What a scrape reads from the rest of the appliance.
pub struct Snapshot<'a> {
    /// None when the database could not be read.
    pub workflows: Option<crate::store::WorkflowCounts>,
    /// Registered pack refs (None when unknown).
    pub packs: Option<&'a std::collections::HashSet<String>>,
    pub db_size: u64,
    pub db_up: bool,
    pub reopens: u64,
    pub watch: &'a crate::watch::WatchStatus,
    pub event_streams: usize,
    pub budget: &'a crate::budget::WorkBudget,
}
