//! Packs onto the appliance: `GET /api/v1/packs/available`,
//! `POST /api/v1/packs/register`, `POST /api/v1/packs/upload` (every
//! hostile archive of issue 14, built here) and
//! `GET /api/v1/packs/{ref}/archive`. Every refused upload leaves the
//! previous pack folder byte-identical, nothing outside it, no staging
//! folder.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app, spawn_app_configured};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/packs/demo");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Every path under `dir` with its bytes (`None` for folders).
fn snapshot(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd {
            let e = e.unwrap();
            let rel = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let ft = std::fs::symlink_metadata(e.path()).unwrap().file_type();
            if ft.is_dir() {
                out.insert(rel, None);
                walk(root, &e.path(), out);
            } else {
                out.insert(rel, Some(std::fs::read(e.path()).unwrap_or_default()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Names directly in the data dir (the packs folder and database files).
fn top_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn base(app: &TestApp) -> std::path::PathBuf {
    app.state.config.packs_base_dir.clone()
}

// ---- archive builders ----------------------------------------------------

enum E<'a> {
    File(&'a str, Vec<u8>),
    Dir(&'a str),
    Special(&'a str, tar::EntryType, &'a str),
}

/// A `.tar.gz` with entry names written raw (the tar crate's own path
/// checks would refuse the hostile ones).
fn tgz(entries: &[E]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (name, data): (&str, &[u8]) = match e {
            E::File(n, d) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(d.len() as u64);
                (n, d)
            }
            E::Dir(n) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                (n, &[])
            }
            E::Special(n, t, target) => {
                h.set_entry_type(*t);
                h.set_size(0);
                h.set_link_name(target).unwrap();
                (n, &[])
            }
        };
        h.set_mode(0o644);
        let field = &mut h.as_old_mut().name;
        field.fill(0);
        field[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// The demo pack as archive entries under `top/` (its `ref` set to `r`).
fn demo_entries(top: &str, r: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (rel, content) in snapshot(Path::new(DEMO)) {
        if let Some(bytes) = content {
            let bytes = if rel == "pack.yaml" {
                String::from_utf8(bytes)
                    .unwrap()
                    .replace("ref: demo", &format!("ref: {r}"))
                    .into_bytes()
            } else {
                bytes
            };
            let name = if top.is_empty() {
                rel
            } else {
                format!("{top}/{rel}")
            };
            out.push((name, bytes));
        }
    }
    out
}

fn demo_tgz(top: &str, r: &str, extra: Vec<E>) -> Vec<u8> {
    let files = demo_entries(top, r);
    let mut entries: Vec<E> = files
        .iter()
        .map(|(n, d)| E::File(n.as_str(), d.clone()))
        .collect();
    entries.extend(extra);
    tgz(&entries)
}

fn zip_of(files: &[(&str, &[u8])], symlink: Option<(&str, &str)>) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (n, d) in files {
        w.start_file(*n, opts).unwrap();
        w.write_all(d).unwrap();
    }
    if let Some((name, target)) = symlink {
        w.add_symlink(name, target, opts).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Bytes that do not compress.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

// ---- HTTP ----------------------------------------------------------------

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>, fields: &[(&str, &str)]) -> Reply {
    let mut form = reqwest::multipart::Form::new().part(
        "pack",
        reqwest::multipart::Part::bytes(bytes).file_name("pack.tar.gz"),
    );
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let res = app
        .client
        .post(app.url("/api/v1/packs/upload"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    Reply::from(res).await
}

async fn register(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/api/v1/packs/register", Some(token), &body).await
}

/// An app with the demo pack registered from disk; answers the token.
async fn with_demo(app: &TestApp) -> String {
    let token = app.token().await;
    copy_dir(Path::new(DEMO), &base(app).join("demo"));
    let r = register(app, &token, json!({"ref": "demo"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    token
}

// ---- discovery and register -----------------------------------------------

#[tokio::test]
async fn available_lists_every_unregistered_folder_with_its_problem() {
    let app = spawn_app().await;
    let token = app.token().await;
    let b = base(&app);
    copy_dir(Path::new(DEMO), &b.join("demo"));
    std::fs::create_dir_all(b.join("empty")).unwrap();
    std::fs::create_dir_all(b.join("broken")).unwrap();
    std::fs::write(b.join("broken/pack.yaml"), "ref: broken\nlabel: [oops\n").unwrap();
    std::fs::create_dir_all(b.join("named")).unwrap();
    std::fs::write(
        b.join("named/pack.yaml"),
        "ref: other\nlabel: L\nversion: '1'\n",
    )
    .unwrap();
    std::fs::create_dir_all(b.join("bad name")).unwrap();
    std::fs::create_dir_all(b.join(".upload-0123")).unwrap();
    std::fs::write(b.join("README.txt"), "not a folder").unwrap();

    let r = app.get("/api/v1/packs/available", Some(&token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.body["data"].as_array().unwrap();
    let folders: Vec<&str> = list.iter().map(|f| f["folder"].as_str().unwrap()).collect();
    assert_eq!(folders, ["bad name", "broken", "demo", "empty", "named"]);
    let by = |n: &str| list.iter().find(|f| f["folder"] == n).unwrap();
    let demo = by("demo");
    assert_eq!(demo["valid"], true);
    assert_eq!(demo["ref"], "demo");
    assert_eq!(demo["label"], "Demo Pack");
    assert_eq!(demo["version"], "1.0.0");
    assert_eq!(demo["workflow_count"], 3);
    assert_eq!(demo["problems"], json!([]));
    let broken = &by("broken")["problems"][0];
    assert_eq!(broken["code"], "yaml-syntax");
    assert_eq!(broken["file"], "broken/pack.yaml");
    assert!(broken["line"].as_u64().unwrap() >= 2, "{broken}");
    assert_eq!(
        by("empty")["problems"][0]["message"],
        "the folder has no pack.yaml"
    );
    let named = &by("named")["problems"][0];
    assert_eq!(named["code"], "ref-mismatch");
    assert_eq!(
        (named["line"].as_u64(), named["column"].as_u64()),
        (Some(1), Some(6))
    );
    assert!(
        by("bad name")["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not allowed"),
        "{}",
        by("bad name")
    );

    // Registered folders leave the list.
    let r = register(&app, &token, json!({"ref": "demo"})).await;
    assert_eq!(r.status, 201);
    let r = app.get("/api/v1/packs/available", Some(&token)).await;
    let folders: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["folder"].as_str().unwrap())
        .collect();
    assert!(!folders.contains(&"demo"));

    let r = app.get("/api/v1/packs/available", None).await;
    r.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn register_creates_from_pack_yaml_syncs_and_refuses_what_it_should() {
    let app = spawn_app().await;
    let token = app.token().await;
    let b = base(&app);
    copy_dir(Path::new(DEMO), &b.join("demo"));

    let r = register(&app, &token, json!({"ref": "demo"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["message"], "Pack 'demo' registered");
    let d = &r.body["data"];
    assert_eq!(d["created"], true);
    assert_eq!(d["pack"]["ref"], "demo");
    assert_eq!(d["pack"]["label"], "Demo Pack");
    assert_eq!(d["pack"]["tags"], json!(["demo", "examples"]));
    assert_eq!(d["pack"]["workflow_count"], 2);
    assert_eq!(d["pack"]["last_sync"]["error_count"], 1);
    // The seed's sync fields.
    assert_eq!(d["sync"]["pack_ref"], "demo");
    assert_eq!(d["sync"]["loaded_count"], 3);
    assert_eq!(d["sync"]["registered_count"], 2);
    assert_eq!(d["sync"]["failed"][0]["ref_name"], "demo.broken_deploy");
    assert!(d["sync"]["diagnostics"].as_array().unwrap().len() >= 2);

    register(&app, &token, json!({"ref": "demo"}))
        .await
        .assert_error(409, "CONFLICT");
    std::fs::write(
        b.join("demo/pack.yaml"),
        "ref: demo\nlabel: Renamed\nversion: '2.0.0'\n",
    )
    .unwrap();
    let r = register(&app, &token, json!({"ref": "demo", "force": true})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["created"], false);
    assert_eq!(r.body["data"]["pack"]["label"], "Renamed");
    assert_eq!(r.body["data"]["sync"]["unchanged_count"], 2);

    register(&app, &token, json!({"ref": "nope"}))
        .await
        .assert_error(404, "NOT_FOUND");
    register(&app, &token, json!({"ref": "../etc"}))
        .await
        .assert_error(400, "BAD_REQUEST");
    register(&app, &token, json!({}))
        .await
        .assert_error(400, "BAD_REQUEST");
    register(&app, &token, json!({"ref": "demo", "all": true}))
        .await
        .assert_error(400, "BAD_REQUEST");
    register(&app, &token, json!({"ref": "demo", "color": 1}))
        .await
        .assert_error(400, "BAD_REQUEST");

    std::fs::create_dir_all(b.join("bad")).unwrap();
    std::fs::write(b.join("bad/pack.yaml"), "ref: bad\nversion: [1\n").unwrap();
    let r = register(&app, &token, json!({"ref": "bad"})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["code"], "VALIDATION_FAILED");
    let diag = &r.body["diagnostics"][0];
    assert_eq!(diag["code"], "yaml-syntax");
    assert_eq!(diag["file"], "bad/pack.yaml");
    assert!(diag["line"].as_u64().unwrap() >= 2);
    std::fs::write(b.join("bad/pack.yaml"), "ref: bad\nlabel: 7\n").unwrap();
    let r = register(&app, &token, json!({"ref": "bad"})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let codes: Vec<&str> = r.body["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["wrong-type", "missing-field"]);
    assert_eq!(r.body["diagnostics"][0]["line"], 2);
    assert_eq!(r.body["diagnostics"][0]["snippet"]["lines"][1], "label: 7");
}

#[tokio::test]
async fn register_all_registers_valid_folders_and_reports_the_others() {
    let app = spawn_app().await;
    let token = app.token().await;
    let b = base(&app);
    copy_dir(Path::new(DEMO), &b.join("demo"));
    copy_dir(Path::new(DEMO), &b.join("second"));
    std::fs::write(
        b.join("second/pack.yaml"),
        "ref: second\nlabel: Second\nversion: '1'\n",
    )
    .unwrap();
    std::fs::create_dir_all(b.join("empty")).unwrap();
    let r = register(&app, &token, json!({"all": true})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let regs: Vec<&str> = r.body["data"]["registered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pack"]["ref"].as_str().unwrap())
        .collect();
    assert_eq!(regs, ["demo", "second"]);
    assert_eq!(r.body["data"]["skipped"][0]["folder"], "empty");
    assert_eq!(
        r.body["data"]["skipped"][0]["diagnostics"][0]["code"],
        "missing-field"
    );
    // Again: registered ones are left alone.
    let r = register(&app, &token, json!({"all": true})).await;
    assert_eq!(r.body["data"]["registered"], json!([]));
}

// ---- upload --------------------------------------------------------------

#[tokio::test]
async fn upload_registers_a_new_pack_replaces_with_force_and_dry_runs_leave_nothing() {
    let app = spawn_app().await;
    let token = app.token().await;
    let b = base(&app);

    // Dry run of a new pack: a report, nothing kept.
    let r = upload(
        &app,
        &token,
        demo_tgz("x-1.0", "demo", vec![]),
        &[("dry_run", "true")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["dry_run"], true);
    assert_eq!(r.body["data"]["created"], true);
    assert_eq!(r.body["data"]["pack"], Value::Null);
    assert_eq!(r.body["data"]["sync"]["dry_run"], true);
    assert_eq!(r.body["data"]["sync"]["loaded_count"], 3);
    assert_eq!(
        r.body["data"]["sync"]["failed"][0]["ref_name"],
        "demo.broken_deploy"
    );
    assert_eq!(
        r.body["data"]["sync"]["failed"][0]["file"],
        "demo/workflows/broken_deploy.yaml"
    );
    assert!(snapshot(&b).is_empty(), "{:?}", snapshot(&b).keys());
    app.get_pack(&token, "demo")
        .await
        .assert_error(404, "NOT_FOUND");

    // The real thing (pack.yaml inside one top folder of any name).
    let r = upload(&app, &token, demo_tgz("x-1.0", "demo", vec![]), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["message"], "Pack 'demo' uploaded and registered");
    assert_eq!(r.body["data"]["created"], true);
    assert_eq!(r.body["data"]["files"], 5);
    assert_eq!(r.body["data"]["pack"]["workflow_count"], 2);
    assert_eq!(r.body["data"]["sync"]["registered_count"], 2);
    assert_eq!(
        snapshot(&b.join("demo")),
        snapshot(Path::new(DEMO)),
        "the folder is the archive's content"
    );
    let names: Vec<String> = top_names(&b);
    assert_eq!(names, ["demo"], "no staging folder is left");

    // Same ref again without force: 409, folder untouched.
    let before = snapshot(&b);
    let r = upload(&app, &token, demo_tgz("", "demo", vec![]), &[]).await;
    r.assert_error(409, "CONFLICT");
    assert_eq!(snapshot(&b), before);

    // A changed pack with force (pack.yaml at the archive's top): hello is
    // dropped (pruned), a new workflow appears.
    let mut files = demo_entries("", "demo");
    files.retain(|(n, _)| n != "workflows/hello.yaml");
    let hello = std::fs::read(format!("{DEMO}/workflows/hello.yaml")).unwrap();
    let fresh = String::from_utf8(hello)
        .unwrap()
        .replace("ref: demo.hello", "ref: demo.fresh");
    files.push(("workflows/fresh.yaml".into(), fresh.into_bytes()));
    let entries: Vec<E> = files.iter().map(|(n, d)| E::File(n, d.clone())).collect();
    let r = upload(&app, &token, tgz(&entries), &[("force", "true")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["message"], "Pack 'demo' replaced by the upload");
    assert_eq!(r.body["data"]["sync"]["pruned"], json!(["demo.hello"]));
    assert!(!b.join("demo/workflows/hello.yaml").exists());
    assert!(b.join("demo/workflows/fresh.yaml").exists());
    // The run and the revision it wrote both say it was an upload.
    let run_id = r.body["data"]["sync"]["run_id"].as_u64().unwrap();
    let run = app
        .get(&format!("/api/v1/runs/{run_id}"), Some(&token))
        .await;
    assert_eq!(run.body["data"]["trigger"], "upload", "{}", run.body);
    let revs = app
        .get("/api/v1/workflows/demo.fresh/revisions", Some(&token))
        .await;
    assert_eq!(revs.body["data"][0]["trigger"], "upload", "{}", revs.body);
    let r = app.get("/api/v1/packs/demo/workflows", Some(&token)).await;
    let refs: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["demo.fresh", "demo.nightly_report"]);
    assert_eq!(top_names(&b), ["demo"]);

    // A zip works too, and the query parameters are accepted.
    let zfiles = demo_entries("", "zipped");
    let zrefs: Vec<(&str, &[u8])> = zfiles
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let r = upload(&app, &token, zip_of(&zrefs, None), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["data"]["ref"], "zipped");
}

#[tokio::test]
async fn upload_refuses_bad_requests_with_the_envelope() {
    let app = spawn_app_configured(|c| c.max_pack_archive_bytes = 4096).await;
    let token = app.token().await;
    // Not multipart.
    let res = app
        .client
        .post(app.url("/api/v1/packs/upload"))
        .bearer_auth(&token)
        .body("x")
        .send()
        .await
        .unwrap();
    Reply::from(res)
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    // No pack field; an unknown field; a bad flag.
    for form in [
        reqwest::multipart::Form::new().text("force", "true"),
        reqwest::multipart::Form::new().text("colour", "red"),
        reqwest::multipart::Form::new().text("dry_run", "maybe"),
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/packs/upload"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        Reply::from(res).await.assert_error(400, "BAD_REQUEST");
    }
    // Over max_pack_archive_bytes: 413 while streaming.
    let r = upload(&app, &token, noise(10_000, 3), &[]).await;
    r.assert_error(413, "PAYLOAD_TOO_LARGE");
    assert!(
        r.body["error"]
            .as_str()
            .unwrap()
            .contains("max_pack_archive_bytes"),
        "{}",
        r.body
    );
    // No token.
    let res = app
        .client
        .post(app.url("/api/v1/packs/upload"))
        .multipart(reqwest::multipart::Form::new().text("force", "1"))
        .send()
        .await
        .unwrap();
    Reply::from(res).await.assert_error(401, "UNAUTHORIZED");
    assert!(snapshot(&base(&app)).is_empty(), "nothing staged");
}

/// Uploads `bytes` over a registered demo pack and checks the refusal:
/// status, code, the message naming `needle`, the old folder
/// byte-identical, no staging folder, nothing new in the data dir.
async fn refused(app: &TestApp, token: &str, bytes: Vec<u8>, status: u16, needle: &str) -> Reply {
    let b = base(app);
    let before = snapshot(&b);
    let data_before = top_names(app.data_dir.path());
    let r = upload(app, token, bytes, &[("force", "true")]).await;
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    let msg = r.body["error"].as_str().unwrap_or_default();
    assert!(msg.contains(needle), "'{needle}' not in: {msg}");
    assert_eq!(
        snapshot(&b),
        before,
        "pack folders unchanged, no staging left"
    );
    assert_eq!(
        top_names(app.data_dir.path()),
        data_before,
        "nothing outside staging"
    );
    r
}

#[tokio::test]
async fn hostile_paths_are_refused_naming_the_entry() {
    let app = spawn_app().await;
    let token = with_demo(&app).await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dot-dot",
            demo_tgz(
                "",
                "demo",
                vec![E::File("../../../evil.txt", b"x".to_vec())],
            ),
            "'../../../evil.txt'",
        ),
        (
            "absolute",
            demo_tgz("", "demo", vec![E::File("/tmp/evil.txt", b"x".to_vec())]),
            "'/tmp/evil.txt'",
        ),
        (
            "drive letter",
            demo_tgz("", "demo", vec![E::File("C:/evil.txt", b"x".to_vec())]),
            "drive letter",
        ),
        (
            "backslash",
            demo_tgz("", "demo", vec![E::File("..\\evil.txt", b"x".to_vec())]),
            "backslash",
        ),
    ];
    for (what, bytes, needle) in cases {
        let r = refused(&app, &token, bytes, 400, needle).await;
        assert_eq!(r.body["code"], "BAD_REQUEST", "{what}");
    }
    assert!(!app.data_dir.path().join("evil.txt").exists());
    assert!(!Path::new("/tmp/evil.txt").exists());
    // The same in a zip.
    refused(
        &app,
        &token,
        zip_of(
            &[("pack.yaml", b"ref: demo\n"), ("../evil.txt", b"x")],
            None,
        ),
        400,
        "'../evil.txt'",
    )
    .await;
}

#[tokio::test]
async fn links_devices_and_fifos_are_refused() {
    let app = spawn_app().await;
    let token = with_demo(&app).await;
    use tar::EntryType as T;
    for (kind, needle) in [
        (T::Symlink, "a symbolic link"),
        (T::Link, "a hard link"),
        (T::Char, "a device"),
        (T::Block, "a device"),
        (T::Fifo, "a FIFO"),
    ] {
        let bytes = demo_tgz(
            "",
            "demo",
            vec![E::Special("workflows/x.yaml", kind, "/etc/passwd")],
        );
        let r = refused(&app, &token, bytes, 400, needle).await;
        assert!(
            r.body["error"]
                .as_str()
                .unwrap()
                .contains("'workflows/x.yaml'")
        );
    }
    refused(
        &app,
        &token,
        zip_of(
            &[("pack.yaml", b"ref: demo\n")],
            Some(("workflows/x.yaml", "/etc/passwd")),
        ),
        400,
        "'workflows/x.yaml' is a symbolic link",
    )
    .await;
}

#[tokio::test]
async fn entry_count_total_size_and_bombs_stop_the_unpack() {
    let app = spawn_app_configured(|c| {
        c.max_pack_files = 8;
        c.max_pack_unpacked_bytes = 64 * 1024;
    })
    .await;
    let token = with_demo(&app).await;
    // 9 entries.
    let many: Vec<String> = (0..9).map(|i| format!("workflows/w{i}.yaml")).collect();
    let extra = many
        .iter()
        .map(|n| E::File(n, b"x: 1\n".to_vec()))
        .collect();
    refused(
        &app,
        &token,
        demo_tgz("", "demo", extra),
        400,
        "more than 8 entries",
    )
    .await;
    // Over the unpacked total (incompressible, so not a bomb).
    let big = noise(70 * 1024, 7);
    let bytes = tgz(&[
        E::File("pack.yaml", b"ref: demo\n".to_vec()),
        E::File("data.bin", big),
    ]);
    refused(&app, &token, bytes, 400, "max_pack_unpacked_bytes").await;

    // A bomb: 40 MiB of zeros, stopped at the ratio long before the end.
    let app = spawn_app_configured(|c| c.max_workflow_file_bytes = 512 * 1024 * 1024).await;
    let token = with_demo(&app).await;
    let zeros = vec![0u8; 40 * 1024 * 1024];
    let bytes = tgz(&[
        E::File("pack.yaml", b"ref: demo\n".to_vec()),
        E::File("zeros.bin", zeros),
    ]);
    assert!(bytes.len() < 200 * 1024);
    refused(&app, &token, bytes, 400, "compression bomb").await;
}

#[tokio::test]
async fn a_file_over_the_workflow_limit_is_file_too_large() {
    let app = spawn_app_configured(|c| c.max_workflow_file_bytes = 4096).await;
    let token = with_demo(&app).await;
    let bytes = demo_tgz(
        "",
        "demo",
        vec![E::File("workflows/huge.yaml", vec![b'#'; 5000])],
    );
    let r = refused(&app, &token, bytes, 422, "'workflows/huge.yaml'").await;
    assert_eq!(r.body["code"], "VALIDATION_FAILED");
    assert_eq!(r.body["diagnostics"][0]["code"], "file-too-large");
    assert_eq!(r.body["diagnostics"][0]["file"], "workflows/huge.yaml");
}

#[tokio::test]
async fn duplicates_and_layout_problems_are_refused() {
    let app = spawn_app().await;
    let token = with_demo(&app).await;
    let dup = demo_tgz(
        "",
        "demo",
        vec![E::File("pack.yaml", b"ref: demo\n".to_vec())],
    );
    refused(&app, &token, dup, 400, "'pack.yaml' appears twice").await;
    let clash = tgz(&[
        E::File("pack.yaml", b"ref: demo\n".to_vec()),
        E::File("workflows", b"x".to_vec()),
        E::File("workflows/a.yaml", b"x".to_vec()),
    ]);
    refused(&app, &token, clash, 400, "'workflows/a.yaml'").await;
    let two = tgz(&[
        E::Dir("one/"),
        E::File("one/pack.yaml", b"ref: demo\n".to_vec()),
        E::File("two/pack.yaml", b"ref: demo\n".to_vec()),
    ]);
    refused(
        &app,
        &token,
        two,
        400,
        "more than one top-level folder ('one', 'two')",
    )
    .await;
    let none = tgz(&[E::File("readme.txt", b"hi".to_vec())]);
    refused(&app, &token, none, 400, "no pack.yaml").await;
}

#[tokio::test]
async fn manifests_that_do_not_fit_are_refused() {
    let app = spawn_app().await;
    let token = with_demo(&app).await;
    let bad_ref = tgz(&[E::File(
        "pack.yaml",
        b"ref: '../x'\nlabel: L\nversion: '1'\n".to_vec(),
    )]);
    let r = refused(&app, &token, bad_ref, 422, "invalid pack ref").await;
    assert_eq!(r.body["diagnostics"][0]["line"], 1);
    assert_eq!(r.body["diagnostics"][0]["path"], "ref");
    // An existing pack's ref without force: 409, nothing replaced.
    let b = base(&app);
    let before = snapshot(&b);
    let r = upload(&app, &token, demo_tgz("", "demo", vec![]), &[]).await;
    r.assert_error(409, "CONFLICT");
    assert_eq!(snapshot(&b), before);
}

#[tokio::test]
async fn broken_files_are_refused() {
    let app = spawn_app().await;
    let token = with_demo(&app).await;
    let good = demo_tgz("", "demo", vec![]);
    let truncated = good[..good.len() / 2].to_vec();
    refused(&app, &token, truncated, 400, "truncated or corrupt").await;
    let mut flipped = good.clone();
    for b in flipped.iter_mut().skip(20).take(200) {
        *b ^= 0x5a;
    }
    refused(&app, &token, flipped, 400, "truncated or corrupt").await;
    let zip = zip_of(&[("pack.yaml", b"ref: demo\n")], None);
    refused(
        &app,
        &token,
        zip[..zip.len() - 10].to_vec(),
        400,
        "truncated or corrupt",
    )
    .await;
    refused(
        &app,
        &token,
        b"just some text, not an archive".to_vec(),
        400,
        "not a .tar.gz or .zip",
    )
    .await;
    refused(&app, &token, Vec::new(), 400, "holds no files").await;
    refused(&app, &token, tgz(&[]), 400, "holds no files").await;
    refused(&app, &token, tgz(&[E::Dir("demo/")]), 400, "holds no files").await;
    refused(&app, &token, zip_of(&[], None), 400, "holds no files").await;
}

// ---- export --------------------------------------------------------------

async fn get_bytes(app: &TestApp, token: &str, path: &str) -> (u16, Vec<u8>, Option<String>) {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    (status, res.bytes().await.unwrap().to_vec(), ctype)
}

async fn hashes(app: &TestApp, token: &str, pack: &str) -> Vec<(String, String)> {
    let r = app
        .get(&format!("/api/v1/packs/{pack}/workflows"), Some(token))
        .await;
    let mut out = Vec::new();
    for w in r.body["data"].as_array().unwrap() {
        let r = w["ref"].as_str().unwrap().to_string();
        let full = app
            .get(&format!("/api/v1/workflows/{r}"), Some(token))
            .await;
        out.push((r, full.body["data"]["content_hash"].to_string()));
    }
    out
}

#[tokio::test]
async fn export_is_deterministic_and_moves_a_pack_with_the_same_hashes() {
    let app = spawn_app().await;
    let token = with_demo(&app).await;
    let (status, a, ctype) = get_bytes(&app, &token, "/api/v1/packs/demo/archive").await;
    assert_eq!(status, 200);
    assert_eq!(ctype.as_deref(), Some("application/gzip"));
    // Touching the files (new mtimes) changes nothing.
    let f = base(&app).join("demo/workflows/hello.yaml");
    let text = std::fs::read(&f).unwrap();
    std::fs::write(&f, text).unwrap();
    let (_, b, _) = get_bytes(&app, &token, "/api/v1/packs/demo/archive").await;
    assert_eq!(a, b, "same folder, same bytes");

    let other = spawn_app().await;
    let other_token = other.token().await;
    let r = upload(&other, &other_token, a, &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let here = hashes(&app, &token, "demo").await;
    assert_eq!(here.len(), 2);
    assert_eq!(hashes(&other, &other_token, "demo").await, here);

    let (status, body, _) = get_bytes(&app, &token, "/api/v1/packs/nope/archive").await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    // A registered pack without a folder.
    app.create_pack(&token, &crate::helpers::pack_body("nofolder"))
        .await;
    let (status, _, _) = get_bytes(&app, &token, "/api/v1/packs/nofolder/archive").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn pack_build_validates_first_and_writes_the_bytes_the_api_exports() {
    use crate::helpers::{attune_command, run_to_end};
    let work = tempfile::tempdir().unwrap();
    // The demo has a broken workflow: exit 1, no archive.
    let out = work.path().join("demo.tar.gz");
    let mut cmd = attune_command();
    cmd.args(["pack", "build", DEMO, "-o"]).arg(&out);
    let (code, stdout, _) = run_to_end(cmd);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("unknown-task"), "{stdout}");
    assert!(stdout.contains("no archive written"), "{stdout}");
    assert!(!out.exists());

    // Without it: exit 0, and the same bytes as the appliance's export.
    let dir = work.path().join("demo");
    copy_dir(Path::new(DEMO), &dir);
    std::fs::remove_file(dir.join("workflows/broken_deploy.yaml")).unwrap();
    let mut cmd = attune_command();
    cmd.args(["pack", "build"]).arg(&dir).arg("-o").arg(&out);
    let (code, stdout, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("wrote "), "{stdout}");
    let built = std::fs::read(&out).unwrap();

    let app = spawn_app().await;
    let token = app.token().await;
    let r = upload(&app, &token, built.clone(), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (_, exported, _) = get_bytes(&app, &token, "/api/v1/packs/demo/archive").await;
    assert_eq!(exported, built);

    // A folder named differently from its ref, and a bad pack.yaml: exit 1.
    let other = work.path().join("other");
    copy_dir(&dir, &other);
    let mut cmd = attune_command();
    cmd.args(["pack", "build"]).arg(&other).arg("-o").arg(&out);
    let (code, stdout, _) = run_to_end(cmd);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("rename the folder"), "{stdout}");
    std::fs::write(dir.join("pack.yaml"), "ref: demo\nlabel: [x\n").unwrap();
    let mut cmd = attune_command();
    cmd.args(["pack", "build"]).arg(&dir).arg("-o").arg(&out);
    let (code, stdout, _) = run_to_end(cmd);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("yaml-syntax"), "{stdout}");
}

#[tokio::test]
async fn concurrent_uploads_of_one_pack_serialize() {
    let app = spawn_app().await;
    let token = with_demo(&app).await;
    let archive = |label: &str| {
        let files: Vec<(String, Vec<u8>)> = demo_entries("", "demo")
            .into_iter()
            .map(|(n, d)| {
                if n == "pack.yaml" {
                    (
                        n,
                        format!("ref: demo\nlabel: {label}\nversion: '1'\n").into_bytes(),
                    )
                } else {
                    (n, d)
                }
            })
            .collect();
        let entries: Vec<E> = files.iter().map(|(n, d)| E::File(n, d.clone())).collect();
        tgz(&entries)
    };
    let body = json!({});
    let sync = app.post("/api/v1/packs/demo/workflows/sync", Some(&token), &body);
    let (a, b, s) = tokio::join!(
        upload(&app, &token, archive("One"), &[("force", "true")]),
        upload(&app, &token, archive("Two"), &[("force", "true")]),
        sync
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(b.status, 200, "{}", b.body);
    assert_eq!(s.status, 200, "{}", s.body);
    // The last one to run holds: folder and record agree.
    let on_disk = std::fs::read_to_string(base(&app).join("demo/pack.yaml")).unwrap();
    let label = app.get_pack(&token, "demo").await.body["data"]["label"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        on_disk.contains(&format!("label: {label}\n")),
        "{on_disk} vs {label}"
    );
    assert_eq!(top_names(&base(&app)), ["demo"]);
}

#[tokio::test]
async fn an_upload_waits_for_the_validation_budget_and_a_full_one_leaves_nothing() {
    let app = crate::helpers::spawn_app_configured(|c| {
        c.validation.memory_budget_bytes = 8 * 1024 * 1024;
        c.validation.max_wait_ms = 0;
    })
    .await;
    let token = app.token().await;
    let budget = app.state.work_budget.clone();
    let held = budget
        .admit(budget.budget_bytes(), attune::budget::Wait::Bounded)
        .await
        .expect("an idle budget admits");
    let r = upload(&app, &token, demo_tgz("x-1.0", "demo", vec![]), &[]).await;
    r.assert_error(503, "BUSY");
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(app.get_pack(&token, "demo").await.status, 404);
    assert!(!base(&app).join("demo").exists(), "no folder swapped in");
    drop(held);
    let r = upload(&app, &token, demo_tgz("x-1.0", "demo", vec![]), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(budget.in_flight_bytes(), 0);
}
