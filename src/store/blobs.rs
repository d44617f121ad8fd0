//! Append-only segment files for the store's large write-once values: canonical bodies and
//! the canonical copies' raw responses.
//!
//! Why not sled: sled logs every value it is given and rewrites it again as it consolidates
//! and relocates pages, so kilobyte values written once and rarely read cost most of the
//! store's write CPU (a crawl that skipped them used about a third less CPU per page). Here a
//! value is written once, with one `pwrite`, and read with one `pread`; sled keeps a 16-byte
//! [`BlobRef`] to it.
//!
//! Layout: `blobs/NNNNNNNN.seg`, each segment up to [`SEGMENT_BYTES`] (the last one grows
//! past it by at most one value). A value is framed as `len u32 LE ‖ crc32 u32 LE ‖ bytes`,
//! so a reference is checked on every read and a segment can be walked without sled.
//!
//! Crash rule: a value is appended (handed to the kernel) before the sled transaction that
//! refers to it, so a process crash at any moment leaves at worst unreferenced bytes at a
//! segment's end (never a reference to nothing); later appends go after them. For machine
//! crashes, segments are `fdatasync`ed before every explicit store flush and at most every
//! [`SYNC_EVERY`] while writing, i.e. as often as sled makes its own log durable.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use thiserror::Error;

/// A segment is closed once it holds this much: small enough to copy or inspect, large
/// enough that a big archive has a few hundred files, not millions.
pub(crate) const SEGMENT_BYTES: u64 = 256 << 20;
/// Longest a written value waits for `fdatasync`: sled's own flush interval.
pub(crate) const SYNC_EVERY: Duration = Duration::from_millis(500);
/// Bytes of a value's frame header.
const HEADER: usize = 8;

/// Where a value lives: segment, offset of its frame, and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobRef {
    segment: u32,
    offset: u64,
    len: u32,
}

impl BlobRef {
    /// Encoded size.
    pub const BYTES: usize = 16;

    /// The reference as sled stores it.
    pub fn to_bytes(self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        out[..4].copy_from_slice(&self.segment.to_be_bytes());
        out[4..12].copy_from_slice(&self.offset.to_be_bytes());
        out[12..].copy_from_slice(&self.len.to_be_bytes());
        out
    }

    /// Decodes [`BlobRef::to_bytes`]; `None` when the bytes are not a reference.
    pub fn from_bytes(bytes: &[u8]) -> Option<BlobRef> {
        let b: &[u8; Self::BYTES] = bytes.try_into().ok()?;
        let [s0, s1, s2, s3, o0, o1, o2, o3, o4, o5, o6, o7, l0, l1, l2, l3] = *b;
        Some(BlobRef {
            segment: u32::from_be_bytes([s0, s1, s2, s3]),
            offset: u64::from_be_bytes([o0, o1, o2, o3, o4, o5, o6, o7]),
            len: u32::from_be_bytes([l0, l1, l2, l3]),
        })
    }
}

impl std::fmt::Display for BlobRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "segment {} offset {} ({} bytes)",
            self.segment, self.offset, self.len
        )
    }
}

/// What can go wrong reading or writing values.
#[derive(Debug, Error)]
pub enum BlobError {
    /// The file system refused.
    #[error("blob segment {path}: {cause}")]
    Io {
        /// Segment file or directory.
        path: PathBuf,
        /// OS error.
        cause: io::Error,
    },
    /// The bytes at a reference are not the value that was written there.
    #[error("blob segment {path} is damaged: {what} at {at}; run `trawl verify` to list every damaged value")]
    Damaged {
        /// Segment file.
        path: PathBuf,
        /// The reference.
        at: BlobRef,
        /// What does not match.
        what: &'static str,
    },
    /// A value too large for a frame (4 GiB).
    #[error("value of {0} bytes is too large for a blob segment")]
    TooLarge(usize),
}

/// The segment being appended to.
struct Active {
    number: u32,
    file: Arc<File>,
    len: u64,
    /// Appended since the last `fdatasync`.
    unsynced: bool,
    last_sync: Instant,
}

