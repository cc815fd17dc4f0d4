//! Gavel serving WSS itself with a self-signed certificate, as on a hall
//! LAN without a domain: a device that pinned the certificate's fingerprint
//! enrolls, logs in and votes; a device expecting another certificate, or a
//! public authority's, is stopped by the TLS handshake; plain ws:// to the
//! TLS port gets nowhere.

use ed25519_dalek::SigningKey;
use gavel_client::{Client, ClientError, Session, Trust};
use gavel_protocol::messages::ChairCommand;
use gavel_protocol::{Choice, Fingerprint, Principal};
use gavel_server::app::Options;
use gavel_server::enrollment;
use gavel_server::tls::TlsSource;
use gavel_tests::databases;
use gavel_tests::server::{TestServer, example_meeting};
use std::time::Duration;
use tokio_tungstenite::tungstenite;

/// Enrolls a fresh key for `principal` over the server's `wss://` address
/// and logs in, trusting what `trust` allows.
async fn enroll(
    server: &TestServer,
    trust: &Trust,
    principal: Principal,
) -> anyhow::Result<Session> {
    let codes =
        enrollment::issue(&server.store().await?, &example_meeting(), &[principal], 1).await?;
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let mut client = Client::connect_trusting(&server.url, trust).await?;
    client.enroll(&codes[0].1, &key).await?;
    Ok(client.login(&example_meeting(), &key).await?)
}

/// Whether `error` is the TLS handshake refusing the server's certificate.
fn certificate_refused(error: &ClientError) -> bool {
    matches!(error, ClientError::Connection(_))
        && error.to_string().contains("invalid peer certificate")
}

/// The connection attempt's error, which must come at once, not after a hang.
async fn refused(url: &str, trust: &Trust) -> ClientError {
    let attempt = tokio::time::timeout(
        Duration::from_secs(10),
        Client::connect_trusting(url, trust),
    );
    match attempt.await.expect("a refusal, not a hang") {
        Ok(_) => panic!("{url} was reached with {trust:?}"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_device_votes_over_wss_and_no_other_gets_through() -> anyhow::Result<()> {
    let db = databases().await.remove(0);
    let data_dir = tempfile::tempdir()?;
    let tls = TlsSource::SelfSigned { names: vec![] }.load(data_dir.path())?;
    let options = Options {
        tls: Some(tls.config),
        ..Options::default()
    };
    let server = TestServer::with_example_and(&db.url, options).await?;
    assert!(server.url.starts_with("wss://127.0.0.1:"), "{}", server.url);
    let pinned = Trust::Fingerprint(tls.fingerprint);

    let mut chair = enroll(&server, &pinned, Principal::Chair).await?;
    let mut delegate = enroll(&server, &pinned, Principal::Seat(1)).await?;
    chair.chair(ChairCommand::SetItem { item: 0 }).await?;
    chair
        .chair(ChairCommand::Open {
            window_seconds: Some(60),
        })
        .await?;
    delegate.check_in().await?;
    delegate.wait_until(|s| s.open_round().is_some()).await?;

    // Another certificate's fingerprint: the handshake fails, naming both.
    let mut other = tls.fingerprint;
    other.0[0] ^= 1;
    let wrong = refused(&server.url, &Trust::Fingerprint(other)).await;
    assert!(certificate_refused(&wrong), "{wrong}");
    let said = wrong.to_string();
    assert!(said.contains(&tls.fingerprint.to_string()), "{said}");
    assert!(said.contains(&other.to_string()), "{said}");
    // No pin: a self-signed certificate is no public authority's.
    let unpinned = refused(&server.url, &Trust::WebPki).await;
    assert!(certificate_refused(&unpinned), "{unpinned}");
    // Plain WebSocket to the TLS port: the server answers no HTTP in clear.
    let plain = server.url.replacen("wss://", "ws://", 1);
    let clear = refused(&plain, &Trust::WebPki).await;
    assert!(
        matches!(
            clear,
            ClientError::Connection(tungstenite::Error::Io(_) | tungstenite::Error::Protocol(_))
        ),
        "{clear}"
    );
    // A pinned device will not be talked into plain ws:// either.
    assert!(matches!(
        refused(&plain, &pinned).await,
        ClientError::Tls(_)
    ));

    // The pinned devices were not disturbed: the vote goes through.
    let receipt = delegate.cast(Choice::Yes).await?;
    assert_eq!(receipt.choice, Choice::Yes);
    let stored = server.store().await?.ballots(receipt.round).await?;
    assert_eq!(stored.len(), 1);
    chair.chair(ChairCommand::Close).await?;

    // The certificate is kept: the next start presents the same one.
    let again = TlsSource::SelfSigned { names: vec![] }.load(data_dir.path())?;
    assert_eq!(again.fingerprint, tls.fingerprint);
    assert_ne!(tls.fingerprint, Fingerprint([0; 32]));
    Ok(())
}
