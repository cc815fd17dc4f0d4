//! A TCP proxy that a test cuts (every open connection dropped, new ones
//! refused) and restores: PostgreSQL going away and coming back as the hub
//! sees it, or the hall's Wi-Fi failing as the tablets see it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A TCP proxy to one upstream address that the test can cut and restore.
pub struct Proxy {
    pub addr: SocketAddr,
    link: Arc<Mutex<Link>>,
    counts: Arc<Counts>,
}

struct Link {
    up: bool,
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
}

impl Proxy {
    /// A proxy on a port of its own to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> anyhow::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy = Proxy {
            addr: listener.local_addr()?,
            link: Arc::new(Mutex::new(Link {
                up: true,
                cut: CancellationToken::new(),
            })),
            counts: Arc::default(),
        };
        let (link, counts) = (proxy.link.clone(), proxy.counts.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
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
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        () = cut.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
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

    pub fn restore(&self) {
        self.link.lock().unwrap().up = true;
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
