//! Pack archives: unpacking an uploaded `.tar.gz` or `.zip` into a staging
//! folder under hostile-input rules, and building the deterministic
//! `.tar.gz` of a pack folder (export and `attune pack build`).
//!
//! Unpacking never uses the archive crates' own extract functions: every
//! entry's name is checked first (no `..`, no absolute path, no drive
//! letter, no backslash, UTF-8), only regular files and directories are
//! written (symlinks, hard links, devices, FIFOs are refused, naming the
//! entry), files are created with `create_new` inside a fresh folder that
//! holds no symlink, so nothing can land outside it. Limits are enforced
//! while bytes flow, not after: entry count, bytes per file, bytes in total
//! and the ratio of unpacked to compressed bytes (a bomb stops at the
//! first chunk past the ratio).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::manifest::MANIFEST_FILE;

/// Limits of one unpack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Most entries (files and folders).
    pub max_files: u64,
    /// Most bytes unpacked, in total.
    pub max_unpacked_bytes: u64,
    /// Most bytes of one file (`max_workflow_file_bytes`).
    pub max_file_bytes: u64,
}

/// Unpacked bytes per compressed byte beyond which an archive is a bomb,
/// once more than [`BOMB_FLOOR_BYTES`] are unpacked (text packs compress
/// 5–50×; deflate cannot pass ~1,032× in one layer).
pub const MAX_RATIO: u64 = 200;
/// Below this many unpacked bytes the ratio is not checked.
pub const BOMB_FLOOR_BYTES: u64 = 16 * 1024 * 1024;

/// Why an archive was refused. `entry` is the name as the archive wrote it.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(
        "the upload is not a .tar.gz or .zip archive; send a gzip-compressed tar or a zip file"
    )]
    NotAnArchive,
    #[error("the archive is truncated or corrupt ({0}); build it again and re-send it")]
    Corrupt(String),
    #[error("the archive holds no files; it must hold a pack folder with its pack.yaml")]
    Empty,
    #[error("entry '{entry}' is refused: {why}")]
    UnsafePath { entry: String, why: &'static str },
    #[error(
        "entry '{entry}' is {kind}; a pack archive holds only regular files and folders (copy the target into the pack instead)"
    )]
    NotRegular { entry: String, kind: &'static str },
    #[error("the archive has more than {limit} entries (max_pack_files)")]
    TooManyFiles { limit: u64 },
    #[error(
        "unpacking stopped at entry '{entry}': the archive unpacks to more than {limit} bytes (max_pack_unpacked_bytes)"
    )]
    TooLarge { entry: String, limit: u64 },
    #[error(
        "unpacking stopped at entry '{entry}': more than {MAX_RATIO} unpacked bytes per compressed byte marks a compression bomb"
    )]
    Bomb { entry: String },
    #[error(
        "entry '{entry}' is larger than {limit} bytes (max_workflow_file_bytes); split it or raise the limit"
    )]
    FileTooLarge { entry: String, limit: u64 },
    #[error("entry '{entry}' appears twice in the archive (or clashes with a folder of that name)")]
    Duplicate { entry: String },
    #[error(
        "the archive holds more than one top-level folder ('{first}', '{second}'); put one pack in an archive"
    )]
    TwoTopFolders { first: String, second: String },
    #[error(
        "the archive has no pack.yaml at its top or inside its one top folder; add the pack's pack.yaml"
    )]
    NoManifest,
    #[error("cannot write the staging folder: {0}")]
    Io(#[from] io::Error),
}

impl ArchiveError {
    /// The entry a message names, if any.
    pub fn entry(&self) -> Option<&str> {
        match self {
            ArchiveError::UnsafePath { entry, .. }
            | ArchiveError::NotRegular { entry, .. }
            | ArchiveError::TooLarge { entry, .. }
            | ArchiveError::Bomb { entry }
            | ArchiveError::FileTooLarge { entry, .. }
            | ArchiveError::Duplicate { entry } => Some(entry),
            _ => None,
        }
    }
}

/// What an unpack wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unpacked {
    pub files: u64,
    pub bytes: u64,
}

/// Archive kinds, told by their first bytes (not by the file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TarGz,
    Zip,
}

/// Tells the kind from the first bytes of `file` (rewound afterwards).
pub fn sniff(file: &mut File) -> Result<Kind, ArchiveError> {
    let mut magic = [0u8; 4];
    file.seek(SeekFrom::Start(0))?;
    let mut n = 0;
    while n < magic.len() {
        match file.read(&mut magic[n..])? {
            0 => break,
            k => n += k,
        }
    }
    file.seek(SeekFrom::Start(0))?;
    match &magic[..n] {
        [0x1f, 0x8b, ..] => Ok(Kind::TarGz),
        [b'P', b'K', 3, 4] => Ok(Kind::Zip),
        [b'P', b'K', 5, 6] => Err(ArchiveError::Empty),
        [] => Err(ArchiveError::Empty),
        _ => Err(ArchiveError::NotAnArchive),
    }
}

