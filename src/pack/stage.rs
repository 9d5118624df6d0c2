//! Staging folders for uploads and the crash-safe swap of a pack folder.
//!
//! A staging folder is `{packs_base_dir}/.upload-{random}` (on the same
//! file system as the packs, so the swap is a rename; skipped by
//! discovery). It holds `unpacked-{random}/` (the archive as written), `pack/` (the
//! pack folder once found), `target` (the ref it replaces, written before
//! the swap) and, only during the fallback swap, `previous/`. Dropping a
//! [`Staging`] removes it. The staging folder carries the `TOPDIR` inode
//! flag where the file system has it, so that its `unpacked-…/` is placed
//! away from the files the last swap freed ([`spread_children`]).
//!
//! The swap is one `renameat2(RENAME_EXCHANGE)` when a folder is already
//! there (the path names the old folder or the new one at every instant,
//! never neither, never a mix) or one `rename` when there is none. On a
//! file system without `RENAME_EXCHANGE` it falls back to two renames
//! through `previous/`; [`recover`] at start-up puts `previous/` back if a
//! crash fell between them. Before the swap the staged files are flushed
//! to disk (`syncfs`), after it the parent folder is.

use std::path::{Path, PathBuf};

/// Prefix of staging folders under `packs_base_dir`.
pub const STAGING_PREFIX: &str = ".upload-";

/// A staging folder, removed on drop.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    unpacked: PathBuf,
}

impl Staging {
    /// Creates a fresh, empty staging folder under `base` (created too when
    /// missing).
    pub fn create(base: &Path) -> std::io::Result<Staging> {
        std::fs::create_dir_all(base)?;
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
        let random = hex::encode(bytes);
        let dir = base.join(format!("{STAGING_PREFIX}{random}"));
        std::fs::create_dir(&dir)?;
        spread_children(&dir);
        // A name of its own each time: Orlov starts its search for a block
        // group at the hash of the name, and a fixed name would land every
        // upload in the group the last one freed.
        let unpacked = dir.join(format!("unpacked-{random}"));
        std::fs::create_dir(&unpacked)?;
        Ok(Staging { dir, unpacked })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Where the archive is unpacked.
    pub fn unpacked(&self) -> PathBuf {
        self.unpacked.clone()
    }

    /// Moves the found pack folder to `pack/` (the one path a swap takes).
    pub fn settle(&self, root: &Path) -> std::io::Result<PathBuf> {
        let pack = self.dir.join("pack");
        std::fs::rename(root, &pack)?;
        Ok(pack)
    }

    /// Swaps `pack/` in as `target`, crash-safe (module docs). Afterwards
    /// `pack/` holds the previous folder, if there was one, and is removed
    /// with the staging folder.
    pub fn swap_into(&self, target: &Path) -> std::io::Result<()> {
        let pack = self.dir.join("pack");
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::fs::write(self.dir.join("target"), name.as_bytes())?;
        // Everything staged reaches the disk before the folder appears.
        if let Ok(f) = std::fs::File::open(&self.dir) {
            let _ = rustix::fs::syncfs(&f);
        }
        let exists = std::fs::symlink_metadata(target).is_ok();
        if exists {
            match rustix::fs::renameat_with(
                rustix::fs::CWD,
                &pack,
                rustix::fs::CWD,
                target,
                rustix::fs::RenameFlags::EXCHANGE,
            ) {
                Ok(()) => {}
                Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
                    let previous = self.dir.join("previous");
                    std::fs::rename(target, &previous)?;
                    std::fs::rename(&pack, target)?;
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            std::fs::rename(&pack, target)?;
        }
        if let Some(parent) = target.parent()
            && let Ok(f) = std::fs::File::open(parent)
        {
            let _ = f.sync_all();
        }
        Ok(())
    }
}

/// Marks `dir` as the top of a directory hierarchy (`FS_TOPDIR_FL`,
/// `chattr +T`), best effort: ext2/3/4 then place each folder made in it
/// in a block group of its own choosing (Orlov's spread) instead of next
/// to its parent, so an upload's `unpacked-…/` lands away from the inodes
/// the previous upload of the pack just freed. On ext4 without a journal
/// (common on VMs and flash boxes) the inode allocator steps over each
/// inode freed in the last 30 s to 5.5 min one by one
/// (`recently_deleted`), and re-uploading a pack of 1,000 files next to
/// the 1,000 just deleted cost 0.4–1.7 s instead of 0.05–0.15 s
/// (docs/PERFORMANCE.md, "Session 5"). Other file systems refuse or
/// ignore the flag, which changes nothing else.
fn spread_children(dir: &Path) {
    let Ok(f) = std::fs::File::open(dir) else {
        return;
    };
    if let Ok(flags) = rustix::fs::ioctl_getflags(&f) {
        let _ = rustix::fs::ioctl_setflags(&f, flags | rustix::fs::IFlags::TOPDIR);
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot remove a staging folder");
        }
    }
}

/// Start-up recovery: for each staging folder left by a crash, puts a
/// fallback swap's `previous/` back when the pack folder is missing, then
/// removes the staging folder. Returns the refs whose folder may have
/// changed without the database knowing (their `target` was written), so
/// the caller syncs them.
pub fn recover(base: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(base) else {
        return Vec::new();
    };
    let mut touched = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(STAGING_PREFIX) {
            continue;
        }
        let dir = e.path();
        if let Ok(target) = std::fs::read_to_string(dir.join("target"))
            && crate::refs::PackRef::parse(&target).is_ok()
        {
            let folder = base.join(&target);
            let previous = dir.join("previous");
            if previous.is_dir() && std::fs::symlink_metadata(&folder).is_err() {
                if let Err(e) = std::fs::rename(&previous, &folder) {
                    tracing::error!(pack = %target, error = %e, "cannot restore the previous pack folder");
                    continue;
                }
                tracing::warn!(pack = %target, "restored the pack folder an interrupted upload had moved");
            }
            touched.push(target);
        }
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot remove a staging folder");
        }
    }
    touched.sort();
    touched.dedup();
    touched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(dir: &Path) -> Option<rustix::fs::IFlags> {
        rustix::fs::ioctl_getflags(std::fs::File::open(dir).ok()?).ok()
    }

    #[test]
    fn a_staging_folder_spreads_its_children_where_the_file_system_can() {
        let tmp = tempfile::tempdir().unwrap();
        // Whether this file system keeps the flag at all, tried by hand.
        let probe = tmp.path().join("probe");
        std::fs::create_dir(&probe).unwrap();
        spread_children(&probe);
        let supported = flags(&probe).is_some_and(|f| f.contains(rustix::fs::IFlags::TOPDIR));

        let staging = Staging::create(&tmp.path().join("packs")).unwrap();
        let got = flags(staging.path()).is_some_and(|f| f.contains(rustix::fs::IFlags::TOPDIR));
        assert_eq!(got, supported, "staging folder TOPDIR flag");
        // `unpacked-…/` does not inherit it: only the staging folder is a top.
        let inner =
            flags(&staging.unpacked()).is_some_and(|f| f.contains(rustix::fs::IFlags::TOPDIR));
        assert!(!inner);
        let dir = staging.path().to_path_buf();
        drop(staging);
        assert!(!dir.exists(), "dropping removes the staging folder");
    }
}
