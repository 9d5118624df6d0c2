//! The file-system side of backup and restore: temporary files in the
//! data directory (and removing what a crash left), copies that reach the
//! disk, directory fsync.

use super::*;

/// Temporary file of an online backup in `dir` (the data directory).
pub fn online_temp_path(dir: &Path) -> Result<PathBuf, BackupError> {
    temp_path(dir, ONLINE_TEMP_PREFIX)
}

/// Removes temporary files a crashed backup or restore left in `data_dir`.
/// Call only while holding the database. Best effort: a file that cannot
/// be removed is logged and left.
pub(crate) fn remove_leftovers(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = [ONLINE_TEMP_PREFIX, RESTORE_TEMP_PREFIX].iter().any(|p| {
            name.strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('-'))
        });
        if !ours {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => {
                tracing::warn!(file = %entry.path().display(), "removed a temporary file left by an interrupted backup or restore")
            }
            Err(e) => {
                tracing::warn!(file = %entry.path().display(), error = %e, "cannot remove a temporary file left by an interrupted backup or restore")
            }
        }
    }
}

/// A fresh, unused path `{dir}/{prefix}-{random hex}`.
pub(super) fn temp_path(dir: &Path, prefix: &str) -> Result<PathBuf, BackupError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| BackupError::Io {
        path: dir.to_path_buf(),
        action: "cannot pick a temporary file name",
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(dir.join(format!("{prefix}-{}", hex::encode(bytes))))
}

/// Copies `from` to the new file `to` and fsyncs it.
pub(super) fn copy_file_synced(from: &Path, to: &Path) -> Result<(), BackupError> {
    let mut src = File::open(from).map_err(io(from, "cannot read the backup file"))?;
    let mut dst = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(io(
            to,
            "cannot create a temporary file in the data directory",
        ))?;
    std::io::copy(&mut src, &mut dst).map_err(io(to, "cannot copy the backup file"))?;
    dst.flush().map_err(io(to, "cannot write the copy"))?;
    dst.sync_all()
        .map_err(io(to, "cannot flush the copy to disk"))
}

pub(super) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes a rename durable; best effort (not every file system allows it).
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