/// Checks an entry name and turns it into a relative path of normal
/// components (`./` prefixes dropped). `None` for the archive root itself.
pub fn safe_relative(name: &str) -> Result<Option<PathBuf>, &'static str> {
    if name.contains('\0') {
        return Err("its name holds a NUL byte");
    }
    if name.contains('\\') {
        return Err("its name holds a backslash; use '/' between folders");
    }
    if name.starts_with('/') {
        return Err("it is an absolute path");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Err("it starts with a drive letter");
    }
    let mut out = PathBuf::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("its path climbs out of the archive with '..'"),
            p => out.push(p),
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Counts the bytes read through it (the compressed bytes consumed).
struct Counting<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// The writer side of an unpack: the checks shared by both formats.
struct Sink<'a> {
    dest: &'a Path,
    limits: ArchiveLimits,
    seen: HashSet<PathBuf>,
    entries: u64,
    out: Unpacked,
    /// The copy buffer, shared by every file.
    buf: Vec<u8>,
}

impl Sink<'_> {
    fn entry(&mut self, name: &str) -> Result<Option<PathBuf>, ArchiveError> {
        self.entries += 1;
        if self.entries > self.limits.max_files {
            return Err(ArchiveError::TooManyFiles {
                limit: self.limits.max_files,
            });
        }
        let rel = safe_relative(name).map_err(|why| ArchiveError::UnsafePath {
            entry: shown(name),
            why,
        })?;
        Ok(rel)
    }

    fn dir(&mut self, name: &str, rel: &Path) -> Result<(), ArchiveError> {
        let path = self.dest.join(rel);
        match std::fs::create_dir_all(&path) {
            Ok(()) => Ok(()),
            Err(_) => Err(ArchiveError::Duplicate { entry: shown(name) }),
        }
    }

    /// Writes one file from `data`; `compressed` reports the compressed
    /// bytes consumed so far, for the bomb check.
    fn file(
        &mut self,
        name: &str,
        rel: &Path,
        mut data: impl Read,
        compressed: &dyn Fn() -> u64,
        executable: bool,
    ) -> Result<(), ArchiveError> {
        if !self.seen.insert(rel.to_path_buf()) {
            return Err(ArchiveError::Duplicate { entry: shown(name) });
        }
        let path = self.dest.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|_| ArchiveError::Duplicate { entry: shown(name) })?;
        }
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(if executable { 0o755 } else { 0o644 })
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => ArchiveError::Duplicate { entry: shown(name) },
                _ => ArchiveError::Io(e),
            })?;
        let mut size = 0u64;
        loop {
            let n = match data.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ArchiveError::Corrupt(format!(
                        "entry '{}': {e}",
                        shown(name)
                    )));
                }
            };
            size += n as u64;
            self.out.bytes += n as u64;
            if size > self.limits.max_file_bytes {
                return Err(ArchiveError::FileTooLarge {
                    entry: shown(name),
                    limit: self.limits.max_file_bytes,
                });
            }
            if self.out.bytes > self.limits.max_unpacked_bytes {
                return Err(ArchiveError::TooLarge {
                    entry: shown(name),
                    limit: self.limits.max_unpacked_bytes,
                });
            }
            if self.out.bytes > BOMB_FLOOR_BYTES
                && self.out.bytes > compressed().max(1).saturating_mul(MAX_RATIO)
            {
                return Err(ArchiveError::Bomb { entry: shown(name) });
            }
            file.write_all(&self.buf[..n])?;
        }
        self.out.files += 1;
        Ok(())
    }
}

/// An entry name as messages show it: at most 200 characters, control
/// characters replaced.
fn shown(name: &str) -> String {
    let mut s: String = name
        .chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if name.chars().count() > 200 {
        s.push('…');
    }
    s
}

/// Unpacks `archive` into `dest` (an empty folder the caller created and
/// removes on failure).
pub fn unpack(
    archive: &mut File,
    dest: &Path,
    limits: ArchiveLimits,
) -> Result<Unpacked, ArchiveError> {
    let kind = sniff(archive)?;
    let mut sink = Sink {
        dest,
        limits,
        seen: HashSet::new(),
        entries: 0,
        out: Unpacked::default(),
        buf: vec![0u8; 64 * 1024],
    };
    match kind {
        Kind::TarGz => unpack_tar_gz(archive, &mut sink)?,
        Kind::Zip => unpack_zip(archive, &mut sink)?,
    }
    if sink.out.files == 0 {
        return Err(ArchiveError::Empty);
    }
    Ok(sink.out)
}

