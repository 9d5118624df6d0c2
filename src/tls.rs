//! TLS with rustls: the server's certificate and key (PEM files, or a
//! self-signed pair generated once in the data dir with rcgen), the
//! acceptor each new connection uses, and reloading the files (SIGHUP)
//! without touching open connections: a reload swaps the configuration
//! new handshakes use; established connections keep theirs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

use crate::config::Config;

/// Errors of TLS setup and reload.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "server.tls.cert_file and server.tls.key_file must be set together (or set server.tls.self_signed: true)"
    )]
    Incomplete,
    #[error("cannot read {}: {message}; check server.tls.cert_file / server.tls.key_file", .path.display())]
    Read { path: PathBuf, message: String },
    #[error("{} holds no PEM certificate; give a PEM certificate chain in server.tls.cert_file", .0.display())]
    NoCertificate(PathBuf),
    #[error("the certificate and key are not usable together: {0}")]
    Config(String),
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The TLS state of a server: the files and the configuration in force.
#[derive(Debug)]
pub struct Tls {
    cert_file: PathBuf,
    key_file: PathBuf,
    current: RwLock<Arc<rustls::ServerConfig>>,
    /// SHA-256 of the leaf certificate in force, `AA:BB:…`.
    fingerprint: RwLock<String>,
}

impl Tls {
    /// The configuration new connections use.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let cfg = match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        tokio_rustls::TlsAcceptor::from(cfg)
    }

    /// SHA-256 fingerprint of the certificate in force.
    pub fn fingerprint(&self) -> String {
        match self.fingerprint.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the certificate and key files; on error the configuration
    /// in force stays.
    pub fn reload(&self) -> Result<String, TlsError> {
        let (cfg, fingerprint) = load(&self.cert_file, &self.key_file)?;
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(cfg),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(cfg),
        }
        match self.fingerprint.write() {
            Ok(mut g) => *g = fingerprint.clone(),
            Err(poisoned) => *poisoned.into_inner() = fingerprint.clone(),
        }
        Ok(fingerprint)
    }

    pub fn cert_file(&self) -> &Path {
        &self.cert_file
    }
}

/// Sets TLS up from the configuration: `None` when TLS is off. A
/// self-signed pair is generated at the first start (for `localhost`,
/// 127.0.0.1, ::1, `server.host` and `server.allowed_hosts`) and kept in
/// `{data_dir}/tls/`; the second value says whether it was just made.
pub fn setup(config: &Config) -> Result<Option<(Arc<Tls>, bool)>, TlsError> {
    let tls = &config.server.tls;
    if !tls.enabled() {
        return Ok(None);
    }
    let (cert_file, key_file, generated) = match (&tls.cert_file, &tls.key_file) {
        (Some(c), Some(k)) => (c.clone(), k.clone(), false),
        (None, None) if tls.self_signed => {
            let dir = config.data_dir.join("tls");
            let cert = dir.join("cert.pem");
            let key = dir.join("key.pem");
            let generated = if cert.is_file() && key.is_file() {
                false
            } else {
                let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
                let host = config.server.host.trim_matches(['[', ']']);
                if !["0.0.0.0", "::", "127.0.0.1", "::1", "localhost"].contains(&host) {
                    names.push(host.to_string());
                }
                names.extend(config.server.allowed_hosts.iter().cloned());
                write_self_signed(&dir, &cert, &key, names)?;
                true
            };
            (cert, key, generated)
        }
        _ => return Err(TlsError::Incomplete),
    };
    let (cfg, fingerprint) = load(&cert_file, &key_file)?;
    Ok(Some((
        Arc::new(Tls {
            cert_file,
            key_file,
            current: RwLock::new(Arc::new(cfg)),
            fingerprint: RwLock::new(fingerprint),
        }),
        generated,
    )))
}

/// Writes a new self-signed certificate and key (mode 0600) for `names`.
pub fn write_self_signed(
    dir: &Path,
    cert: &Path,
    key: &Path,
    names: Vec<String>,
) -> Result<(), TlsError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let certified =
        rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let write = |path: &Path, text: &str, mode: u32| {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
            .map_err(|source| TlsError::Write {
                path: path.to_path_buf(),
                source,
            })
    };
    write(key, &certified.key_pair.serialize_pem(), 0o600)?;
    write(cert, &certified.cert.pem(), 0o644)?;
    Ok(())
}

/// SHA-256 of a DER certificate as `AA:BB:…`.
pub fn fingerprint_of(der: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn load(cert_file: &Path, key_file: &Path) -> Result<(rustls::ServerConfig, String), TlsError> {
    let read_err = |path: &Path, e: &dyn std::fmt::Display| TlsError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| read_err(cert_file, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| read_err(cert_file, &e))?;
    let Some(leaf) = certs.first() else {
        return Err(TlsError::NoCertificate(cert_file.to_path_buf()));
    };
    let fingerprint = fingerprint_of(leaf.as_ref());
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| read_err(key_file, &e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((cfg, fingerprint))
}