/// The segment files of one store.
pub(crate) struct Blobs {
    dir: PathBuf,
    active: Mutex<Option<Active>>,
    /// Open segments for reading (the active one included).
    readers: Mutex<HashMap<u32, Arc<File>>>,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs").field("dir", &self.dir).finish()
    }
}

fn segment_name(number: u32) -> String {
    format!("{number:08}.seg")
}

impl Blobs {
    /// The segments under `dir` (created on the first append, so that opening a store
    /// for queries writes nothing).
    pub fn new(dir: PathBuf) -> Blobs {
        Blobs {
            dir,
            active: Mutex::new(None),
            readers: Mutex::new(HashMap::new()),
        }
    }

    fn io(&self, path: &Path) -> impl FnOnce(io::Error) -> BlobError {
        let path = path.to_path_buf();
        move |cause| BlobError::Io { path, cause }
    }

    /// The highest-numbered segment, opened for appending at its end.
    fn open_active(&self) -> Result<Active, BlobError> {
        std::fs::create_dir_all(&self.dir).map_err(self.io(&self.dir))?;
        let mut number = 0;
        for entry in std::fs::read_dir(&self.dir).map_err(self.io(&self.dir))? {
            let entry = entry.map_err(self.io(&self.dir))?;
            let name = entry.file_name();
            let parsed = name
                .to_str()
                .and_then(|n| n.strip_suffix(".seg"))
                .and_then(|n| n.parse::<u32>().ok());
            if let Some(n) = parsed {
                number = number.max(n);
            }
        }
        self.open_segment(number.max(1))
    }

    fn open_segment(&self, number: u32) -> Result<Active, BlobError> {
        let path = self.dir.join(segment_name(number));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(self.io(&path))?;
        // Appends go after whatever is there, a torn last value included: its bytes were
        // never referenced (see the module doc).
        let len = file.metadata().map_err(self.io(&path))?.len();
        let file = Arc::new(file);
        self.readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(number, file.clone());
        Ok(Active {
            number,
            file,
            len,
            unsynced: false,
            last_sync: Instant::now(),
        })
    }

    /// Appends one value and returns where it is. The bytes are in the kernel when this
    /// returns (durable at the next sync).
    pub fn append(&self, bytes: &[u8]) -> Result<BlobRef, BlobError> {
        let len = u32::try_from(bytes.len()).map_err(|_| BlobError::TooLarge(bytes.len()))?;
        let mut frame = Vec::with_capacity(HEADER + bytes.len());
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
        frame.extend_from_slice(bytes);
        let mut guard = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        let active = match guard.take() {
            Some(a) if a.len < SEGMENT_BYTES => a,
            Some(full) => {
                // A closed segment is made durable once, here, and never written again.
                self.sync_active(&full)?;
                self.open_segment(full.number + 1)?
            }
            None => self.open_active()?,
        };
        let path = || self.dir.join(segment_name(active.number));
        if let Err(cause) = active.file.write_all_at(&frame, active.len) {
            let path = path();
            *guard = Some(active);
            return Err(BlobError::Io { path, cause });
        }
        let at = BlobRef {
            segment: active.number,
            offset: active.len,
            len,
        };
        let mut active = Active {
            len: active.len + frame.len() as u64,
            unsynced: true,
            ..active
        };
        if active.last_sync.elapsed() >= SYNC_EVERY {
            let synced = self.sync_active(&active);
            active.unsynced = synced.is_err();
            active.last_sync = Instant::now();
            *guard = Some(active);
            synced?;
        } else {
            *guard = Some(active);
        }
        Ok(at)
    }

    fn sync_active(&self, active: &Active) -> Result<(), BlobError> {
        if !active.unsynced {
            return Ok(());
        }
        active
            .file
            .sync_data()
            .map_err(self.io(&self.dir.join(segment_name(active.number))))
    }

    /// Makes every appended value durable.
    pub fn sync(&self) -> Result<(), BlobError> {
        let mut guard = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(active) = guard.as_mut() {
            self.sync_active(active)?;
            active.unsynced = false;
            active.last_sync = Instant::now();
        }
        Ok(())
    }