fn unpack_tar_gz(archive: &mut File, sink: &mut Sink<'_>) -> Result<(), ArchiveError> {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counting = Counting {
        inner: io::BufReader::new(archive),
        count: count.clone(),
    };
    let gz = flate2::read::MultiGzDecoder::new(counting);
    let mut tar = tar::Archive::new(gz);
    let corrupt = |e: io::Error| ArchiveError::Corrupt(e.to_string());
    let entries = tar.entries().map_err(corrupt)?;
    let compressed = || count.load(std::sync::atomic::Ordering::Relaxed);
    for entry in entries {
        let entry = entry.map_err(corrupt)?;
        let raw = entry.path_bytes().into_owned();
        let Ok(name) = String::from_utf8(raw.clone()) else {
            return Err(ArchiveError::UnsafePath {
                entry: String::from_utf8_lossy(&raw).into_owned(),
                why: "its name is not UTF-8",
            });
        };
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            continue;
        }
        let rel = sink.entry(&name)?;
        use tar::EntryType as T;
        let not_regular = |kind: &'static str| ArchiveError::NotRegular {
            entry: shown(&name),
            kind,
        };
        match kind {
            T::Directory => {
                if let Some(rel) = rel {
                    sink.dir(&name, &rel)?;
                }
            }
            T::Regular | T::Continuous => {
                let Some(rel) = rel else {
                    return Err(ArchiveError::UnsafePath {
                        entry: shown(&name),
                        why: "a file cannot be the archive's root",
                    });
                };
                let exec = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
                sink.file(&name, &rel, entry, &compressed, exec)?;
            }
            T::Symlink => return Err(not_regular("a symbolic link")),
            T::Link => return Err(not_regular("a hard link")),
            T::Char | T::Block => return Err(not_regular("a device")),
            T::Fifo => return Err(not_regular("a FIFO")),
            _ => return Err(not_regular("a special entry (sparse or unknown type)")),
        }
    }
    Ok(())
}

fn unpack_zip(archive: &mut File, sink: &mut Sink<'_>) -> Result<(), ArchiveError> {
    let corrupt = |e: zip::result::ZipError| ArchiveError::Corrupt(e.to_string());
    let mut zip = zip::ZipArchive::new(io::BufReader::new(archive)).map_err(corrupt)?;
    if zip.len() as u64 > sink.limits.max_files {
        return Err(ArchiveError::TooManyFiles {
            limit: sink.limits.max_files,
        });
    }
    let mut compressed_before = 0u64;
    for i in 0..zip.len() {
        let file = zip.by_index(i).map_err(corrupt)?;
        let raw = file.name_raw().to_vec();
        let Ok(name) = String::from_utf8(raw.clone()) else {
            return Err(ArchiveError::UnsafePath {
                entry: String::from_utf8_lossy(&raw).into_owned(),
                why: "its name is not UTF-8",
            });
        };
        let rel = sink.entry(&name)?;
        let mode = file.unix_mode().unwrap_or(0);
        let not_regular = |kind: &'static str| ArchiveError::NotRegular {
            entry: shown(&name),
            kind,
        };
        match mode & 0o170000 {
            0 | 0o100000 | 0o040000 => {}
            0o120000 => return Err(not_regular("a symbolic link")),
            0o020000 | 0o060000 => return Err(not_regular("a device")),
            0o010000 => return Err(not_regular("a FIFO")),
            _ => return Err(not_regular("a special entry")),
        }
        let this_compressed = file.compressed_size();
        if file.is_dir() || name.ends_with('/') {
            if let Some(rel) = rel {
                sink.dir(&name, &rel)?;
            }
        } else {
            let Some(rel) = rel else {
                return Err(ArchiveError::UnsafePath {
                    entry: shown(&name),
                    why: "a file cannot be the archive's root",
                });
            };
            let before = compressed_before;
            // The whole entry's compressed size counts from its first byte:
            // generous to the archive, still far below a bomb's ratio.
            let compressed = move || before.saturating_add(this_compressed);
            sink.file(&name, &rel, file, &compressed, mode & 0o111 != 0)?;
        }
        compressed_before = compressed_before.saturating_add(this_compressed);
    }
    Ok(())
}

