//! Plain HTTP/1.1, enough for the probes (`/healthz`, `/readyz`),
//! `/metrics` (read with [`Scrape`]), the served meeting view and documents, and the secretariat's
//! JSON calls: the tests need a status, a few headers and a body, not an
//! HTTP client crate.

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A response's status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// A response's headers, for the tests that check caching.
#[derive(Debug, Clone, Default)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// The first value of header `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a server's `/metrics` answered once, to read samples from.
pub struct Scrape(pub String);

impl Scrape {
    /// Scrapes the metrics listener at `addr`.
    pub async fn of(addr: &str) -> anyhow::Result<Scrape> {
        let response = get(addr, "/metrics").await?;
        anyhow::ensure!(response.status == 200, "{response:?}");
        Ok(Scrape(response.body))
    }

    /// The value of one sample, e.g. `gavel_connections{role="chair"}`;
    /// 0 for a labelled sample not created yet.
    pub fn value(&self, sample: &str) -> f64 {
        self.0
            .lines()
            .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }
}

/// `after` minus `before` for one sample.
pub fn delta(before: &Scrape, after: &Scrape, sample: &str) -> f64 {
    after.value(sample) - before.value(sample)
}

/// `GET http://{addr}{path}`.
pub async fn get(addr: &str, path: &str) -> anyhow::Result<Response> {
    Ok(get_with(addr, path, &[]).await?.0)
}

/// `GET http://{addr}{path}` with extra request headers (`If-None-Match`,
/// say), and the response's headers.
pub async fn get_with(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<(Response, Headers)> {
    let (status, headers, body) = get_bytes(addr, path, headers).await?;
    let body = String::from_utf8(body).context("a text response")?;
    Ok((Response { status, body }, headers))
}

/// Like [`get_with`], for a body that is not text (a document): the status,
/// the headers and the body's bytes.
pub async fn get_bytes(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<(u16, Headers, Vec<u8>)> {
    request(addr, "GET", path, headers, None).await
}

/// `POST http://{addr}{path}` with a JSON body (none for `None`) and extra
/// request headers; the status and the body as text.
pub async fn post_json(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> anyhow::Result<Response> {
    let body = body.map(serde_json::Value::to_string);
    let body = body.as_deref().map(|b| ("application/json", b.as_bytes()));
    text_of(request(addr, "POST", path, headers, body).await?)
}

/// `PUT http://{addr}{path}` with a JSON body and extra request headers;
/// the status and the body as text.
pub async fn put_json(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &serde_json::Value,
) -> anyhow::Result<Response> {
    let body = body.to_string();
    text_of(
        request(
            addr,
            "PUT",
            path,
            headers,
            Some(("application/json", body.as_bytes())),
        )
        .await?,
    )
}

/// `POST http://{addr}{path}` with a body of `content_type`.
pub async fn post_text(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    content_type: &str,
    body: &str,
) -> anyhow::Result<Response> {
    post_bytes(addr, path, headers, content_type, body.as_bytes()).await
}

/// `POST http://{addr}{path}` with a body of bytes (a PDF); the answer as text.
pub async fn post_bytes(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<Response> {
    text_of(request(addr, "POST", path, headers, Some((content_type, body))).await?)
}

fn text_of((status, _, body): (u16, Headers, Vec<u8>)) -> anyhow::Result<Response> {
    let body = String::from_utf8(body).context("a text response")?;
    Ok(Response { status, body })
}

/// One request, with a body of its content type.
async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
) -> anyhow::Result<(u16, Headers, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let mut extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let (content_type, body) = body.unwrap_or(("", b""));
    if method != "GET" {
        if !content_type.is_empty() {
            extra.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        extra.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    let head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("a complete response")?;
    let head = std::str::from_utf8(&raw[..split]).context("a text head")?;
    let body = &raw[split + 4..];
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("a status line: {head}"))?;
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok((status, Headers(headers), body))
}

/// The `host:port` of a server's WebSocket URL (`ws://host:port/ws`).
pub fn address_of(ws_url: &str) -> &str {
    let rest = ws_url.split_once("://").map_or(ws_url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

fn dechunk(mut body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("a chunk size")?;
        let size = std::str::from_utf8(&body[..end]).context("a chunk size")?;
        let size = usize::from_str_radix(size.trim(), 16).context("a hexadecimal chunk size")?;
        if size == 0 {
            return Ok(out);
        }
        let rest = &body[end + 2..];
        out.extend_from_slice(rest.get(..size).context("a whole chunk")?);
        body = rest[size..]
            .strip_prefix(b"\r\n")
            .context("a chunk's end")?;
    }
}
