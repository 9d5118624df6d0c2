//! The seed document's own curl and Python examples
//! (`docs/seed/api-pack-workflows.md`), replayed by
//! `scripts/seed-examples.sh` against the real binary (on a free port
//! instead of 8080, so tests never collide with a running server). Needs
//! curl, jq and python3 (requests is installed in a venv when missing).

use std::process::Command;

#[test]
fn the_seed_documents_examples_run_against_the_real_binary() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let doc = std::path::Path::new(repo).join("docs/seed/api-pack-workflows.md");
    assert!(
        doc.is_file(),
        "seed document not found at {}",
        doc.display()
    );
    for tool in ["curl", "jq", "python3"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{tool} is needed to replay the API document's examples: install it (apt-get install {tool})"
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = Command::new("bash")
        .arg(format!("{repo}/scripts/seed-examples.sh"))
        .arg(&doc)
        .env("ATTUNE_BIN", env!("CARGO_BIN_EXE_attune"))
        .env("SEED_PORT", port.to_string())
        .output()
        .expect("run scripts/seed-examples.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "seed examples failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("seed-examples: OK (7 examples"), "{stdout}");
    assert!(stdout.contains("Synced 3 workflows"), "{stdout}");
}
