//! The HTTP side: the router, the WebSocket upgrade with its limits (frame
//! size, buffers, connections per address, browser origin), security
//! headers on every response, and a graceful shutdown that also covers
//! upgraded connections (axum's own graceful shutdown does not wait for them).
//! The same router serves plain HTTP and, with [`Options::tls`], HTTPS and WSS.

use crate::connection;
use crate::health::{self, Readiness};
use crate::hub::Hub;
use crate::limits::{AddressLimits, LimitSettings};
use crate::ready_file::ReadyFile;
use crate::store::Store;
use crate::tls::TlsListener;
use anyhow::Context as _;
use axum::Router;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::{IncomingStream, Listener};
use ed25519_dalek::SigningKey;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The most a client frame may hold before the WebSocket layer stops reading
/// it. Frames above the protocol's limit (`MAX_CLIENT_FRAME_BYTES`) but below
/// this are read whole and refused with close code 1009; only beyond this is
/// the connection cut mid-frame.
const MAX_READ_BYTES: usize = 256 * 1024;
/// Bytes read from a socket at a time. A ballot frame is about 400 bytes; each
/// connection keeps this buffer for as long as it is open (at 4 KiB it was
/// a third of an idle tablet's cost), and a larger frame is read in a few
/// passes.
const READ_BUFFER: usize = 1024;
/// Bytes a client may have queued for it. One frame must fit whole, or the
/// connection fails: the largest is a tally listing every seat's choice in a
/// named round (about 30 bytes a seat, 300 KiB at 10,000 seats); the roster
/// is fetched over HTTP, never sent on the socket. A client that stops
/// reading is dropped by the send timeout long before this fills.
const MAX_WRITE_BUFFER: usize = 1024 * 1024;
/// Bytes gathered before they are written to the socket: none, since every
/// frame is flushed as it is sent anyway. Kept at zero so that an idle
/// connection holds no write buffer beyond the frames it was actually sent.
const WRITE_BUFFER: usize = 0;

/// The web apps load nothing from elsewhere and run no inline code, so the
/// policy can be this strict: a script injected through, say, a delegate's
/// name would not run. pdf.js (the tablet's reader, the hall screen's
/// presented page) runs its parser in a worker from the server's own files, and needs no eval: its
/// version 6 compiles no code at run time, and it is told not to use its
/// WebAssembly image decoders, which would need `'wasm-unsafe-eval'`.
/// No page of the apps may be framed; the public page names who may frame
/// it ([`crate::web::PublicPolicy`]).
pub fn content_security_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'; worker-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors {frame_ancestors}; form-action 'self'"
    )
}

/// The apps' policy: framed by nobody.
static APPS_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    HeaderValue::from_str(&content_security_policy("'none'")).expect("the policy is a valid header")
});

/// How the server treats the network around it.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub limits: LimitSettings,
    /// Browser origins, besides the server's own, whose pages may open the
    /// WebSocket (e.g. `https://vote.example.org` behind a proxy that
    /// rewrites the Host header). Clients that send no Origin (the Rust
    /// tablet, scripts) are not browsers and are not checked.
    pub allowed_origins: Vec<String>,
    /// Sites whose pages may frame the public page (`frame-ancestors`).
    pub public_frame_ancestors: Vec<String>,
    /// Serve HTTPS and WSS with these TLS settings instead of plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Where to serve `/metrics` (and `/healthz`, `/readyz`) in plain HTTP,
    /// apart from the hall's listener: metrics are for the operator's
    /// monitoring, not for everyone on the hall's network. None: no metrics.
    pub metrics_listen: Option<SocketAddr>,
    /// Where to write the bound addresses once every listener is bound
    /// ([`ReadyFile`]), for the program that started the server.
    pub ready_file: Option<PathBuf>,
    /// On PostgreSQL, the id under which this node holds its meetings'
    /// leases: the same across restarts, so that a restarted node takes its
    /// meetings back at once. `None`: one drawn at start.
    pub node: Option<String>,
    /// On PostgreSQL, how long this node's leases last unless renewed: how
    /// long its meetings wait for another node if it dies. `None`: the
    /// default, [`hub::leases::TERM`](crate::hub::leases::TERM).
    pub lease_term: Option<Duration>,
}

