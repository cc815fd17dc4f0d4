//! What an operator's tools ask of a running server.
//!
//! - `/healthz`: the process answers HTTP (a liveness probe: restart it if not).
//! - `/readyz`: it can serve a meeting now: every stored meeting is
//!   restored and the store answers a query. Otherwise 503 with the reason
//!   (`restoring meetings`, `store unavailable`, `shutting down`), so that a
//!   load balancer or an orchestrator sends no one to it, and a person
//!   reading it knows what to look at. The store's own error is logged, not
//!   shown: these routes are also on the hall's listener.
//! - `/metrics`: see [`crate::metrics`]; only on the metrics listener.

use crate::hub::Hub;
use crate::metrics;
use crate::store::Store;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long the store may take to answer the probe's query.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the store's answer is reused: however many probes come (one per
/// load balancer, or someone on the hall's network asking in a loop), the
/// store is asked at most once in this time.
const PING_REUSE: Duration = Duration::from_secs(1);

/// Why the server is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    ShuttingDown,
    /// Meetings are being loaded; the store answers.
    Restoring,
    /// Meetings are being loaded, and the store does not answer.
    RestoringStoreUnavailable,
    StoreUnavailable,
}

impl NotReady {
    fn reason(self) -> &'static str {
        match self {
            NotReady::ShuttingDown => "shutting down",
            NotReady::Restoring => "restoring meetings",
            NotReady::RestoringStoreUnavailable => "restoring meetings: store unavailable",
            NotReady::StoreUnavailable => "store unavailable",
        }
    }
}

/// What `/readyz` looks at.
pub struct Readiness {
    hub: Arc<Hub>,
    store: Store,
    shutdown: CancellationToken,
    /// The store's last answer to the probe, and when it was asked.
    last_ping: Mutex<Option<(Instant, bool)>>,
}

impl Readiness {
    pub fn new(hub: Arc<Hub>, store: Store, shutdown: CancellationToken) -> Arc<Readiness> {
        Arc::new(Readiness {
            hub,
            store,
            shutdown,
            last_ping: Mutex::new(None),
        })
    }

    /// Ready, or why not.
    pub async fn check(&self) -> Result<(), NotReady> {
        if self.shutdown.is_cancelled() {
            return Err(NotReady::ShuttingDown);
        }
        let store_answers = self.store_answers().await;
        match (self.hub.is_restored(), store_answers) {
            (true, true) => Ok(()),
            (true, false) => Err(NotReady::StoreUnavailable),
            (false, true) => Err(NotReady::Restoring),
            (false, false) => Err(NotReady::RestoringStoreUnavailable),
        }
    }

    async fn store_answers(&self) -> bool {
        // Held while asking, so that probes arriving meanwhile wait for this
        // answer instead of asking too.
        let mut last = self.last_ping.lock().await;
        if let Some((at, answered)) = *last
            && at.elapsed() < PING_REUSE
        {
            return answered;
        }
        let answered = match tokio::time::timeout(PING_TIMEOUT, self.store.ping()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the store does not answer");
                false
            }
            Err(_) => {
                tracing::warn!(timeout = ?PING_TIMEOUT, "readiness: the store did not answer in time");
                false
            }
        };
        *last = Some((Instant::now(), answered));
        answered
    }
}

/// `/healthz` and `/readyz`.
pub fn routes(readiness: Arc<Readiness>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(readiness)
}

/// `/metrics`, for the metrics listener.
pub fn metrics_routes() -> Router {
    Router::new().route(
        "/metrics",
        get(|| async {
            (
                [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
                metrics::render(),
            )
        }),
    )
}

async fn readyz(State(readiness): State<Arc<Readiness>>) -> Response {
    let headers = [(header::CACHE_CONTROL, "no-store")];
    match readiness.check().await {
        Ok(()) => (StatusCode::OK, headers, "ready\n").into_response(),
        Err(not_ready) => (
            StatusCode::SERVICE_UNAVAILABLE,
            headers,
            format!("not ready: {}\n", not_ready.reason()),
        )
            .into_response(),
    }
}