/// Finds the pack folder in an unpacked archive: `dest` itself when it
/// holds `pack.yaml`, else its one top folder when that holds it.
pub fn pack_root(dest: &Path) -> Result<PathBuf, ArchiveError> {
    if dest.join(MANIFEST_FILE).is_file() {
        return Ok(dest.to_path_buf());
    }
    let mut dirs = Vec::new();
    let mut files = 0;
    for e in std::fs::read_dir(dest)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            dirs.push(e.file_name().to_string_lossy().into_owned());
        } else {
            files += 1;
        }
    }
    dirs.sort();
    match dirs.as_slice() {
        [one] if files == 0 && dest.join(one).join(MANIFEST_FILE).is_file() => Ok(dest.join(one)),
        [first, second, ..] if files == 0 => Err(ArchiveError::TwoTopFolders {
            first: first.clone(),
            second: second.clone(),
        }),
        _ => Err(ArchiveError::NoManifest),
    }
}

/// Fixed modification time of every entry of a built archive
/// (2000-01-01T00:00:00Z), so that equal folders give equal bytes.
pub const BUILD_MTIME: u64 = 946_684_800;

/// Why a folder cannot be archived.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "'{0}' is a symbolic link or a special file; a pack archive holds only regular files and folders"
    )]
    NotRegular(String),
    #[error("'{0}' has a name that is not UTF-8")]
    NotUtf8(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Writes the deterministic `.tar.gz` of `pack_dir` to `out`: entries under
/// `{top}/`, sorted by path, folders before their contents, mode 0644
/// (0755 for folders and executable files), owner 0:0 without names, mtime
/// [`BUILD_MTIME`], gzip header without name or time. Names starting with
/// `.` (`.git`, `.DS_Store`) are left out.
pub fn build_tar_gz(pack_dir: &Path, top: &str, out: impl Write) -> Result<(), BuildError> {
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(out, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut header = tar::Header::new_gnu();
    set_dir(&mut header);
    tar.append_data(&mut header, top, io::empty())?;
    add_dir(&mut tar, pack_dir, Path::new(top))?;
    let gz = tar.into_inner()?;
    gz.finish()?.flush()?;
    Ok(())
}

fn set_dir(h: &mut tar::Header) {
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_size(0);
    h.set_mtime(BUILD_MTIME);
    h.set_uid(0);
    h.set_gid(0);
}

fn add_dir<W: Write>(tar: &mut tar::Builder<W>, dir: &Path, rel: &Path) -> Result<(), BuildError> {
    let mut entries: Vec<(String, std::fs::DirEntry)> = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else {
            return Err(BuildError::NotUtf8(
                rel.join(e.file_name()).to_string_lossy().into_owned(),
            ));
        };
        if name.starts_with('.') {
            continue;
        }
        entries.push((name.to_string(), e));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, e) in entries {
        let path = rel.join(&name);
        let shown_path = path.to_string_lossy().into_owned();
        let ft = e.file_type()?;
        let mut header = tar::Header::new_gnu();
        if ft.is_dir() {
            set_dir(&mut header);
            tar.append_data(&mut header, &path, io::empty())?;
            add_dir(tar, &e.path(), &path)?;
        } else if ft.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let file = File::open(e.path())?;
            let meta = file.metadata()?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if meta.permissions().mode() & 0o111 != 0 {
                0o755
            } else {
                0o644
            });
            header.set_size(meta.len());
            header.set_mtime(BUILD_MTIME);
            header.set_uid(0);
            header.set_gid(0);
            tar.append_data(&mut header, &path, file.take(meta.len()))?;
        } else {
            return Err(BuildError::NotRegular(shown_path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_checked() {
        assert_eq!(
            safe_relative("./demo/pack.yaml").unwrap(),
            Some(PathBuf::from("demo/pack.yaml"))
        );
        assert_eq!(safe_relative("./").unwrap(), None);
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "C:/x",
            "c:x",
            "a\\b",
            "a\0b",
        ] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_built_archive_is_the_same_bytes_twice_and_unpacks() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("workflows")).unwrap();
        std::fs::write(src.path().join("pack.yaml"), "ref: p\n").unwrap();
        std::fs::write(src.path().join("workflows/a.yaml"), "x: 1\n").unwrap();
        std::fs::write(src.path().join(".hidden"), "no").unwrap();
        let mut a = Vec::new();
        build_tar_gz(src.path(), "p", &mut a).unwrap();
        // Touch a file's mtime: same bytes.
        std::fs::write(src.path().join("workflows/a.yaml"), "x: 1\n").unwrap();
        let mut b = Vec::new();
        build_tar_gz(src.path(), "p", &mut b).unwrap();
        assert_eq!(a, b);
        let dest = tempfile::tempdir().unwrap();
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&a).unwrap();
        let got = unpack(
            &mut f,
            dest.path(),
            ArchiveLimits {
                max_files: 10,
                max_unpacked_bytes: 1000,
                max_file_bytes: 100,
            },
        )
        .unwrap();
        assert_eq!(got.files, 2);
        assert_eq!(pack_root(dest.path()).unwrap(), dest.path().join("p"));
        assert!(!dest.path().join("p/.hidden").exists());
    }
}
