//! Settings of a Gavel server, from a TOML file, `GAVEL_*` environment
//! variables and command-line flags (flags and environment win over the file).

use crate::app::Options;
use crate::data_lock::DataLock;
use crate::hub::leases::MIN_TERM;
use crate::keyfile;
use crate::limits::LimitSettings;
use crate::tls::{ServerTls, TlsSource};
use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings file; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// Where to listen, e.g. "0.0.0.0:8080".
    pub listen: Option<SocketAddr>,
    /// Where the SQLite database and the server's key live.
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL URL; without it the embedded SQLite store is used.
    pub database_url: Option<String>,
    /// "text" (default) or "json".
    pub log_format: Option<LogFormat>,
    /// Connections one address may hold at once (default 64).
    pub connections_per_address: Option<usize>,
    /// Browser origins besides the server's own whose pages may connect.
    pub allowed_origins: Option<Vec<String>>,
    /// Sites whose pages may embed the public page `/public/{meeting}` in
    /// a frame (its Content-Security-Policy `frame-ancestors`), e.g.
    /// "https://hdnd.phucloi.gov.vn"; none by default.
    pub public_frame_ancestors: Option<Vec<String>>,
    /// The TLS certificate chain (PEM) for HTTPS and WSS; needs `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS and WSS with a certificate made once in `data_dir`.
    pub tls_self_signed: Option<bool>,
    /// Names and addresses the self-signed certificate covers besides
    /// localhost, 127.0.0.1 and the host's name.
    pub tls_names: Option<Vec<String>>,
    /// Where to serve `/metrics` for Prometheus (plain HTTP), e.g.
    /// "127.0.0.1:9464"; none by default.
    pub metrics_listen: Option<SocketAddr>,
    /// On PostgreSQL, how long a node's leases last unless renewed, in
    /// milliseconds (default 4000, at least 500).
    pub lease_term_ms: Option<u64>,
}

/// Settings given on the command line or in `GAVEL_*` variables; they win
/// over the file.
#[derive(Debug, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log_format: Option<LogFormat>,
    pub connections_per_address: Option<usize>,
    pub allowed_origins: Vec<String>,
    pub public_frame_ancestors: Vec<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_self_signed: bool,
    pub tls_names: Vec<String>,
    pub metrics_listen: Option<SocketAddr>,
    pub lease_term_ms: Option<u64>,
    /// `--ready-file`: a flag only, since it is for whoever starts this
    /// process, not a property of the installation.
    pub ready_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl FileSettings {
    pub fn load(path: &Path) -> anyhow::Result<FileSettings> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        FileSettings::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<FileSettings, toml::de::Error> {
        toml::from_str(text)
    }
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log_format: LogFormat,
    /// Options of the server; its TLS settings come from [`Settings::server_tls`].
    pub server: Options,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_self_signed: bool,
    pub tls_names: Vec<String>,
}

