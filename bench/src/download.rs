//! Documents at check-in: every tablet of the hall fetches the meeting's
//! whole document set over HTTP, one document after another as the tablet
//! app does when a delegate checks in, checking that each comes back byte
//! for byte; and the baseline those downloads are measured against, the
//! same bytes from a plain static-file server (tower-http's `ServeDir`, in a
//! process of its own as the broadcaster is).
//!
//! **The check is a comparison, not a hash per tablet.** A real tablet
//! hashes what it receives on its own processor; the simulated tablets share
//! the server's cores, and hashing every tablet's copy (18 GB for 300
//! tablets and 60 MiB) took two thirds of them, which measured the swarm
//! rather than the server. So each distinct document is fetched once before
//! the run and checked against the SHA-256 the meeting lists, and every
//! tablet's copy is then compared with those bytes as it arrives: the same
//! byte-identity, at the cost of a memory comparison.

use crate::measure::rss_kib;
use crate::process::DocumentFile;
use crate::report::Report;
use anyhow::Context as _;
use gavel_client::client::Session;
use gavel_client::tls::Trust;
use gavel_client::view::{api_url, http_client};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt as _;
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

/// How often the server's resident memory is read for its peak.
const RSS_EVERY: Duration = Duration::from_millis(20);
/// What the static server prints, then its address, once it listens.
const STATIC_LISTENING: &str = "static server listening on ";
/// How a tablet shows a delegates-only document its session's capability.
const ACCESS_HEADER: &str = "X-Gavel-Document-Access";

/// The document set: `count` PDFs of about `bytes` each.
pub fn document_set(count: u32, bytes: usize) -> Vec<DocumentFile> {
    (1..=count)
        .map(|n| DocumentFile {
            name: format!("tai-lieu-{n:02}.pdf"),
            bytes: gavel_tests::documents::pdf_of_size(&format!("Document {n}"), bytes),
        })
        .collect()
}

/// One document to fetch: where, and the bytes it must be.
#[derive(Debug, Clone)]
pub(crate) struct Fetch {
    url: String,
    expected: Arc<[u8]>,
}

/// What every tablet of a run fetches, and with which capability.
pub(crate) struct Fetches {
    documents: Vec<Fetch>,
    /// Per tablet: its session's `document_access` token, if any.
    access: Vec<Option<String>>,
}

impl Fetches {
    /// The first item's documents, as the sessions' meeting view lists
    /// them, each tablet with its own session's capability; each document
    /// fetched once here and checked against its SHA-256, the bytes every
    /// tablet's copy is compared with.
    pub(crate) async fn of(url: &str, sessions: &[Session]) -> anyhow::Result<Fetches> {
        let first = sessions.first().context("no tablet logged in")?;
        let item = first
            .meeting
            .agenda
            .first()
            .context("the meeting has no item")?;
        let token = first
            .state
            .document_access
            .as_deref()
            .context("a tablet's session brought no document access")?;
        let http = http_client(&Trust::default())?;
        let mut documents = Vec::with_capacity(item.documents.len());
        for d in &item.documents {
            let path = format!("api/meetings/{}/documents/{}", first.meeting.id, d.sha256);
            let url = api_url(url, &path)?.to_string();
            let bytes = http
                .get(&url)
                .header(ACCESS_HEADER, token)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            anyhow::ensure!(
                bytes.len() as u64 == d.size
                    && gavel_protocol::Sha::of(&bytes).to_hex() == d.sha256,
                "{url} came back other than its hash"
            );
            documents.push(Fetch {
                url,
                expected: Arc::from(&bytes[..]),
            });
        }
        let access = sessions
            .iter()
            .map(|s| {
                s.state
                    .document_access
                    .clone()
                    .context("a tablet's session brought no document access")
                    .map(Some)
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Fetches { documents, access })
    }

    /// Every tablet fetches every document at once (each tablet its
    /// documents one after another); the report gets what came back and
    /// how long it took from the first request to the last byte.
    pub(crate) async fn run(self, report: &mut Report) -> anyhow::Result<()> {
        let devices = devices()?;
        let http = http_client(&Trust::default())?;
        let started = Instant::now();
        let tasks: Vec<_> = self
            .access
            .into_iter()
            .map(|access| {
                let http = http.clone();
                let documents = self.documents.clone();
                devices.spawn(async move { fetch_all(&http, &documents, access.as_deref()).await })
            })
            .collect();
        let mut all = Fetched::default();
        for task in tasks {
            let one = task.await?;
            all.intact += one.intact;
            all.wrong += one.wrong;
            all.bytes += one.bytes;
            if let Some(e) = one.error {
                report.error(e);
            }
        }
        report.download_seconds = Some(started.elapsed().as_secs_f64());
        devices.shutdown_background();
        report.documents_fetched = Some(all.intact);
        report.documents_wrong = Some(all.wrong);
        report.download_bytes = Some(all.bytes);
        Ok(())
    }
}

/// How far below the swarm's other threads the downloads' threads run.
const DOWNLOADS_NICE: libc::c_int = 10;

/// The runtime the downloads run on: threads of their own, below the
/// swarm's other threads in the kernel's eyes ([`DOWNLOADS_NICE`]). The tablets of a
/// hall receive and check their documents each on its own processor; here
/// they share the server's cores with the tablets that vote, and on the
/// swarm's runtime one tablet's ballot would wait behind every other
/// tablet's download. The server's work is the same either way.
fn devices() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tablet-downloads")
        .enable_all()
        .on_thread_start(move || {
            // SAFETY: setpriority on this thread (PRIO_PROCESS with a
            // thread's id, as Linux allows) touches no memory of ours.
            unsafe {
                libc::setpriority(
                    libc::PRIO_PROCESS,
                    libc::gettid() as libc::id_t,
                    DOWNLOADS_NICE,
                );
            }
        })
        .build()?)
}

