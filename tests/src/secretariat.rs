use crate::http;
use crate::server::TestServer;
use ed25519_dalek::SigningKey;
use gavel_protocol::{PublicKey, Signature};
use gavel_server::enrollment;
use serde_json::{Value, json};

/// A logged-in secretariat device: its `Authorization` header and its key.
pub async fn log_in(server: &TestServer) -> anyhow::Result<(String, PublicKey)> {
    let addr = http::address_of(&server.url);
    let codes = enrollment::issue_secretariat(&server.store().await?, 1, 1).await?;
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let public = PublicKey::of(&key);
    let signature = Signature::sign(
        &key,
        &gavel_protocol::signing::enroll_bytes(&codes[0], &public),
    );
    let body = json!({ "code": codes[0], "public_key": public, "signature": signature });
    let enrolled = http::post_json(addr, "/api/secretariat/enroll", &[], Some(&body)).await?;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    let nonce = http::post_json(addr, "/api/secretariat/challenge", &[], None).await?;
    let nonce: Value = serde_json::from_str(&nonce.body)?;
    let nonce = nonce["nonce"].as_str().unwrap();
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(nonce, &mut bytes)?;
    let signature = Signature::sign(
        &key,
        &gavel_protocol::signing::admin_auth_bytes(&bytes, &public),
    );
    let body = json!({ "nonce": nonce, "public_key": public, "signature": signature });
    let logged_in = http::post_json(addr, "/api/secretariat/login", &[], Some(&body)).await?;
    let token: Value = serde_json::from_str(&logged_in.body)?;
    Ok((
        format!("Bearer {}", token["token"].as_str().unwrap()),
        public,
    ))
}
