//! A TCP proxy that a test cuts (every open connection dropped, new ones
//! refused) and restores: PostgreSQL going away and coming back as the hub
//! sees it, or the hall's Wi-Fi failing as the tablets see it. In front of
//! several nodes it is the hall's reverse proxy: each new connection goes to
//! the next node in turn, or to the one after if that one refuses it. In
//! front of PostgreSQL it can also lose the answer to a commit: the commit
//! goes through, and the connection drops before its answer arrives. And
//! it can go silent, as a dead host or a black-holed route does: nothing
//! passes either way and nothing is reset, until it is restored.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

/// A TCP proxy to one or more upstream addresses that the test can cut and restore.
pub struct Proxy {
    pub addr: SocketAddr,
    link: Arc<Mutex<Link>>,
    counts: Arc<Counts>,
    /// True while silent: every byte waits, in both directions.
    silent: Arc<watch::Sender<bool>>,
}

struct Link {
    up: bool,
    /// Armed: the next `COMMIT` to go through is let through, and its
    /// connection is dropped before the answer reaches the client.
    lose_commit_answer: bool,
    /// Armed: the proxy goes silent as the next `COMMIT` comes, which it
    /// holds with everything else.
    silence_at_commit: bool,
    /// Cancelled to drop every connection open now; each cut takes a new
    /// one, so that a connection let through after a restore is not dropped
    /// by an earlier cut.
    cut: CancellationToken,
}

#[derive(Default)]
struct Counts {
    /// Connections refused while the link was cut.
    refused: AtomicUsize,
    /// Connections let through to the upstream.
    passed: AtomicUsize,
    /// Notified at each refusal.
    refusal: Notify,
    /// Commits whose answer was lost.
    lost: AtomicUsize,
    /// Notified at each lost answer.
    loss: Notify,
}

