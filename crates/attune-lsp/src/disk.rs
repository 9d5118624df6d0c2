//! The language server's own small disk layer: finding packs under a
//! workspace folder and reading their YAML files safely. It follows the
//! rules of the appliance's `src/pack/` (regular files only, opened
//! non-blocking so a FIFO never hangs the server, size checked first, UTF-8
//! required) without depending on the appliance crate.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Folders never searched for packs.
const SKIP_DIRS: &[&str] = &["target", "node_modules"];
/// How deep below a workspace folder packs are looked for.
const MAX_DEPTH: usize = 4;
/// Most folders visited while looking for packs in one workspace folder.
const MAX_DIRS: usize = 20_000;

/// A pack folder: a folder with `workflows/` or `actions/`, as
/// `attune validate` sees one.
pub fn is_pack_dir(dir: &Path) -> bool {
    dir.join("workflows").is_dir() || dir.join("actions").is_dir()
}

/// The packs of a workspace folder: the folder itself when it is a pack,
/// else the pack folders below it (a packs folder, or a repository that
/// contains packs), breadth first, at most four levels down, hidden
/// folders, `target` and `node_modules` skipped. Sorted by path.
pub fn find_packs(root: &Path) -> Vec<PathBuf> {
    if is_pack_dir(root) {
        return vec![root.to_path_buf()];
    }
    let mut out = Vec::new();
    let mut level = vec![root.to_path_buf()];
    let mut visited = 0usize;
    for _ in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for dir in level {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.filter_map(Result::ok) {
                visited += 1;
                if visited > MAX_DIRS {
                    break;
                }
                let Ok(ft) = e.file_type() else { continue };
                if !ft.is_dir() {
                    continue;
                }
                let name = e.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.starts_with('.') || SKIP_DIRS.contains(&name) {
                    continue;
                }
                let p = e.path();
                if is_pack_dir(&p) {
                    out.push(p);
                } else {
                    next.push(p);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    out.sort();
    out
}

/// The `*.yaml` / `*.yml` files of `dir`, as (file stem, path), sorted.
pub fn list_yaml(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(String, PathBuf)> = rd
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let stem = name
                .strip_suffix(".yaml")
                .or_else(|| name.strip_suffix(".yml"))?;
            (!stem.is_empty()).then(|| (stem.to_string(), e.path()))
        })
        .collect();
    v.sort();
    v
}

/// Read a file: a regular file only (opened with `O_NONBLOCK`, checked with
/// fstat on the handle), at most `max_bytes`, UTF-8. The error says why not.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, String> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            format!(
                "cannot open the file: {}",
                e.kind().to_string().to_lowercase()
            )
        })?;
    let meta = f.metadata().map_err(|e| {
        format!(
            "cannot read the file: {}",
            e.kind().to_string().to_lowercase()
        )
    })?;
    if !meta.is_file() {
        return Err("not a regular file".to_string());
    }
    if meta.len() > max_bytes {
        return Err(format!(
            "file is {} bytes; the limit is {max_bytes} bytes",
            meta.len()
        ));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    f.take(max_bytes.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| {
            format!(
                "cannot read the file: {}",
                e.kind().to_string().to_lowercase()
            )
        })?;
    if buf.len() as u64 > max_bytes {
        return Err(format!("file is larger than {max_bytes} bytes"));
    }
    String::from_utf8(buf).map_err(|_| "file is not valid UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_are_found_in_a_pack_a_packs_folder_and_a_repository() {
        let t = tempfile::tempdir().unwrap();
        let repo = t.path();
        std::fs::create_dir_all(repo.join("packs/a/workflows")).unwrap();
        std::fs::create_dir_all(repo.join("packs/b/actions")).unwrap();
        std::fs::create_dir_all(repo.join("deep/x/y/c/workflows")).unwrap();
        std::fs::create_dir_all(repo.join(".git/p/workflows")).unwrap();
        std::fs::create_dir_all(repo.join("target/p/workflows")).unwrap();
        let found = find_packs(repo);
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(repo).unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["deep/x/y/c", "packs/a", "packs/b"]);
        assert_eq!(find_packs(&repo.join("packs")).len(), 2);
        assert_eq!(find_packs(&repo.join("packs/a")), [repo.join("packs/a")]);
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("x.yaml");
        let st = std::process::Command::new("mkfifo")
            .arg(&f)
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(read_text(&f, 100).unwrap_err(), "not a regular file");
        std::fs::write(t.path().join("big.yaml"), "x".repeat(200)).unwrap();
        assert!(read_text(&t.path().join("big.yaml"), 100).is_err());
        std::fs::write(t.path().join("bin.yaml"), b"\xff\xfe").unwrap();
        assert!(read_text(&t.path().join("bin.yaml"), 100).is_err());
    }
}