#[derive(Clone)]
struct AppState {
    hub: Arc<Hub>,
    shutdown: CancellationToken,
    connections: TaskTracker,
    limits: Arc<AddressLimits>,
    allowed_origins: Arc<Vec<String>>,
}

/// How many connections the kernel queues before the server accepts them.
/// Tokio's default of 1,024 is overrun when a hall's tablets all reconnect
/// at once (after a Wi-Fi outage, or a swarm of 10,000 logging in), and the
/// kernel then drops or resets the surplus. The kernel caps it at
/// `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 8192;

/// Listens on `addr` with a listen queue of [`LISTEN_BACKLOG`].
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does: a restarted server gets its port back at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Starts the hub on `store` and serves until `shutdown` fires; returns once
/// every connection has been closed and every meeting's last ballots committed.
///
/// The listeners serve at once, while the meetings are restored: probes get
/// their answer (`/readyz`: not ready, restoring), and WebSocket connections
/// wait for the meetings. A meeting that cannot be restored stops the server
/// with the error.
pub async fn run(
    listener: TcpListener,
    store: Store,
    server_key: SigningKey,
    options: Options,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Cancelled by `shutdown`, or by a failed restore.
    let stop = shutdown.child_token();
    let hub = Hub::new(
        store.clone(),
        server_key,
        options.node.clone(),
        options.lease_term,
    );
    let readiness = Readiness::new(hub.clone(), store, stop.clone());
    let metrics_listener = match options.metrics_listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening for metrics on {addr}"))?,
        ),
        None => None,
    };
    let state = AppState {
        hub: hub.clone(),
        shutdown: stop.clone(),
        connections: TaskTracker::new(),
        limits: AddressLimits::new(options.limits),
        allowed_origins: Arc::new(options.allowed_origins),
    };
    let router = Router::new()
        .route("/ws", get(upgrade))
        .with_state(state.clone())
        .merge(health::routes(readiness.clone()))
        .merge(crate::web::routes(
            hub.clone(),
            crate::web::PublicPolicy::new(&options.public_frame_ancestors)?,
        ))
        .merge(crate::secretariat::routes(
            hub.clone(),
            state.limits.clone(),
        ))
        .layer(axum::middleware::map_response(security_headers));
    let addr = listener.local_addr().context("listener address")?;
    let metrics_addr = match &metrics_listener {
        Some(listener) => Some(listener.local_addr().context("metrics listener address")?),
        None => None,
    };
    if let Some(path) = &options.ready_file {
        let ready = ReadyFile {
            listen: addr,
            metrics: metrics_addr,
        };
        ready
            .write(path)
            .with_context(|| format!("writing the ready file {}", path.display()))?;
    }
    let public = async {
        match options.tls {
            Some(config) => {
                tracing::info!(%addr, "gavel listening (HTTPS, WSS)");
                serve(TlsListener::new(listener, config), router, &stop).await
            }
            None => {
                tracing::info!(%addr, "gavel listening");
                serve(PlainListener(listener), router, &stop).await
            }
        }
    };
    let metrics = async {
        let (Some(listener), Some(addr)) = (metrics_listener, metrics_addr) else {
            return Ok(());
        };
        tracing::info!(%addr, "metrics listening");
        let router = health::routes(readiness).merge(health::metrics_routes());
        serve(PlainListener(listener), router, &stop).await
    };
    let restore = async {
        let restored = hub.restore(&stop).await;
        if let Err(e) = &restored {
            tracing::error!(
                error = format!("{e:#}"),
                "meetings could not be restored; stopping"
            );
            stop.cancel();
        }
        restored
    };
    let (restored, public, metrics, (), ()) = tokio::join!(
        restore,
        public,
        metrics,
        hub.watch_documents(&stop),
        crate::secretariat::answer_calls(hub.clone(), stop.clone()),
    );
    state.connections.close();
    state.connections.wait().await;
    hub.stopped().await;
    restored?;
    public?;
    metrics?;
    tracing::info!("gavel stopped");
    Ok(())
}