#[derive(Default)]
struct Fetched {
    intact: u64,
    wrong: u64,
    bytes: u64,
    error: Option<String>,
}

/// Fetches `documents` one after another, as a tablet does at check-in.
async fn fetch_all(http: &reqwest::Client, documents: &[Fetch], access: Option<&str>) -> Fetched {
    let mut out = Fetched::default();
    for document in documents {
        match fetch_one(http, document, access).await {
            Ok((bytes, true)) => {
                out.bytes += bytes;
                out.intact += 1;
            }
            Ok((bytes, false)) => {
                out.bytes += bytes;
                out.wrong += 1;
                out.error.get_or_insert_with(|| {
                    format!("{} came back other than its bytes", document.url)
                });
            }
            Err(e) => {
                out.wrong += 1;
                out.error
                    .get_or_insert_with(|| format!("{}: {e}", document.url));
            }
        }
    }
    out
}

/// The document's bytes as they arrive, compared on the way with what they
/// must be; how many came, and whether they are the document.
async fn fetch_one(
    http: &reqwest::Client,
    document: &Fetch,
    access: Option<&str>,
) -> reqwest::Result<(u64, bool)> {
    let mut request = http.get(&document.url);
    if let Some(token) = access {
        request = request.header(ACCESS_HEADER, token);
    }
    let mut response = request.send().await?.error_for_status()?;
    let mut received = 0;
    let mut same = true;
    while let Some(chunk) = response.chunk().await? {
        let end = received + chunk.len();
        same = same && document.expected.get(received..end) == Some(&chunk[..]);
        received = end;
    }
    Ok((received as u64, same && received == document.expected.len()))
}

/// Reads a process's resident memory every few milliseconds until `stop`;
/// the most it saw.
pub(crate) async fn peak_rss(pid: u32, stop: CancellationToken) -> u64 {
    let mut peak = 0;
    loop {
        if let Some(kib) = rss_kib(pid) {
            peak = peak.max(kib);
        }
        tokio::select! {
            () = stop.cancelled() => return peak,
            () = sleep(RSS_EVERY) => {}
        }
    }
}

/// The baseline: `tablets` clients fetch `documents` from a plain
/// static-file server started for the run, as they fetch them from Gavel.
pub async fn baseline_static(
    program: &Path,
    tablets: u32,
    documents: &[DocumentFile],
) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    let mut fetches = Vec::new();
    for document in documents {
        std::fs::write(dir.path().join(&document.name), &document.bytes)?;
        fetches.push((document.name.clone(), Arc::from(document.bytes.as_slice())));
    }
    let mut child = tokio::process::Command::new(program)
        .arg("static-server")
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {} static-server", program.display()))?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await?
            .context("the static server exited before listening")?;
        if let Some(addr) = line.strip_prefix(STATIC_LISTENING) {
            break addr.trim().to_owned();
        }
    };
    let documents = fetches
        .into_iter()
        .map(|(name, expected)| Fetch {
            url: format!("http://{addr}/{name}"),
            expected,
        })
        .collect();
    let pid = child.id().context("the static server's pid")?;
    let mut report = Report::new("baseline-static", tablets);
    report.server_rss_before_kib = rss_kib(pid);
    let stop = CancellationToken::new();
    let sampler = tokio::spawn(peak_rss(pid, stop.clone()));
    Fetches {
        documents,
        access: vec![None; tablets as usize],
    }
    .run(&mut report)
    .await?;
    stop.cancel();
    report.server_rss_peak_kib = Some(sampler.await?);
    Ok(report)
}

/// The static server `baseline-static` starts: `ServeDir` over `dir` on a
/// free port, until killed.
pub async fn static_server(dir: &Path) -> anyhow::Result<()> {
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{STATIC_LISTENING}{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
