//! A device's identity: its Ed25519 key and what it was enrolled as. The
//! private key is created on the device and never sent anywhere; the file is
//! written readable by its owner only.

use crate::tls::Trust;
use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use gavel_protocol::{MeetingId, Principal, PublicKey};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// The server's WebSocket address, e.g. `ws://192.168.1.10:8080/ws`.
    pub server: String,
    pub meeting: MeetingId,
    pub principal: Principal,
    /// The server's public key, as seen at enrollment: receipts must verify under it.
    pub server_key: PublicKey,
    /// Which certificates prove the server over `wss://`: the pinned
    /// fingerprint of a hall's self-signed certificate, as given at enrollment.
    #[serde(default)]
    pub trust: Trust,
    /// The device's private key seed, 64 hex digits.
    secret_key: String,
}

impl Credentials {
    pub fn new(
        server: &str,
        meeting: MeetingId,
        principal: Principal,
        server_key: PublicKey,
        trust: Trust,
        key: &SigningKey,
    ) -> Self {
        Credentials {
            server: server.to_owned(),
            meeting,
            principal,
            server_key,
            trust,
            secret_key: hex::encode(key.to_bytes()),
        }
    }

    pub fn key(&self) -> anyhow::Result<SigningKey> {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(&self.secret_key, &mut seed)
            .context("secret_key must be 64 hex digits")?;
        Ok(SigningKey::from_bytes(&seed))
    }

    pub fn load(path: &Path) -> anyhow::Result<Credentials> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "reading {}; enroll first with `gavel-tablet enroll`",
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .with_context(|| format!("writing {}", path.display()))?;
        file.write_all(serde_json::to_string_pretty(self)?.as_bytes())?;
        Ok(())
    }
}
