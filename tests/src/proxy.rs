//! A TCP proxy in front of a database that a test cuts (every connection
//! dropped, new ones refused) and restores: PostgreSQL going away and
//! coming back, as the hub sees it.

use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP proxy to the database that the test can cut and restore.
pub struct Proxy {
    pub addr: SocketAddr,
    cut: watch::Sender<bool>,
}

impl Proxy {
    pub async fn start(upstream: String) -> anyhow::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (cut, cut_rx) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *cut_rx.borrow() {
                    // Refused: closed as soon as it is accepted.
                    continue;
                }
                let mut cut_rx = cut_rx.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_rx.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Ok(Proxy { addr, cut })
    }

    /// A proxy to the database of `url`, and the URL that goes through it.
    pub async fn in_front_of(url: &str) -> anyhow::Result<(Proxy, String)> {
        let upstream = address_of(url);
        let proxy = Proxy::start(upstream.to_owned()).await?;
        let proxied = url.replacen(upstream, &proxy.addr.to_string(), 1);
        Ok((proxy, proxied))
    }

    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    pub fn restore(&self) {
        self.cut.send_replace(false);
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
