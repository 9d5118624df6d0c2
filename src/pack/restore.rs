//! Writing a workflow file back into its pack folder (restoring a
//! revision of a file-backed workflow).
//!
//! Only a plain workflow file `{pack}/workflows/{name}.yaml|.yml` is
//! written, inside the pack folder (a pack folder or `workflows/` that
//! resolves elsewhere is refused, and so is a target that is a symbolic
//! link or not a regular file). The caller says what it expects on disk —
//! the bytes of the current revision (by hash), or no file — and anything
//! else is a conflict: the file changed on disk since, and writing would
//! lose that change. The write is atomic: a temporary file in the same
//! folder (a dot name that no sync lists), synced, renamed over the target,
//! and the folder synced.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// What the caller expects at the target before writing.
#[derive(Debug, Clone, Copy)]
pub enum Expect<'a> {
    /// A file whose content has this hex sha256.
    Hash(&'a str),
    /// No file.
    Absent,
}

/// Why a file was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteBackError {
    /// The file on disk is not what the caller expected.
    #[error("{0}")]
    Conflict(String),
    /// This workflow's file cannot be restored by writing one file.
    #[error("{0}")]
    NotRestorable(String),
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteBackError + '_ {
    move |source| WriteBackError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `text` to `base/{rel}` (relative to `packs_base_dir`, as a
/// record's `source_file`) when the file there matches `expect`.
pub fn write_back(
    base: &Path,
    pack_ref: &str,
    name: &str,
    rel: &str,
    text: &str,
    expect: Expect<'_>,
    max_bytes: u64,
) -> Result<(), WriteBackError> {
    let file_name = [".yaml", ".yml"]
        .iter()
        .map(|ext| format!("{name}{ext}"))
        .find(|f| rel == format!("{pack_ref}/workflows/{f}"))
        .ok_or_else(|| {
            WriteBackError::NotRestorable(format!(
                "'{rel}' is not a plain workflow file ({pack_ref}/workflows/{name}.yaml): an \
                 action-linked workflow is two files; edit them in the pack folder and sync"
            ))
        })?;
    let pack_dir = super::pack_dir_within(base, pack_ref).map_err(|e| {
        WriteBackError::Conflict(format!(
            "cannot restore into the pack folder: {e}; register the pack folder again first"
        ))
    })?;
    let dir = pack_dir.join("workflows");
    match std::fs::symlink_metadata(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(&dir).map_err(io(&dir))?;
        }
        Err(e) => return Err(io(&dir)(e)),
        Ok(_) => {}
    }
    let real_pack = std::fs::canonicalize(&pack_dir).map_err(io(&pack_dir))?;
    let real_dir = std::fs::canonicalize(&dir).map_err(io(&dir))?;
    if !real_dir.starts_with(&real_pack) || !real_dir.is_dir() {
        return Err(WriteBackError::NotRestorable(format!(
            "{pack_ref}/workflows is not a folder inside the pack folder; nothing was written"
        )));
    }
    let target = real_dir.join(&file_name);
    let shown = format!("{pack_ref}/workflows/{file_name}");
    match std::fs::symlink_metadata(&target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Expect::Hash(_) = expect {
                return Err(WriteBackError::Conflict(format!(
                    "{shown} was deleted on disk since the current revision; sync the pack \
                     first, then restore"
                )));
            }
        }
        Err(e) => return Err(io(&target)(e)),
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(WriteBackError::NotRestorable(format!(
                "{shown} is not a regular file (a symbolic link or folder); nothing was written"
            )));
        }
        Ok(meta) => {
            let Expect::Hash(hash) = expect else {
                return Err(WriteBackError::Conflict(format!(
                    "{shown} exists on disk but is not registered; sync the pack to register it, \
                     or remove it, then restore"
                )));
            };
            if meta.len() > max_bytes {
                return Err(WriteBackError::Conflict(format!(
                    "{shown} changed on disk since the current revision; sync the pack first \
                     (or discard the change), then restore"
                )));
            }
            let bytes = std::fs::read(&target).map_err(io(&target))?;
            if hex::encode(Sha256::digest(&bytes)) != hash {
                return Err(WriteBackError::Conflict(format!(
                    "{shown} changed on disk since the current revision; sync the pack first \
                     (or discard the change), then restore"
                )));
            }
        }
    }
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| io(&real_dir)(std::io::Error::other(e.to_string())))?;
    let tmp = real_dir.join(format!(".{file_name}.restore-{}.tmp", hex::encode(nonce)));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)?;
        std::fs::File::open(&real_dir)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(&target)(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(s: &str) -> String {
        hex::encode(Sha256::digest(s.as_bytes()))
    }

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let wf = dir.path().join("p/workflows");
        std::fs::create_dir_all(&wf).unwrap();
        std::fs::write(wf.join("w.yaml"), "old\n").unwrap();
        let base = dir.path().to_path_buf();
        (dir, base)
    }

    #[test]
    fn the_file_is_replaced_when_it_is_what_the_caller_expects() {
        let (_d, base) = setup();
        let r = "p/workflows/w.yaml";
        write_back(
            &base,
            "p",
            "w",
            r,
            "new\n",
            Expect::Hash(&hash("old\n")),
            1 << 20,
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(base.join(r)).unwrap(), "new\n");
        let left: Vec<_> = std::fs::read_dir(base.join("p/workflows"))
            .unwrap()
            .collect();
        assert_eq!(left.len(), 1, "no temporary file is left");
    }

    #[test]
    fn a_file_changed_since_is_a_conflict_and_is_kept() {
        let (_d, base) = setup();
        let r = "p/workflows/w.yaml";
        let err = write_back(
            &base,
            "p",
            "w",
            r,
            "new\n",
            Expect::Hash(&hash("x")),
            1 << 20,
        )
        .unwrap_err();
        assert!(matches!(err, WriteBackError::Conflict(_)), "{err}");
        assert!(err.to_string().contains("changed on disk"), "{err}");
        assert_eq!(std::fs::read_to_string(base.join(r)).unwrap(), "old\n");
        let err = write_back(&base, "p", "w", r, "new\n", Expect::Absent, 1 << 20).unwrap_err();
        assert!(matches!(err, WriteBackError::Conflict(_)), "{err}");
        // deleted on disk while registered
        std::fs::remove_file(base.join(r)).unwrap();
        let err = write_back(
            &base,
            "p",
            "w",
            r,
            "n",
            Expect::Hash(&hash("old\n")),
            1 << 20,
        )
        .unwrap_err();
        assert!(err.to_string().contains("deleted on disk"), "{err}");
        // a deleted (pruned) workflow comes back
        write_back(&base, "p", "w", r, "back\n", Expect::Absent, 1 << 20).unwrap();
        assert_eq!(std::fs::read_to_string(base.join(r)).unwrap(), "back\n");
    }

    #[test]
    fn paths_outside_the_plain_layout_are_refused() {
        let (_d, base) = setup();
        for rel in [
            "p/workflows/../../etc/w.yaml",
            "q/workflows/w.yaml",
            "p/actions/workflows/w.yaml",
            "p/workflows/w.txt",
        ] {
            let err = write_back(&base, "p", "w", rel, "x", Expect::Absent, 1 << 20).unwrap_err();
            assert!(
                matches!(err, WriteBackError::NotRestorable(_)),
                "{rel}: {err}"
            );
        }
    }

    #[test]
    fn a_symlinked_target_is_not_followed() {
        let (d, base) = setup();
        let outside = d.path().join("outside.yaml");
        std::fs::write(&outside, "secret\n").unwrap();
        let link = base.join("p/workflows/v.yaml");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let err = write_back(
            &base,
            "p",
            "v",
            "p/workflows/v.yaml",
            "x",
            Expect::Hash(&hash("secret\n")),
            1 << 20,
        )
        .unwrap_err();
        assert!(matches!(err, WriteBackError::NotRestorable(_)), "{err}");
        assert_eq!(std::fs::read_to_string(outside).unwrap(), "secret\n");
    }
}
