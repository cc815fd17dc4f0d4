use crate::http;
use crate::server::TestServer;
use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use gavel_protocol::{PublicKey, Signature};
use gavel_server::enrollment;
use gavel_server::store::Store;
use serde_json::{Value, json};

/// A logged-in secretariat device: its `Authorization` header and its key.
pub async fn log_in(server: &TestServer) -> anyhow::Result<(String, PublicKey)> {
    log_in_at(http::address_of(&server.url), &server.store().await?).await
}

/// Enrolls a fresh secretariat device with a code issued in `store` and logs
/// it in on the server at `addr` (any node of a deployment): its
/// `Authorization` header and its key.
pub async fn log_in_at(addr: &str, store: &Store) -> anyhow::Result<(String, PublicKey)> {
    let codes = enrollment::issue_secretariat(store, 1, 1).await?;
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let public = PublicKey::of(&key);
    let signature = Signature::sign(
        &key,
        &gavel_protocol::signing::enroll_bytes(&codes[0], &public),
    );
    let body = json!({ "code": codes[0], "public_key": public, "signature": signature });
    let enrolled = http::post_json(addr, "/api/secretariat/enroll", &[], Some(&body)).await?;
    anyhow::ensure!(enrolled.status == 200, "enrolled: {}", enrolled.body);
    let nonce = http::post_json(addr, "/api/secretariat/challenge", &[], None).await?;
    let nonce: Value = serde_json::from_str(&nonce.body)?;
    let nonce = nonce["nonce"].as_str().context("a challenge")?;
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(nonce, &mut bytes)?;
    let signature = Signature::sign(
        &key,
        &gavel_protocol::signing::admin_auth_bytes(&bytes, &public),
    );
    let body = json!({ "nonce": nonce, "public_key": public, "signature": signature });
    let logged_in = http::post_json(addr, "/api/secretariat/login", &[], Some(&body)).await?;
    let token: Value = serde_json::from_str(&logged_in.body)?;
    let token = token["token"].as_str().context("a session token")?;
    Ok((format!("Bearer {token}"), public))
}
