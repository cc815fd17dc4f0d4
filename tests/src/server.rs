//! A real Gavel server for a test: the library's `run` on a port chosen by
//! the system, on its own runtime and thread, so that a test can stop it
//! gracefully or make it vanish mid-flight as a crash would.

use ed25519_dalek::SigningKey;
use gavel_client::{Client, Session};
use gavel_protocol::{MeetingId, Principal, PublicKey};
use gavel_server::limits::LimitSettings;
use gavel_server::meeting::{EXAMPLE, MeetingDefinition};
use gavel_server::store::Store;
use gavel_server::{app, enrollment};
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How a test server ends.
enum Stop {
    Graceful,
    /// Every task stops at its next await, as if the process were killed:
    /// nothing more is committed and nothing is flushed.
    Crash,
}

pub struct TestServer {
    pub url: String,
    pub database_url: String,
    pub server_key: SigningKey,
    stop: Option<mpsc::Sender<Stop>>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
}

/// The example meeting's id.
pub fn example_meeting() -> MeetingId {
    MeetingDefinition::parse(EXAMPLE)
        .expect("the example parses")
        .id
}

impl TestServer {
    /// Imports the example meeting into the store at `database_url` and starts a server on it.
    pub async fn with_example(database_url: &str) -> anyhow::Result<TestServer> {
        TestServer::with_example_and(database_url, app::Options::default()).await
    }

    /// Like [`TestServer::with_example`], with `options` (tighter limits, say).
    pub async fn with_example_and(
        database_url: &str,
        options: app::Options,
    ) -> anyhow::Result<TestServer> {
        let store = Store::connect(database_url).await?;
        store
            .import_meeting(&example_meeting(), EXAMPLE, &[], &[])
            .await?;
        Ok(TestServer::start_with(
            database_url,
            SigningKey::generate(&mut rand::rngs::OsRng),
            options,
        ))
    }

    /// Starts a server on an existing store; returns once it is listening.
    pub fn start(database_url: &str, server_key: SigningKey) -> TestServer {
        TestServer::start_with(database_url, server_key, app::Options::default())
    }

    /// A server with a fresh key for a hall of simulated tablets: they all
    /// connect from 127.0.0.1, so the per-address limit admits `connections`.
    pub fn for_hall(database_url: &str, connections: usize) -> TestServer {
        let options = app::Options {
            limits: LimitSettings {
                connections_per_address: connections,
                ..LimitSettings::default()
            },
            ..app::Options::default()
        };
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        TestServer::start_with(database_url, key, options)
    }

    /// Like [`TestServer::start`], with `options`.
    ///
    /// On PostgreSQL the server holds its meetings' leases under a node id
    /// made from its key unless `options` names one, so that a server
    /// restarted with the same key takes its meetings back at once, as a
    /// `gavel serve` restarted on its data directory does.
    pub fn start_with(
        database_url: &str,
        server_key: SigningKey,
        mut options: app::Options,
    ) -> TestServer {
        options
            .node
            .get_or_insert_with(|| format!("test-{}", PublicKey::of(&server_key).to_hex()));
        let (stop_tx, stop_rx) = mpsc::channel();
        let (url_tx, url_rx) = mpsc::channel();
        let url_for_thread = database_url.to_owned();
        let key = server_key.clone();
        let thread = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let shutdown = CancellationToken::new();
            let server = runtime.spawn({
                let shutdown = shutdown.clone();
                async move {
                    let store = Store::connect(&url_for_thread).await?;
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let scheme = if options.tls.is_some() { "wss" } else { "ws" };
                    url_tx.send(format!("{scheme}://{}/ws", listener.local_addr()?))?;
                    app::run(listener, store, key, options, shutdown).await
                }
            });
            match stop_rx.recv() {
                Ok(Stop::Crash) | Err(_) => {
                    runtime.shutdown_background();
                    Ok(())
                }
                Ok(Stop::Graceful) => {
                    shutdown.cancel();
                    runtime.block_on(server)?
                }
            }
        });
        let url = url_rx.recv().expect("the test server starts listening");
        TestServer {
            url,
            database_url: database_url.to_owned(),
            server_key,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn end(&mut self, how: Stop) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(how);
        }
        match self.thread.take() {
            Some(thread) => thread.join().expect("server thread"),
            None => Ok(()),
        }
    }

    /// Stops the server gracefully and waits until it has.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.end(Stop::Graceful)
    }

    /// Makes the server vanish as in a crash, then starts a new one on the same store and key.
    pub fn crash_and_restart(mut self) -> anyhow::Result<TestServer> {
        self.end(Stop::Crash)?;
        Ok(TestServer::start(
            &self.database_url,
            self.server_key.clone(),
        ))
    }

    pub async fn store(&self) -> anyhow::Result<Store> {
        Ok(Store::connect(&self.database_url).await?)
    }

    /// Issues a code for `principal` in the example meeting, enrolls a
    /// fresh key with it and logs in.
    pub async fn enroll(&self, principal: Principal) -> anyhow::Result<(SigningKey, Session)> {
        self.enroll_in(&example_meeting(), principal).await
    }

    /// [`TestServer::enroll`] in another meeting the store holds.
    pub async fn enroll_in(
        &self,
        meeting: &MeetingId,
        principal: Principal,
    ) -> anyhow::Result<(SigningKey, Session)> {
        let store = self.store().await?;
        let codes = enrollment::issue(&store, meeting, &[principal], 1).await?;
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let mut client = Client::connect(&self.url).await?;
        let (enrolled_meeting, enrolled_as) = client.enroll(&codes[0].1, &key).await?;
        anyhow::ensure!(
            &enrolled_meeting == meeting && enrolled_as == principal,
            "enrolled as {enrolled_as}"
        );
        let session = client.login(meeting, &key).await?;
        Ok((key, session))
    }

    /// Logs an enrolled key in again (a reconnecting device).
    pub async fn login(&self, key: &SigningKey) -> anyhow::Result<Session> {
        self.login_in(&example_meeting(), key).await
    }

    /// [`TestServer::login`] in another meeting the store holds.
    pub async fn login_in(&self, meeting: &MeetingId, key: &SigningKey) -> anyhow::Result<Session> {
        Ok(Client::connect(&self.url)
            .await?
            .login(meeting, key)
            .await?)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.end(Stop::Graceful);
    }
}