impl Proxy {
    /// A proxy on a port of its own to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> anyhow::Result<Proxy> {
        Proxy::spread(vec![upstream], false).await
    }

    /// A proxy on a port of its own in front of Gavel nodes (`host:port`),
    /// as the hall's reverse proxy is: it asks each node's `/readyz` every
    /// [`HEALTH_EVERY`], and sends each new connection to the next ready
    /// node in turn, passing over any that refuses the TCP connection. A
    /// stopped node still accepts connections (the kernel does) but answers
    /// no probe, so it is passed over too.
    pub async fn balance(nodes: Vec<String>) -> anyhow::Result<Proxy> {
        Proxy::spread(nodes, true).await
    }

    async fn spread(upstreams: Vec<String>, probed: bool) -> anyhow::Result<Proxy> {
        anyhow::ensure!(!upstreams.is_empty(), "a proxy needs an upstream");
        let ready: Arc<Vec<AtomicBool>> =
            Arc::new(upstreams.iter().map(|_| AtomicBool::new(true)).collect());
        let upstreams = Arc::new(upstreams);
        if probed {
            tokio::spawn(probe(upstreams.clone(), ready.clone()));
        }
        let turn = Arc::new(AtomicUsize::new(0));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy = Proxy {
            addr: listener.local_addr()?,
            link: Arc::new(Mutex::new(Link {
                up: true,
                lose_commit_answer: false,
                silence_at_commit: false,
                cut: CancellationToken::new(),
            })),
            counts: Arc::default(),
            silent: Arc::new(watch::Sender::new(false)),
        };
        let (link, counts, silent) = (
            proxy.link.clone(),
            proxy.counts.clone(),
            proxy.silent.clone(),
        );
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let cut = {
                    let link = link.lock().unwrap();
                    link.up.then(|| link.cut.clone())
                };
                let Some(cut) = cut else {
                    // Refused: closed as soon as it is accepted.
                    counts.refused.fetch_add(1, Ordering::SeqCst);
                    counts.refusal.notify_waiters();
                    continue;
                };
                counts.passed.fetch_add(1, Ordering::SeqCst);
                let first = turn.fetch_add(1, Ordering::SeqCst);
                let (upstreams, ready) = (upstreams.clone(), ready.clone());
                let (link, counts, silent) = (link.clone(), counts.clone(), silent.clone());
                tokio::spawn(async move {
                    let mut server = None;
                    let n = upstreams.len();
                    let any_ready = ready.iter().any(|r| r.load(Ordering::SeqCst));
                    for i in (0..n).map(|i| (first + i) % n) {
                        if any_ready && !ready[i].load(Ordering::SeqCst) {
                            continue;
                        }
                        if let Ok(stream) = TcpStream::connect(&upstreams[i]).await {
                            server = Some(stream);
                            break;
                        }
                    }
                    let Some(server) = server else {
                        return;
                    };
                    tokio::select! {
                        () = cut.cancelled() => {}
                        () = relay(client, server, &link, &counts, &silent) => {}
                    }
                });
            }
        });
        Ok(proxy)
    }

    /// A proxy to the database of `url`, and the URL that goes through it.
    pub async fn in_front_of(url: &str) -> anyhow::Result<(Proxy, String)> {
        let upstream = address_of(url);
        let proxy = Proxy::start(upstream.to_owned()).await?;
        let proxied = url.replacen(upstream, &proxy.addr.to_string(), 1);
        Ok((proxy, proxied))
    }

    /// The WebSocket URL of a Gavel server behind this proxy.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        let mut link = self.link.lock().unwrap();
        link.up = false;
        link.cut.cancel();
        link.cut = CancellationToken::new();
    }

    /// Lets connections through again, and ends a silence: what was held
    /// goes on, as TCP's retransmissions deliver it once a route is back.
    pub fn restore(&self) {
        self.link.lock().unwrap().up = true;
        self.silent.send_replace(false);
    }

    /// Goes silent, as a host that died or a route that drops every packet:
    /// open connections stay open and pass nothing either way, new ones are
    /// accepted and pass nothing, and nothing is reset or closed, so a
    /// client learns of it only by its own timeouts. Until [`Proxy::restore`].
    pub fn silence(&self) {
        self.silent.send_replace(true);
    }

    /// Goes silent ([`Proxy::silence`]) as the next `COMMIT` arrives,
    /// holding it: the client waits on a transaction in flight, which no
    /// timeout of the database can end.
    pub fn silence_at_next_commit(&self) {
        self.link.lock().unwrap().silence_at_commit = true;
    }

    /// Whether it is silent now.
    pub fn is_silent(&self) -> bool {
        *self.silent.borrow()
    }

    /// Lets the next `COMMIT` that goes through reach the database, and
    /// drops its connection before the answer reaches the client: the
    /// client sees the connection lost, and the commit took place.
    pub fn lose_next_commit_answer(&self) {
        self.link.lock().unwrap().lose_commit_answer = true;
    }

    /// Waits until at least `n` answers to commits were lost.
    pub async fn lost_at_least(&self, n: usize) {
        loop {
            let loss = self.counts.loss.notified();
            if self.counts.lost.load(Ordering::SeqCst) >= n {
                return;
            }
            loss.await;
        }
    }

    /// Connections refused while cut, so far.
    pub fn refused(&self) -> usize {
        self.counts.refused.load(Ordering::SeqCst)
    }

    /// Connections let through, so far.
    pub fn passed(&self) -> usize {
        self.counts.passed.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` connections were refused while cut.
    pub async fn refused_at_least(&self, n: usize) {
        loop {
            let refusal = self.counts.refusal.notified();
            if self.refused() >= n {
                return;
            }
            refusal.await;
        }
    }
}

/// Copies bytes both ways until the server's side closes, or the client's
/// does and the server has answered; while `silent`, each chunk waits
/// (and, with the kernel's buffers full, nothing more is read). Once the
/// client sends a `COMMIT` while a lost answer is armed, the next bytes
/// from the server (the commit's answer: the client sends nothing more
/// before it) are dropped with the connection.
async fn relay(
    client: TcpStream,
    server: TcpStream,
    link: &Mutex<Link>,
    counts: &Counts,
    silent: &watch::Sender<bool>,
) {
    let heard = || async {
        let _ = silent.subscribe().wait_for(|silent| !*silent).await;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let mute = AtomicBool::new(false);
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    // Half-closed: the server may still answer.
                    let _ = server_write.shutdown().await;
                    return;
                }
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            if chunk.windows(6).any(|w| w == b"COMMIT") {
                let mut link = link.lock().unwrap();
                if link.lose_commit_answer {
                    link.lose_commit_answer = false;
                    mute.store(true, Ordering::SeqCst);
                }
                if link.silence_at_commit {
                    link.silence_at_commit = false;
                    silent.send_replace(true);
                }
            }
            heard().await;
            if server_write.write_all(chunk).await.is_err() {
                return;
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            heard().await;
            if mute.load(Ordering::SeqCst) {
                counts.lost.fetch_add(1, Ordering::SeqCst);
                counts.loss.notify_waiters();
                return;
            }
            if client_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::pin!(down);
    tokio::select! {
        () = up => down.await,
        () = &mut down => {}
    }
}

/// How often a balancing proxy asks its nodes whether they are ready, and
/// how long it waits for an answer.
pub const HEALTH_EVERY: Duration = Duration::from_millis(200);

/// Keeps `ready` up to date with each upstream's `/readyz`.
async fn probe(upstreams: Arc<Vec<String>>, ready: Arc<Vec<AtomicBool>>) {
    loop {
        for (upstream, ready) in upstreams.iter().zip(ready.iter()) {
            let answer = tokio::time::timeout(HEALTH_EVERY, crate::http::get(upstream, "/readyz"));
            let up = matches!(answer.await, Ok(Ok(r)) if r.status == 200);
            ready.store(up, Ordering::SeqCst);
        }
        tokio::time::sleep(HEALTH_EVERY).await;
    }
}

/// The `host:port` of a `postgres://user@host:port/db` URL.
pub fn address_of(url: &str) -> &str {
    let authority = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .expect("a database URL");
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}