/// Serves `router` on `listener` until `shutdown` fires and every HTTP
/// request (not every WebSocket: those are tracked in [`AppState`]) is done.
async fn serve<L>(listener: L, router: Router, shutdown: &CancellationToken) -> anyhow::Result<()>
where
    L: Listener<Addr = SocketAddr>,
    Peer: for<'a> Connected<IncomingStream<'a, L>>,
{
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned())
    .await
    .context("serving HTTP")
}

/// The address a connection comes from, for the limits per address. Its
/// own type because axum provides the address of plain TCP connections only.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

impl Connected<IncomingStream<'_, PlainListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, PlainListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

/// A TCP listener whose connections send every frame at once: without
/// TCP_NODELAY, Nagle's algorithm and delayed acknowledgements hold small
/// frames (an ack, a tally) back by up to 40 ms.
struct PlainListener(TcpListener);

impl Listener for PlainListener {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, peer) = Listener::accept(&mut self.0).await;
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %e, "TCP_NODELAY not set");
        }
        (stream, peer)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Listener::local_addr(&self.0)
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    State(state): State<AppState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
) -> Response {
    if !origin_allowed(&headers, &state.allowed_origins) {
        tracing::warn!(%peer, origin = ?headers.get(header::ORIGIN), "WebSocket from a foreign page refused");
        return (
            StatusCode::FORBIDDEN,
            "this page's origin may not connect to Gavel",
        )
            .into_response();
    }
    if !state.hub.is_restored() {
        // Held until the meetings are there, as the listen queue would hold
        // it if the server were not serving yet.
        tokio::select! {
            () = state.hub.restored() => {}
            () = state.shutdown.cancelled() => {
                return (StatusCode::SERVICE_UNAVAILABLE, "the server is stopping").into_response();
            }
        }
    }
    let Some(permit) = state.limits.admit(peer.ip()) else {
        tracing::warn!(%peer, "too many connections from one address");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many connections from this address",
        )
            .into_response();
    };
    ws.max_message_size(MAX_READ_BYTES)
        .max_frame_size(MAX_READ_BYTES)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| {
            let AppState {
                hub,
                shutdown,
                connections,
                limits,
                ..
            } = state;
            connections.track_future(async move {
                connection::serve(socket, hub, peer, limits, shutdown).await;
                drop(permit);
            })
        })
}

/// A browser page may only open the WebSocket from the server's own origin
/// (or one configured), so that a page elsewhere cannot use a delegate's
/// browser against the hall's server. Non-browser clients send no Origin.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    (origin_host.is_some() && origin_host == host) || allowed.iter().any(|a| a == origin)
}

/// Every response gets the apps' policy and may not be framed, unless its
/// handler set a policy of its own (the public page and its minutes, which
/// the settings' sites may frame).
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, APPS_POLICY.clone());
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn only_the_servers_own_pages_and_listed_origins_may_connect() {
        assert!(origin_allowed(&headers(None, "hall:8080"), &[]));
        assert!(origin_allowed(
            &headers(Some("http://hall:8080"), "hall:8080"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("http://evil.example"), "hall:8080"),
            &[]
        ));
        assert!(!origin_allowed(&headers(Some("null"), "hall:8080"), &[]));
        let listed = vec!["https://vote.example.org".to_owned()];
        assert!(origin_allowed(
            &headers(Some("https://vote.example.org"), "10.0.0.5:8080"),
            &listed
        ));
    }
}