impl Settings {
    /// Merges the overrides over the file, and both over the defaults.
    pub fn resolve(file: FileSettings, flags: Overrides, default_listen: SocketAddr) -> Settings {
        let data_dir = flags
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("gavel-data"));
        let database_url = flags
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("gavel.sqlite3").display()));
        let mut limits = LimitSettings::default();
        if let Some(n) = flags
            .connections_per_address
            .or(file.connections_per_address)
        {
            limits.connections_per_address = n;
        }
        let allowed_origins = if flags.allowed_origins.is_empty() {
            file.allowed_origins.unwrap_or_default()
        } else {
            flags.allowed_origins
        };
        let public_frame_ancestors = if flags.public_frame_ancestors.is_empty() {
            file.public_frame_ancestors.unwrap_or_default()
        } else {
            flags.public_frame_ancestors
        };
        let tls_names = if flags.tls_names.is_empty() {
            file.tls_names.unwrap_or_default()
        } else {
            flags.tls_names
        };
        Settings {
            listen: flags.listen.or(file.listen).unwrap_or(default_listen),
            data_dir,
            database_url,
            log_format: flags.log_format.or(file.log_format).unwrap_or_default(),
            server: Options {
                limits,
                allowed_origins,
                public_frame_ancestors,
                tls: None,
                metrics_listen: flags.metrics_listen.or(file.metrics_listen),
                ready_file: flags.ready_file,
                node: None,
                lease_term: flags
                    .lease_term_ms
                    .or(file.lease_term_ms)
                    .map(Duration::from_millis),
            },
            tls_cert: flags.tls_cert.or(file.tls_cert),
            tls_key: flags.tls_key.or(file.tls_key),
            tls_self_signed: flags.tls_self_signed || file.tls_self_signed.unwrap_or(false),
            tls_names,
        }
    }

    /// Where the server's certificate comes from, if it serves TLS.
    pub fn tls_source(&self) -> anyhow::Result<Option<TlsSource>> {
        match (&self.tls_cert, &self.tls_key, self.tls_self_signed) {
            (None, None, false) => Ok(None),
            (None, None, true) => Ok(Some(TlsSource::SelfSigned {
                names: self.tls_names.clone(),
            })),
            (Some(cert), Some(key), false) => Ok(Some(TlsSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            })),
            (Some(_), Some(_), true) => {
                anyhow::bail!("give either tls_cert and tls_key or tls_self_signed, not both")
            }
            _ => anyhow::bail!("tls_cert and tls_key go together: give both"),
        }
    }

    /// The TLS settings in force, the self-signed certificate made on first
    /// use; `None` for plain HTTP.
    pub fn server_tls(&self) -> anyhow::Result<Option<ServerTls>> {
        self.tls_source()?
            .map(|source| source.load(&self.data_dir))
            .transpose()
    }

    /// The server's Ed25519 key, created on first start in the data
    /// directory and readable by its owner only. Receipts are signed with it.
    pub fn server_key(&self) -> anyhow::Result<SigningKey> {
        let path = self.data_dir.join("server.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let mut seed = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut seed)
                .with_context(|| format!("{} must hold 64 hex digits", path.display()))?;
            return Ok(SigningKey::from_bytes(&seed));
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        keyfile::write_private(&path, &hex::encode(key.to_bytes()))?;
        tracing::info!(path = %path.display(), "created the server's key");
        Ok(key)
    }

    /// This node's id in a PostgreSQL deployment of several nodes, under
    /// which it holds its meetings' leases: drawn on first start and kept in
    /// the data directory (`node.id`), so that a restarted node takes its own
    /// meetings back at once. Each node has a data directory of its own; the
    /// nodes share the server's key, never this file.
    pub fn node_id(&self) -> anyhow::Result<String> {
        let path = self.data_dir.join("node.id");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(text.trim().to_owned());
        }
        let id = format!(
            "{}-{}",
            gethostname::gethostname().to_string_lossy(),
            hex::encode(rand::random::<[u8; 4]>())
        );
        std::fs::write(&path, &id).with_context(|| format!("writing {}", path.display()))?;
        Ok(id)
    }

    /// What serving meetings from the data directory needs: its lock (held
    /// until the process ends) and the server's options with this node's id.
    pub fn serving(&self) -> anyhow::Result<(DataLock, Options)> {
        if let Some(term) = self.server.lease_term {
            anyhow::ensure!(
                term >= MIN_TERM,
                "lease_term_ms is {} ms; it must be at least {} ms, or a busy machine's pauses would move meetings between nodes for nothing",
                term.as_millis(),
                MIN_TERM.as_millis()
            );
        }
        self.prepare_data_dir()?;
        let lock = DataLock::take(&self.data_dir)?;
        let mut options = self.server.clone();
        options.node = Some(self.node_id()?);
        Ok((lock, options))
    }

    /// Makes sure the data directory exists (SQLite creates its file there).
    pub fn prepare_data_dir(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_sqlite_is_the_default() {
        let file = FileSettings {
            listen: Some("127.0.0.1:9000".parse().unwrap()),
            data_dir: Some("/srv/gavel".into()),
            connections_per_address: Some(500),
            ..FileSettings::default()
        };
        let flags = Overrides {
            listen: Some("127.0.0.1:9999".parse().unwrap()),
            ..Overrides::default()
        };
        let s = Settings::resolve(file, flags, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(s.listen.port(), 9999);
        assert_eq!(s.database_url, "sqlite:///srv/gavel/gavel.sqlite3");
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.server.limits.connections_per_address, 500);
        assert_eq!(s.tls_source().unwrap(), None);
    }

    #[test]
    fn tls_needs_a_certificate_and_its_key_or_self_signing() {
        let file = FileSettings {
            tls_cert: Some("/etc/gavel/cert.pem".into()),
            ..FileSettings::default()
        };
        let addr = "0.0.0.0:8080".parse().unwrap();
        let half = Settings::resolve(file, Overrides::default(), addr);
        assert!(half.tls_source().is_err());
        let flags = Overrides {
            tls_self_signed: true,
            tls_names: vec!["hall.local".into()],
            ..Overrides::default()
        };
        let s = Settings::resolve(FileSettings::default(), flags, addr);
        assert_eq!(
            s.tls_source().unwrap(),
            Some(TlsSource::SelfSigned {
                names: vec!["hall.local".into()]
            })
        );
    }

    /// deploy/gavel.toml shows every setting: with its commented-out
    /// settings switched on it still parses (no unknown or misspelled key),
    /// and every field is then set. The destructuring names every field, so
    /// a new setting does not compile here until it is added to the file.
    #[test]
    fn the_example_settings_file_has_every_setting_and_only_real_ones() {
        let example = include_str!("../../deploy/gavel.toml");
        FileSettings::parse(example).expect("the example parses as it is");
        let all_on: String = example
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.split_once(" = ").is_some_and(|(key, _)| is_key(key)) => rest,
                _ => line,
            })
            .flat_map(|line| [line, "\n"])
            .collect();
        let FileSettings {
            listen,
            data_dir,
            database_url,
            log_format,
            connections_per_address,
            allowed_origins,
            public_frame_ancestors,
            tls_cert,
            tls_key,
            tls_self_signed,
            tls_names,
            metrics_listen,
            lease_term_ms,
        } = FileSettings::parse(&all_on).expect("every setting in the example is real");
        let set = [
            listen.is_some(),
            data_dir.is_some(),
            database_url.is_some(),
            log_format.is_some(),
            connections_per_address.is_some(),
            allowed_origins.is_some(),
            public_frame_ancestors.is_some(),
            tls_cert.is_some(),
            tls_key.is_some(),
            tls_self_signed.is_some(),
            tls_names.is_some(),
            metrics_listen.is_some(),
            lease_term_ms.is_some(),
        ];
        assert!(set.iter().all(|&s| s), "{set:?}\n{all_on}");
    }

    fn is_key(word: &str) -> bool {
        !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    }

    #[test]
    fn the_server_key_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let flags = Overrides {
            data_dir: Some(dir.path().into()),
            ..Overrides::default()
        };
        let s = Settings::resolve(FileSettings::default(), flags, "0.0.0.0:0".parse().unwrap());
        let first = s.server_key().unwrap();
        let second = s.server_key().unwrap();
        assert_eq!(first.to_bytes(), second.to_bytes());
    }
}
