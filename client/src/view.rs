//! The meeting view (roster, agenda, labels), fetched over HTTP(S) once per
//! hash and shared.
//!
//! `welcome` names the view by the SHA-256 of its bytes instead of carrying
//! it, so that a 10,000-seat roster is not sent on every socket. A device
//! fetches `GET /api/meetings/{id}/view` from the server it connected to,
//! over the same TLS settings (pinned certificate included) as its
//! WebSocket, and checks the bytes against the hash. Many sessions in one
//! process (the benchmark swarm, a reconnecting tablet) share one
//! [`ViewCache`] and so one fetch and one parsed view.

use crate::tls::{TlsError, Trust};
use gavel_protocol::MeetingId;
use gavel_protocol::messages::{MeetingView, view_hash};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("{0} is not a ws:// or wss:// address")]
    NotWebSocket(String),
    #[error("fetching the meeting view: {0}")]
    Fetch(#[from] reqwest::Error),
    #[error("the served meeting view has hash {found}, not the {expected} of the welcome")]
    HashMismatch { expected: String, found: String },
    #[error("the served meeting view does not parse: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("the server answered HTTP {0}")]
    Status(u16),
}

impl ViewError {
    /// Whether the server could not be reached (rather than answering
    /// wrongly), so that reconnecting may help.
    pub fn is_lost(&self) -> bool {
        matches!(self, ViewError::Fetch(e) if e.status().is_none())
    }
}

/// One fetch per view hash, shared by every session that holds the cache.
pub struct ViewCache {
    http: reqwest::Client,
    views: Mutex<HashMap<String, Arc<OnceCell<Arc<MeetingView>>>>>,
}

impl ViewCache {
    /// A cache whose fetches over `https://` accept the server certificates
    /// `trust` allows, as the device's WebSocket does.
    pub fn new(trust: &Trust) -> Result<ViewCache, ViewError> {
        Ok(ViewCache {
            http: http_client(trust)?,
            views: Mutex::default(),
        })
    }

    /// The view of `meeting` whose hash is `hash`, from the server at the
    /// WebSocket address `ws_url`: fetched the first time, shared after.
    pub async fn view(
        &self,
        ws_url: &str,
        meeting: &MeetingId,
        hash: &str,
    ) -> Result<Arc<MeetingView>, ViewError> {
        let cell = self
            .views
            .lock()
            .expect("view cache lock")
            .entry(hash.to_owned())
            .or_default()
            .clone();
        cell.get_or_try_init(|| self.fetch(ws_url, meeting, hash))
            .await
            .cloned()
    }

    async fn fetch(
        &self,
        ws_url: &str,
        meeting: &MeetingId,
        hash: &str,
    ) -> Result<Arc<MeetingView>, ViewError> {
        let url = view_url(ws_url, meeting)?;
        let bytes = self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let found = view_hash(&bytes);
        if found != hash {
            return Err(ViewError::HashMismatch {
                expected: hash.to_owned(),
                found,
            });
        }
        Ok(Arc::new(serde_json::from_slice(&bytes)?))
    }
}

/// The view's address beside a WebSocket endpoint:
/// `wss://hall:8443/ws` → `https://hall:8443/api/meetings/{id}/view`
/// (behind a proxy that serves Gavel under a path, the view is under it too).
fn view_url(ws_url: &str, meeting: &MeetingId) -> Result<reqwest::Url, ViewError> {
    api_url(ws_url, &format!("api/meetings/{meeting}/view"))
}

/// An HTTP client for a Gavel server whose `https://` addresses it reaches
/// with the server certificates `trust` allows, as the device's WebSocket
/// does; a hall's LAN server directly, never through a proxy.
pub fn http_client(trust: &Trust) -> Result<reqwest::Client, ViewError> {
    let tls = trust.client_config()?;
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(rustls::ClientConfig::clone(&tls))
        .no_proxy()
        .build()?)
}

/// The address of `path` of the HTTP API beside a WebSocket endpoint.
pub fn api_url(ws_url: &str, path: &str) -> Result<reqwest::Url, ViewError> {
    let not_ws = || ViewError::NotWebSocket(ws_url.to_owned());
    let mut url = reqwest::Url::parse(ws_url).map_err(|_| not_ws())?;
    let scheme = match url.scheme() {
        "ws" => "http",
        "wss" => "https",
        _ => return Err(not_ws()),
    };
    url.set_scheme(scheme).map_err(|()| not_ws())?;
    url.join(path).map_err(|_| not_ws())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_is_served_beside_the_websocket() {
        let meeting = MeetingId::parse("ward-7").unwrap();
        let url = |ws: &str| view_url(ws, &meeting).map(String::from);
        assert_eq!(
            url("ws://127.0.0.1:8080/ws").unwrap(),
            "http://127.0.0.1:8080/api/meetings/ward-7/view"
        );
        assert_eq!(
            url("WSS://hall:8443/ws?x=1").unwrap(),
            "https://hall:8443/api/meetings/ward-7/view"
        );
        assert_eq!(
            url("wss://hall/gavel/ws").unwrap(),
            "https://hall/gavel/api/meetings/ward-7/view"
        );
        assert!(matches!(
            view_url("http://hall/ws", &meeting),
            Err(ViewError::NotWebSocket(_))
        ));
    }
}