    fn reader(&self, number: u32) -> Result<Arc<File>, BlobError> {
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = readers.get(&number) {
            return Ok(f.clone());
        }
        let path = self.dir.join(segment_name(number));
        let file = Arc::new(File::open(&path).map_err(self.io(&path))?);
        readers.insert(number, file.clone());
        Ok(file)
    }

    /// The value at `at`, checked against its frame and checksum.
    pub fn read(&self, at: BlobRef) -> Result<Vec<u8>, BlobError> {
        let file = self.reader(at.segment)?;
        let path = || self.dir.join(segment_name(at.segment));
        let mut frame = vec![0u8; HEADER + at.len as usize];
        file.read_exact_at(&mut frame, at.offset).map_err(|cause| {
            if cause.kind() == io::ErrorKind::UnexpectedEof {
                BlobError::Damaged {
                    path: path(),
                    at,
                    what: "segment ends before the value",
                }
            } else {
                BlobError::Io {
                    path: path(),
                    cause,
                }
            }
        })?;
        let damaged = |what| BlobError::Damaged {
            path: path(),
            at,
            what,
        };
        let (header, body) = frame.split_at(HEADER);
        let [l0, l1, l2, l3, c0, c1, c2, c3] =
            <[u8; HEADER]>::try_from(header).map_err(|_| damaged("short frame header"))?;
        if u32::from_le_bytes([l0, l1, l2, l3]) != at.len {
            return Err(damaged("frame length differs from the reference"));
        }
        if crc32fast::hash(body) != u32::from_le_bytes([c0, c1, c2, c3]) {
            return Err(damaged("checksum mismatch"));
        }
        frame.drain(..HEADER);
        Ok(frame)
    }

    /// Bytes in all segments.
    pub fn size_on_disk(&self) -> u64 {
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}

impl Drop for Blobs {
    fn drop(&mut self) {
        // Best effort: a store dropped without an explicit flush still leaves its values
        // durable when the machine allows.
        let _ = self.sync();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_across_reopen_and_segments() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().join("blobs"));
        let a = blobs.append(b"first").unwrap();
        let b = blobs.append(&[7u8; 10_000]).unwrap();
        let empty = blobs.append(b"").unwrap();
        assert_eq!(blobs.read(a).unwrap(), b"first");
        assert_eq!(blobs.read(b).unwrap(), vec![7u8; 10_000]);
        assert!(blobs.read(empty).unwrap().is_empty());
        assert_eq!(BlobRef::from_bytes(&b.to_bytes()), Some(b));
        assert_eq!(BlobRef::from_bytes(b"short"), None);
        blobs.sync().unwrap();
        drop(blobs);
        // A reopened log appends after what is there.
        let blobs = Blobs::new(dir.path().join("blobs"));
        let c = blobs.append(b"third").unwrap();
        assert!(c.offset > b.offset);
        assert_eq!(blobs.read(a).unwrap(), b"first");
        assert_eq!(blobs.read(c).unwrap(), b"third");
    }

    #[test]
    fn a_full_segment_rolls_over() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().to_path_buf());
        let a = blobs.append(b"x").unwrap();
        // Pretend the segment is full.
        if let Some(active) = blobs.active.lock().unwrap().as_mut() {
            active.len = SEGMENT_BYTES;
        }
        let b = blobs.append(b"y").unwrap();
        assert_eq!((a.segment, b.segment), (1, 2));
        assert_eq!(b.offset, 0);
        assert_eq!(blobs.read(a).unwrap(), b"x");
        assert_eq!(blobs.read(b).unwrap(), b"y");
    }

    #[test]
    fn damage_is_reported_not_returned() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().to_path_buf());
        let a = blobs.append(b"precious bytes").unwrap();
        let path = dir.path().join(segment_name(a.segment));
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let fresh = Blobs::new(dir.path().to_path_buf());
        let err = fresh.read(a).unwrap_err().to_string();
        assert!(err.contains("checksum mismatch"), "{err}");
        // A reference past the end (bytes lost in a machine crash) is damage too.
        let beyond = BlobRef {
            offset: a.offset + 1_000,
            ..a
        };
        let err = fresh.read(beyond).unwrap_err().to_string();
        assert!(err.contains("segment ends"), "{err}");
    }
}
