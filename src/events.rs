//! The event bus: what happened on the appliance (a run finished, a pack
//! was created, updated or deleted, the packs on disk changed), published
//! by whoever did it and streamed to browsers by `api::events`. Knows no
//! HTTP and no store: a bounded `tokio::sync::broadcast` channel of small,
//! already-serialized events.
//!
//! Bounded per subscriber: each one reads from the same ring of
//! [`CAPACITY`] events; a subscriber that falls more than that behind is
//! told it lagged (and the HTTP layer drops it), so a slow client never
//! makes the server buffer without bound. Sending costs the same with 0 or
//! 1,000 subscribers; idle subscribers hold no per-event memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::sync::Trigger;

/// Events kept for the slowest subscriber; one further behind is dropped.
pub const CAPACITY: usize = 256;

/// Counts of a finished run, as the event carries them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RunEventCounts {
    pub loaded: u64,
    pub registered: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub missing: u64,
    pub errors: u64,
    pub warnings: u64,
}

/// One event. Serialized as the SSE `data:` JSON; [`Event::name`] is the
/// SSE `event:` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A sync or validation finished and was recorded.
    RunFinished {
        pack_ref: String,
        /// `sync` or `validate`.
        run_kind: String,
        #[schema(value_type = crate::api::reports::TriggerView)]
        trigger: Trigger,
        ok: bool,
        /// Null for a dry run (nothing recorded).
        run_id: Option<u64>,
        counts: RunEventCounts,
    },
    PackCreated {
        pack_ref: String,
    },
    PackUpdated {
        pack_ref: String,
    },
    PackDeleted {
        pack_ref: String,
    },
    /// Pack folders appeared or disappeared under the packs folder (a
    /// client reloads the list of packs on disk).
    DiscoveryChanged,
}

impl Event {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::RunFinished { .. } => "run_finished",
            Event::PackCreated { .. } => "pack_created",
            Event::PackUpdated { .. } => "pack_updated",
            Event::PackDeleted { .. } => "pack_deleted",
            Event::DiscoveryChanged => "discovery_changed",
        }
    }
}

/// A published event: its name and its JSON, serialized once for every
/// subscriber.
#[derive(Debug, Clone)]
pub struct Published {
    pub name: &'static str,
    pub json: Arc<str>,
}

/// The bus; a cheap clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Published>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(CAPACITY);
        EventBus { tx }
    }

    /// Publishes to every current subscriber (none is fine).
    pub fn publish(&self, event: Event) {
        let json = match serde_json::to_string(&event) {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(error = %e, "cannot serialize an event");
                return;
            }
        };
        tracing::debug!(event = event.name(), "event");
        let _ = self.tx.send(Published {
            name: event.name(),
            json: Arc::from(json),
        });
    }

    /// A new subscriber: it sees events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.tx.subscribe()
    }

    /// Subscribers connected now.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// How long a ticket may wait before it is used.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// Tickets outstanding at once; more are refused.
pub const MAX_TICKETS: usize = 10_000;

/// Why no ticket was issued.
#[derive(Debug, PartialEq, Eq)]
pub enum TicketError {
    /// [`MAX_TICKETS`] are outstanding.
    TooMany,
    /// The OS random generator failed.
    Random(String),
}

/// Single-use tickets for the event stream (`EventSource` cannot send an
/// `Authorization` header): ticket → (login, expiry), in memory only; one
/// store per server, held in `AppState`.
#[derive(Debug, Default)]
pub struct Tickets {
    map: Mutex<HashMap<String, (String, Instant)>>,
}

impl Tickets {
    /// A new ticket for `login`: 32 random bytes, hex.
    pub fn issue(&self, login: &str) -> Result<String, TicketError> {
        let bytes =
            crate::auth::random_bytes(32).map_err(|e| TicketError::Random(e.to_string()))?;
        let ticket = hex::encode(bytes);
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, (_, expiry)| *expiry > now);
        if map.len() >= MAX_TICKETS {
            return Err(TicketError::TooMany);
        }
        map.insert(ticket.clone(), (login.to_string(), now + TICKET_TTL));
        Ok(ticket)
    }

    /// The ticket's login, once: a ticket cannot be used twice.
    pub fn redeem(&self, ticket: &str) -> Option<String> {
        self.redeem_at(ticket, Instant::now())
    }

    fn redeem_at(&self, ticket: &str, now: Instant) -> Option<String> {
        let (login, expiry) = self.lock().remove(ticket)?;
        (expiry > now).then_some(login)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        match self.map.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_good_once_and_only_before_it_expires() {
        let tickets = Tickets::default();
        let t = tickets.issue("alice").unwrap();
        assert_eq!(t.len(), 64);
        assert_eq!(tickets.redeem(&t).as_deref(), Some("alice"));
        assert_eq!(tickets.redeem(&t), None);
        let late = tickets.issue("bob").unwrap();
        let after = Instant::now() + TICKET_TTL + Duration::from_millis(1);
        assert_eq!(tickets.redeem_at(&late, after), None);
    }

    #[test]
    fn outstanding_tickets_are_bounded() {
        let tickets = Tickets::default();
        for _ in 0..MAX_TICKETS {
            tickets.issue("a").unwrap();
        }
        assert_eq!(tickets.issue("a"), Err(TicketError::TooMany));
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_it_lagged() {
        let bus = EventBus::new();
        let mut slow = bus.subscribe();
        let mut fast = bus.subscribe();
        for i in 0..(CAPACITY + 10) {
            bus.publish(Event::PackCreated {
                pack_ref: format!("p{i}"),
            });
            let got = fast.recv().await.unwrap();
            assert_eq!(got.name, "pack_created");
        }
        assert!(matches!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(10))
        ));
        assert_eq!(bus.subscribers(), 2);
    }

    #[test]
    fn events_serialize_with_their_kind() {
        let e = Event::RunFinished {
            pack_ref: "demo".into(),
            run_kind: "sync".into(),
            trigger: Trigger::Watch,
            ok: false,
            run_id: Some(7),
            counts: RunEventCounts::default(),
        };
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["kind"], "run_finished");
        assert_eq!(v["trigger"], "watch");
        assert_eq!(v["run_id"], 7);
        assert_eq!(
            serde_json::to_value(Event::DiscoveryChanged).unwrap()["kind"],
            "discovery_changed"
        );
    }
}
