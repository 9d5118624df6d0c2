//! TLS end to end against the attune binary: a client that trusts the
//! generated certificate connects, one that does not is refused, plain
//! HTTP on the TLS port fails cleanly, and SIGHUP with a new certificate is
//! picked up without dropping open connections. Plus the `Host` check of a
//! loopback bind and HSTS.

use std::time::{Duration, Instant};

use crate::helpers::{serve_command, start_serving};

fn client_trusting(pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem).expect("pem"))
        .build()
        .expect("client")
}

#[tokio::test]
async fn a_self_signed_server_is_reached_only_by_clients_that_trust_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut cmd = serve_command(&data);
    cmd.env("ATTUNE__SERVER__TLS__SELF_SIGNED", "true");
    let server = start_serving(cmd);
    assert!(server.address.starts_with("https://"), "{}", server.address);
    let banner = server.stderr.join("\n");
    let cert = std::fs::read(data.join("tls/cert.pem")).expect("generated certificate");
    let fingerprint = attune::tls::fingerprint_of(&pem_der(&cert));
    assert!(banner.contains(&fingerprint), "{banner}");
    let key_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(data.join("tls/key.pem"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(key_mode & 0o077, 0, "the key is private: {key_mode:o}");

    let health = format!("{}/health", server.address);
    let res = client_trusting(&cert)
        .get(&health)
        .send()
        .await
        .expect("trusted");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let refused = reqwest::Client::new().get(&health).send().await;
    assert!(refused.is_err(), "an untrusting client must be refused");
    // plain HTTP on the TLS port fails, and the server goes on
    let plain = health.replacen("https://", "http://", 1);
    let res = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(&plain)
        .send()
        .await;
    assert!(res.is_err() || !res.unwrap().status().is_success());
    let res = client_trusting(&cert).get(&health).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (clean, log) = server.terminate();
    assert!(clean, "{}", log.join("\n"));
}

/// The DER bytes of the first PEM block.
fn pem_der(pem: &[u8]) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_slice(pem)
        .expect("pem")
        .to_vec()
}

#[tokio::test]
async fn sighup_loads_a_new_certificate_and_keeps_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tls = dir.path().join("tls");
    let (cert, key) = (tls.join("c.pem"), tls.join("k.pem"));
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    attune::tls::write_self_signed(&tls, &cert, &key, names.clone()).unwrap();
    let cert_a = std::fs::read(&cert).unwrap();
    let mut cmd = serve_command(&data);
    cmd.env("ATTUNE__SERVER__TLS__CERT_FILE", &cert)
        .env("ATTUNE__SERVER__TLS__KEY_FILE", &key);
    let server = start_serving(cmd);
    let health = format!("{}/health", server.address);
    let old_client = client_trusting(&cert_a);
    assert_eq!(old_client.get(&health).send().await.unwrap().status(), 200);

    attune::tls::write_self_signed(&tls, &cert, &key, names).unwrap();
    let cert_b = std::fs::read(&cert).unwrap();
    assert_ne!(cert_a, cert_b);
    let status = std::process::Command::new("kill")
        .arg("-HUP")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let new_client = client_trusting(&cert_b);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(res) = new_client.get(&health).send().await {
            assert_eq!(res.status(), 200);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // the connection opened before the reload still works
    assert_eq!(old_client.get(&health).send().await.unwrap().status(), 200);
    // new handshakes use the new certificate only
    let fresh_old = client_trusting(&cert_a);
    assert!(fresh_old.get(&health).send().await.is_err());
    let (clean, log) = server.terminate();
    assert!(clean, "{}", log.join("\n"));
    assert!(
        log.join("\n").contains("TLS certificate reloaded"),
        "{}",
        log.join("\n")
    );
}

#[tokio::test]
async fn a_loopback_server_refuses_foreign_host_names() {
    let app = crate::helpers::spawn_app_configured(|c| {
        c.server.allowed_hosts = vec!["attune.lan".into()];
    })
    .await;
    let host = app.address.trim_start_matches("http://").to_string();
    for (name, ok) in [
        (host.clone(), true),
        ("localhost:8080".to_string(), true),
        ("attune.lan".to_string(), true),
        // Host names compare ignoring ASCII case.
        ("LocalHost:8080".to_string(), true),
        ("ui.LOCALHOST".to_string(), true),
        ("Attune.LAN:443".to_string(), true),
        ("[::1]:8080".to_string(), true),
        ("evil.localhost.example".to_string(), false),
        ("evil.example:8080".to_string(), false),
        ("127.0.0.1.evil.example".to_string(), false),
    ] {
        let res = app
            .client
            .get(app.url("/health"))
            .header("host", &name)
            .send()
            .await
            .unwrap();
        if ok {
            assert_eq!(res.status(), 200, "{name}");
        } else {
            assert_eq!(res.status(), 403, "{name}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["code"], "FORBIDDEN");
            assert!(
                body["error"]
                    .as_str()
                    .unwrap()
                    .contains("server.allowed_hosts")
            );
        }
    }
}
