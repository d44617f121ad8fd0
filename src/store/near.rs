//! The near-duplicate candidate index: in memory while small, then in scratch files.
//!
//! Every stored text's [`NearPrint`] yields band keys; two texts that share one of its 32
//! MinHash band keys are candidates. The keys used to live in a sled tree (36
//! entries per text), which made the index most of the store's keys and writes, and made a
//! lookup 36 range scans whose cost grew with the store as the tree outgrew the cache. Here
//! they are hash tables of chains that this process keeps for itself: a lookup is 32 table
//! probes plus short chain walks, whatever the store size, and nothing in sled is written
//! for it. The fingerprints stay in sled (`prints`), so the index is derived data: it is
//! rebuilt from `prints` and `hashes` the first time a process ingests a new text.
//!
//! Memory: about 0.7 KiB per distinct text in memory (a 4-byte chain link and a hash-table
//! entry per band, plus the text's hash, record, simhash and a 128-byte MinHash sketch), which
//! was most of what made a crawl's memory grow with the store. So the store's index keeps
//! only its newest texts in memory (up to [`MEMORY_TEXTS`]) and moves older ones, in bulk, to
//! three unlinked scratch files in the store's directory ([`Disk`]): the same chains, read with
//! `pread`, so the kernel caches their pages outside the process's resident memory (an `mmap`
//! would count in it). One write per file and per touched table moves a whole batch of texts;
//! writing each text's 32 heads as it came cost 40% more ingest time at 100,000 records. A
//! one-byte-per-head bitmap in memory says which digests may be on disk, so a text that shares
//! no band with anything (most of them) is looked up and added without a read, and every
//! text's simhash stays in memory (8 bytes) so that far candidates cost no read. The files are
//! derived data with no name: a crash leaves nothing behind, and the next process rebuilds
//! them from `prints` as it rebuilds the memory index.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::NearBounds;
use crate::fingerprint::simhash::{mix64, BandKey};
use crate::fingerprint::NearPrint;
use crate::model::{ContentHash, RecordId};

/// Bands per text: the 32 MinHash bands. The four 16-bit simhash bands are left out: as the
/// store grows they fill with texts written from the same templates (a no-match lookup grew
/// from 8 to 45 µs between 10,000 and 100,000 records), and on the evaluation set every pair
/// they found the MinHash bands found too (recall 0.989 either way).
const KEYS: usize = crate::fingerprint::simhash::BANDS;
/// End of a chain.
const NONE: u32 = u32::MAX;

/// One indexed text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Doc {
    /// Its content hash.
    pub hash: ContentHash,
    /// The record it belongs to.
    pub record: RecordId,
    /// Its simhash, so far candidates are dropped without reading their fingerprint.
    pub simhash: u64,
    /// The low byte of each of its 128 MinHash slots, so dissimilar candidates are dropped
    /// without reading their fingerprint either.
    pub sketch: [u8; SKETCH_BYTES],
}

/// Bytes of a [`Doc::sketch`].
pub(crate) const SKETCH_BYTES: usize = 128;
/// A sketch estimate this far below the Jaccard threshold rejects a candidate. The sketch
/// sees the same 128 slots as the exact check and differs from it only where two different
/// slot values share their low byte (one in 256), so the two estimates differ by far less
/// than this; the slack only keeps borderline pairs for the exact check to decide.
const SKETCH_SLACK: f64 = 0.05;

impl Doc {
    /// The entry for a text.
    pub fn new(hash: ContentHash, record: RecordId, print: &NearPrint) -> Doc {
        Doc {
            hash,
            record,
            simhash: print.simhash,
            sketch: sketch(print),
        }
    }
}

fn sketch(print: &NearPrint) -> [u8; SKETCH_BYTES] {
    let mut out = [0u8; SKETCH_BYTES];
    for (o, v) in out.iter_mut().zip(&print.minhash) {
        *o = (*v & 0xff) as u8;
    }
    out
}

/// Jaccard similarity estimated from two sketches: the share of equal bytes, corrected for
/// the one-in-256 chance that different slots share their low byte.
fn sketch_jaccard(a: &[u8; SKETCH_BYTES], b: &[u8; SKETCH_BYTES]) -> f64 {
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    let share = equal as f64 / SKETCH_BYTES as f64;
    (share - 1.0 / 256.0) / (255.0 / 256.0)
}

/// Buckets of the recent texts' chain-head table at its largest.
const RECENT_HEAD_BUCKETS: usize = 1 << 18;
/// Texts the store's index holds in memory before it moves them to scratch files: as many
/// as fill [`RECENT_HEAD_BUCKETS`] to the 7/8 that std's `HashMap` holds before it doubles.
/// That is 7,168 texts in 4.8 MiB: 2.3 for the heads, 1.5 for the texts and 1.0 for the
/// links, each vector grown to its next power of two. One text more would double the heads
/// table (another 2.3 MiB, and 4.6 while it rehashes), and the texts' and links' vectors
/// with it: at 8,192 texts the index peaked at 13 MiB.
pub(crate) const MEMORY_TEXTS: usize = RECENT_HEAD_BUCKETS / 8 * 7 / KEYS;

/// Band key digest → the latest slot (`doc * KEYS + band`) with that digest, and for every
/// slot the previous slot with the same digest. The newest texts' chains are in memory
/// (`recent`), older ones in scratch files once the index may and does outgrow its memory
/// share; a chain runs from memory into the files.
#[derive(Debug, Default)]
pub(crate) struct NearIndex {
    /// Texts numbered from `disk`'s count on, in memory.
    recent: Memory,
    disk: Option<Disk>,
    /// Where and when texts move to disk; `None` keeps them in memory (a transaction's
    /// batch, which holds a few texts).
    spill: Option<Spill>,
}

/// Where a text lives: in scratch files, or at this place among the recent texts.
enum Place<'a> {
    Disk(&'a Disk),
    Recent(usize),
}

/// Where texts move to disk, and how many stay in memory.
#[derive(Debug)]
struct Spill {
    dir: PathBuf,
    after: usize,
}

/// Chains in memory.
#[derive(Debug, Default)]
struct Memory {
    docs: Vec<Doc>,
    heads: HashMap<u32, u32, BuildHasherDefault<Digested>>,
    next: Vec<u32>,
}

/// The band keys this index uses (see [`KEYS`]).
fn index_keys(print: &NearPrint) -> impl Iterator<Item = BandKey> {
    print
        .band_keys()
        .into_iter()
        .skip(crate::fingerprint::simhash::SIMHASH_BANDS)
}

/// The digests of a print's [`KEYS`] band keys, in band order.
fn digests(print: &NearPrint) -> [u32; KEYS] {
    let mut out = [0u32; KEYS];
    for (o, key) in out.iter_mut().zip(index_keys(print)) {
        *o = digest(key);
    }
    out
}

/// The hasher of the chain heads: their keys are [`digest`]s, already well mixed, so
/// hashing them again (SipHash, the default) would only cost time.
#[derive(Default)]
struct Digested(u64);

impl Hasher for Digested {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }

    fn write_u32(&mut self, n: u32) {
        // hashbrown takes its bucket from the low bits and its tag from the top 7: spread
        // the digest over both.
        self.0 = u64::from(n) | (u64::from(n) << 32);
    }
}

/// A 32-bit digest of a band key. Two keys with the same digest only make a false candidate,
/// which the distance and Jaccard checks reject, so 32 bits are plenty. A MinHash band key
/// is its band number and a 32-bit hash of the band's rows already: mixing the two is
/// enough (the index is never kept across processes, so the digest is free to change).
fn digest(key: BandKey) -> u32 {
    let bytes = key.bytes();
    let mut word = [0u8; 8];
    word[..bytes.len()].copy_from_slice(bytes);
    mix64(u64::from_le_bytes(word).wrapping_add(0x9E37_79B9_7F4A_7C15)) as u32
}

impl NearIndex {
    /// An index that keeps its newest texts in memory and moves them to scratch files in
    /// `dir` once `after` are there.
    pub fn spilling(dir: &Path, after: usize) -> NearIndex {
        NearIndex {
            spill: Some(Spill {
                dir: dir.to_path_buf(),
                after,
            }),
            ..NearIndex::default()
        }
    }

    /// Texts on disk: the first number held in memory.
    fn on_disk_count(&self) -> u32 {
        self.disk.as_ref().map_or(0, |d| d.count)
    }

    /// Texts indexed.
    pub fn len(&self) -> usize {
        self.on_disk_count() as usize + self.recent.docs.len()
    }

    /// Whether some texts live in scratch files.
    pub fn on_disk(&self) -> bool {
        self.disk.is_some()
    }

    /// Adds a text. A text must be added once (the store adds it when its hash is new). An
    /// error (the scratch files could not be read or written) leaves the index unusable:
    /// drop it.
    pub fn insert(&mut self, doc: Doc, print: &NearPrint) -> io::Result<()> {
        let Ok(number) = u32::try_from(self.len()) else {
            // Beyond 4 billion / 32 texts the slots no longer fit: stop indexing rather than
            // corrupt the chains (such a text can still join by exact hash and by revision).
            return Ok(());
        };
        let Some(base) = number
            .checked_mul(KEYS as u32)
            .filter(|b| b.checked_add(KEYS as u32).is_some())
        else {
            return Ok(());
        };
        for (i, d) in digests(print).into_iter().enumerate() {
            let previous = self.head(d)?;
            self.recent.heads.insert(d, base + i as u32);
            self.recent.next.push(previous);
        }
        self.recent.docs.push(doc);
        let Some(spill) = &self.spill else {
            return Ok(());
        };
        if self.recent.docs.len() >= spill.after {
            if self.disk.is_none() {
                self.disk = Some(Disk::create(&spill.dir)?);
            }
            if let Some(disk) = &mut self.disk {
                disk.append(std::mem::take(&mut self.recent))?;
            }
        }
        Ok(())
    }

    /// The latest slot with this digest.
    fn head(&self, digest: u32) -> io::Result<u32> {
        if let Some(slot) = self.recent.heads.get(&digest) {
            return Ok(*slot);
        }
        match &self.disk {
            Some(disk) => disk.head(digest),
            None => Ok(NONE),
        }
    }

    /// Where text `number` lives.
    fn locate(&self, number: u32) -> Place<'_> {
        match &self.disk {
            Some(disk) if number < disk.count => Place::Disk(disk),
            _ => Place::Recent((number - self.on_disk_count()) as usize),
        }
    }

    /// The slot before `slot` with the same digest.
    fn next(&self, slot: u32) -> io::Result<u32> {
        match self.locate(slot / KEYS as u32) {
            Place::Disk(disk) => disk.next(slot),
            Place::Recent(i) => {
                let link = i * KEYS + (slot as usize % KEYS);
                Ok(self.recent.next.get(link).copied().unwrap_or(NONE))
            }
        }
    }

    /// Text number `number`.
    fn doc(&self, number: u32) -> io::Result<Option<Doc>> {
        match self.locate(number) {
            Place::Disk(disk) => disk.doc(number).map(Some),
            Place::Recent(i) => Ok(self.recent.docs.get(i).copied()),
        }
    }

    /// Text number `number`'s simhash.
    fn simhash(&self, number: u32) -> Option<u64> {
        match self.locate(number) {
            Place::Disk(disk) => disk.simhashes.get(number as usize).copied(),
            Place::Recent(i) => self.recent.docs.get(i).map(|d| d.simhash),
        }
    }

    /// Texts sharing a band key with `print` (the newest `per_band` of each band), in index
    /// order, at most `per_band` per band (a band shared by a great many texts is generic
    /// text, and reading all of it would make lookups grow with the store), each text once,
    /// and only those whose simhash is within `bounds.max_distance` and whose sketch does not
    /// rule out `bounds.min_jaccard`.
    pub fn candidates(
        &self,
        print: &NearPrint,
        bounds: NearBounds,
        per_band: usize,
    ) -> io::Result<Vec<Doc>> {
        let mine = sketch(print);
        let floor = bounds.min_jaccard - SKETCH_SLACK;
        // Every text reached through any band, each once: at most KEYS × per_band numbers,
        // so the walk's cost is bounded whatever the store holds.
        let mut reached: Vec<u32> = Vec::new();
        for d in digests(print) {
            let mut slot = self.head(d)?;
            let mut walked = 0;
            while slot != NONE && walked < per_band {
                walked += 1;
                reached.push(slot / KEYS as u32);
                slot = self.next(slot)?;
            }
        }
        reached.sort_unstable();
        reached.dedup();
        let mut out: Vec<Doc> = Vec::new();
        for number in reached {
            // The simhash is in memory for every text: far texts cost no read.
            if self
                .simhash(number)
                .is_none_or(|h| (h ^ print.simhash).count_ones() > bounds.max_distance)
            {
                continue;
            }
            let Some(doc) = self.doc(number)? else {
                continue;
            };
            if floor <= 0.0 || sketch_jaccard(&mine, &doc.sketch) >= floor {
                out.push(doc);
            }
        }
        Ok(out)
    }
}

/// Bytes of a [`Doc`] in the scratch file: hash, record, simhash (LE), sketch.
const DOC_BYTES: usize = 32 + 16 + 8 + SKETCH_BYTES;

impl Doc {
    fn to_bytes(self) -> [u8; DOC_BYTES] {
        let mut out = [0u8; DOC_BYTES];
        out[..32].copy_from_slice(&self.hash.0);
        out[32..48].copy_from_slice(&self.record.0);
        out[48..56].copy_from_slice(&self.simhash.to_le_bytes());
        out[56..].copy_from_slice(&self.sketch);
        out
    }

    fn from_bytes(bytes: &[u8; DOC_BYTES]) -> Doc {
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&bytes[..32]);
        let mut record = [0u8; 16];
        record.copy_from_slice(&bytes[32..48]);
        let mut simhash = [0u8; 8];
        simhash.copy_from_slice(&bytes[48..56]);
        let mut sketch = [0u8; SKETCH_BYTES];
        sketch.copy_from_slice(&bytes[56..]);
        Doc {
            hash: ContentHash(hash),
            record: RecordId(record),
            simhash: u64::from_le_bytes(simhash),
            sketch,
        }
    }
}

/// The chains of the oldest texts in three unlinked scratch files: the texts ([`DOC_BYTES`]
/// each, by number), the chain links (a little-endian u32 per slot), and the chain heads
/// ([`Heads`]); plus a bitmap of the digests that may have a head on disk.
#[derive(Debug)]
struct Disk {
    docs: File,
    next: File,
    heads: Heads,
    /// Bit `digest & (len - 1)` is set for every digest with a head on disk: a clear bit
    /// spares the read. At least [`FILTER_BITS_PER_HEAD`] bits per head.
    filter: Vec<u64>,
    /// Every text's simhash, by number (8 bytes a text): candidates too far are dropped
    /// without reading their entry.
    simhashes: Vec<u64>,
    count: u32,
}

/// Filter bits per head on disk: about one digest in eight that is not on disk still costs
/// a read, and the filter costs 32 bytes per text.
const FILTER_BITS_PER_HEAD: u64 = 8;

impl Disk {
    fn create(dir: &Path) -> io::Result<Disk> {
        Ok(Disk {
            docs: tempfile::tempfile_in(dir)?,
            next: tempfile::tempfile_in(dir)?,
            heads: Heads {
                file: tempfile::tempfile_in(dir)?,
                end: 0,
                tables: vec![Table::default(); TABLES],
            },
            filter: Vec::new(),
            simhashes: Vec::new(),
            count: 0,
        })
    }

    /// Appends the texts of `recent`, numbered from `count` on: one write for their texts,
    /// one for their links, one per touched heads table. Each part of `recent` is freed
    /// once written, so that the move needs little memory beyond what it frees.
    fn append(&mut self, recent: Memory) -> io::Result<()> {
        let Memory { docs, heads, next } = recent;
        let added = u32::try_from(docs.len()).map_err(io::Error::other)?;
        let bytes: Vec<u8> = docs.iter().flat_map(|d| d.to_bytes()).collect();
        self.docs
            .write_all_at(&bytes, u64::from(self.count) * DOC_BYTES as u64)?;
        drop(bytes);
        self.simhashes.extend(docs.iter().map(|d| d.simhash));
        drop(docs);
        let bytes: Vec<u8> = next.iter().flat_map(|n| n.to_le_bytes()).collect();
        drop(next);
        self.next
            .write_all_at(&bytes, u64::from(self.count) * (KEYS * 4) as u64)?;
        drop(bytes);
        self.heads.merge(&heads)?;
        self.count += added;
        let on_disk = self.heads.len();
        if (self.filter.len() as u64) * 64 < on_disk * FILTER_BITS_PER_HEAD {
            drop(heads);
            let bits = (on_disk * FILTER_BITS_PER_HEAD)
                .next_power_of_two()
                .max(1 << 16);
            // Freed before the larger one is allocated, so that the two never coexist.
            self.filter = Vec::new();
            self.filter = vec![0; (bits / 64) as usize];
            self.heads.each_digest(|d| set_bit(&mut self.filter, d))?;
        } else {
            for d in heads.keys() {
                set_bit(&mut self.filter, *d);
            }
        }
        Ok(())
    }

    fn head(&self, digest: u32) -> io::Result<u32> {
        if !has_bit(&self.filter, digest) {
            return Ok(NONE);
        }
        self.heads.get(digest)
    }

    fn next(&self, slot: u32) -> io::Result<u32> {
        let mut word = [0u8; 4];
        self.next.read_exact_at(&mut word, u64::from(slot) * 4)?;
        Ok(u32::from_le_bytes(word))
    }

    /// Text number `number` (below `count`).
    fn doc(&self, number: u32) -> io::Result<Doc> {
        let mut bytes = [0u8; DOC_BYTES];
        self.docs
            .read_exact_at(&mut bytes, u64::from(number) * DOC_BYTES as u64)?;
        Ok(Doc::from_bytes(&bytes))
    }
}

fn set_bit(filter: &mut [u64], digest: u32) {
    let bit = digest as usize & (filter.len() * 64 - 1);
    filter[bit / 64] |= 1 << (bit % 64);
}

fn has_bit(filter: &[u64], digest: u32) -> bool {
    if filter.is_empty() {
        return false;
    }
    let bit = digest as usize & (filter.len() * 64 - 1);
    filter[bit / 64] & (1 << (bit % 64)) != 0
}

/// Chain heads on disk: [`TABLES`] open-addressing tables (chosen by a digest's top bits),
/// each a region of 8-byte entries (digest, slot + 1; 0 is empty) probed linearly from the
/// digest's low bits. A merge rewrites each table it touches in one piece, in place, or at
/// the end of the file at twice the size once it would be more than 7/10 full (the old
/// region is left as garbage, at most as large as the live ones).
#[derive(Debug)]
struct Heads {
    file: File,
    end: u64,
    tables: Vec<Table>,
}

/// One table's region.
#[derive(Clone, Copy, Debug, Default)]
struct Table {
    offset: u64,
    /// Entries; a power of two, or 0 before the table's first entry.
    cap: u32,
    len: u32,
}

/// Tables of [`Heads`].
const TABLES: usize = 1024;
/// Bits of a digest that choose its table.
const TABLE_BITS: u32 = TABLES.trailing_zeros();
/// Entries of a table's first region.
const FIRST_CAP: u32 = 64;
/// Entries read at once while probing: most probes end within one read.
const WINDOW: usize = 16;
/// Bytes of a [`Heads`] entry.
const ENTRY: usize = 8;

fn table_of(digest: u32) -> usize {
    (digest >> (32 - TABLE_BITS)) as usize
}

/// Whether a table of `cap` entries may hold `len`.
fn fits(len: u32, cap: u32) -> bool {
    u64::from(len) * 10 <= u64::from(cap) * 7
}

/// An entry's digest and stored slot (slot + 1; 0 is empty).
fn entry_at(entry: &[u8]) -> (u32, u32) {
    (
        u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]),
        u32::from_le_bytes([entry[4], entry[5], entry[6], entry[7]]),
    )
}

/// The filled entries of a region: (digest, stored slot).
fn filled(region: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    region
        .chunks_exact(ENTRY)
        .map(entry_at)
        .filter(|&(_, stored)| stored != 0)
}

/// Sets `digest`'s stored slot in a table held in memory; true if the digest is new.
fn put(buf: &mut [u8], cap: u32, digest: u32, stored: u32) -> bool {
    let mut pos = (digest & (cap - 1)) as usize;
    loop {
        let at = pos * ENTRY;
        let (d, s) = entry_at(&buf[at..at + ENTRY]);
        if s == 0 || d == digest {
            buf[at..at + 4].copy_from_slice(&digest.to_le_bytes());
            buf[at + 4..at + 8].copy_from_slice(&stored.to_le_bytes());
            return s == 0;
        }
        pos = (pos + 1) & (cap as usize - 1);
    }
}

impl Heads {
    /// Heads on disk.
    fn len(&self) -> u64 {
        self.tables.iter().map(|t| u64::from(t.len)).sum()
    }

    /// Makes each of `newer`'s slots the latest with its digest.
    fn merge(&mut self, newer: &HashMap<u32, u32, BuildHasherDefault<Digested>>) -> io::Result<()> {
        // One vector sorted by table, of exactly the entries' size: a vector per table
        // cost twice that in their spare capacity.
        let mut sorted: Vec<(u32, u32)> = newer.iter().map(|(d, s)| (*d, *s)).collect();
        sorted.sort_unstable_by_key(|(d, _)| table_of(*d));
        for entries in sorted.chunk_by(|a, b| table_of(a.0) == table_of(b.0)) {
            let t = table_of(entries[0].0);
            let old = self.tables[t];
            let most = old
                .len
                .saturating_add(u32::try_from(entries.len()).map_err(io::Error::other)?);
            let mut cap = old.cap.max(FIRST_CAP);
            while !fits(most, cap) {
                cap *= 2;
            }
            let region = self.region(old)?;
            let mut buf = if cap == old.cap {
                region
            } else {
                let mut buf = vec![0u8; cap as usize * ENTRY];
                for (d, s) in filled(&region) {
                    put(&mut buf, cap, d, s);
                }
                buf
            };
            let mut len = old.len;
            for &(d, slot) in entries {
                len += u32::from(put(&mut buf, cap, d, slot + 1));
            }
            let offset = if cap == old.cap { old.offset } else { self.end };
            self.file.write_all_at(&buf, offset)?;
            if offset == self.end {
                self.end += buf.len() as u64;
            }
            self.tables[t] = Table { offset, cap, len };
        }
        Ok(())
    }

    /// A table's whole region, in one read.
    fn region(&self, table: Table) -> io::Result<Vec<u8>> {
        let mut region = vec![0u8; table.cap as usize * ENTRY];
        self.file.read_exact_at(&mut region, table.offset)?;
        Ok(region)
    }

    /// Calls `f` with every digest on disk (one read per table).
    fn each_digest(&self, mut f: impl FnMut(u32)) -> io::Result<()> {
        for table in &self.tables {
            for (d, _) in filled(&self.region(*table)?) {
                f(d);
            }
        }
        Ok(())
    }

    /// The latest slot with `digest`.
    fn get(&self, digest: u32) -> io::Result<u32> {
        let table = self.tables[table_of(digest)];
        if table.cap == 0 {
            return Ok(NONE);
        }
        let mut pos = digest & (table.cap - 1);
        let mut buf = [0u8; WINDOW * ENTRY];
        loop {
            // Tables are at most 7/10 full, so an empty entry ends every probe.
            let n = (WINDOW as u32).min(table.cap - pos) as usize;
            self.file.read_exact_at(
                &mut buf[..n * ENTRY],
                table.offset + u64::from(pos) * ENTRY as u64,
            )?;
            for entry in buf[..n * ENTRY].chunks_exact(ENTRY) {
                let (d, s) = entry_at(entry);
                if s == 0 {
                    return Ok(NONE);
                }
                if d == digest {
                    return Ok(s - 1);
                }
            }
            pos = (pos + n as u32) & (table.cap - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::simhash::{NearPrint, SLOTS};

    fn print(text: &str) -> NearPrint {
        NearPrint::of(&[text]).expect("text has shingles")
    }

    fn doc(n: u8, p: &NearPrint) -> Doc {
        Doc::new(ContentHash([n; 32]), RecordId([n; 16]), p)
    }

    fn within(max_distance: u32) -> NearBounds {
        NearBounds {
            max_distance,
            min_jaccard: 0.5,
        }
    }

    /// An index in memory and one in scratch files from its first text, which every
    /// behaviour below must share.
    fn both(dir: &tempfile::TempDir) -> [NearIndex; 2] {
        [NearIndex::default(), NearIndex::spilling(dir.path(), 0)]
    }

    #[test]
    fn a_text_finds_itself_and_a_close_copy_but_not_an_unrelated_one() {
        let base = "The quarterly report shows revenue growth across every region, with the \
                    strongest gains in the north and a modest decline in exports over the period.";
        let copy = format!("{base} Editor's note: figures are preliminary.");
        let other = "A storm closed the harbour for three days and the ferries stayed in port \
                     while the coastguard checked the breakwater and the lighthouse.";
        let dir = tempfile::tempdir().unwrap();
        for mut index in both(&dir) {
            let (a, c) = (print(base), print(other));
            index.insert(doc(1, &a), &a).unwrap();
            index.insert(doc(2, &c), &c).unwrap();
            let found = index.candidates(&print(&copy), within(64), 64).unwrap();
            assert!(found.iter().any(|d| d.hash == ContentHash([1; 32])));
            assert!(!found.iter().any(|d| d.hash == ContentHash([2; 32])));
            assert_eq!(index.len(), 2);
        }
    }

    #[test]
    fn distance_bound_and_per_band_cap_hold() {
        let text = "one two three four five six seven eight nine ten eleven twelve thirteen";
        let p = print(text);
        let dir = tempfile::tempdir().unwrap();
        for mut index in both(&dir) {
            for n in 0..10 {
                index.insert(doc(n, &p), &p).unwrap();
            }
            // Each text is reported once although it shares all its keys.
            assert_eq!(index.candidates(&p, within(0), 64).unwrap().len(), 10);
            // Chains are walked newest first, at most `per_band` deep.
            let capped = index.candidates(&p, within(0), 3).unwrap();
            assert_eq!(capped.len(), 3);
            let numbers: Vec<u8> = capped.iter().map(|d| d.hash.0[0]).collect();
            assert_eq!(numbers, vec![7, 8, 9]);
            let mut far = p.clone();
            far.simhash = !p.simhash;
            assert!(index.candidates(&far, within(10), 64).unwrap().is_empty());
        }
    }

    #[test]
    fn the_sketch_estimates_jaccard() {
        let p = print("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu");
        let q = print("the harbour stayed closed for three days while storms passed over");
        assert!((sketch_jaccard(&sketch(&p), &sketch(&p)) - 1.0).abs() < 1e-9);
        assert!(sketch_jaccard(&sketch(&p), &sketch(&q)) < 0.25);
        let dir = tempfile::tempdir().unwrap();
        for mut index in both(&dir) {
            index.insert(doc(1, &p), &p).unwrap();
            let mut shifted = q.clone();
            shifted.simhash = p.simhash;
            // Same simhash, unrelated MinHash: the sketch rules it out before any read.
            assert!(index
                .candidates(&shifted, within(64), 64)
                .unwrap()
                .is_empty());
        }
    }

    /// A deterministic pseudo-random sequence (xorshift64).
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Deterministic prints in families of five: each family shares a random MinHash sketch,
    /// and each member changes a few of its slots, so chains hold several texts.
    fn families(count: usize) -> Vec<NearPrint> {
        let mut rand = xorshift(0x2545_F491_4F6C_DD1D);
        let mut out = Vec::with_capacity(count);
        let mut base: Vec<u32> = Vec::new();
        for n in 0..count {
            if n % 5 == 0 {
                base = (0..SLOTS).map(|_| rand() as u32).collect();
            }
            let mut minhash = base.clone();
            for _ in 0..n % 5 * 3 {
                let slot = rand() as usize % SLOTS;
                minhash[slot] = rand() as u32;
            }
            out.push(NearPrint {
                simhash: rand(),
                shingles: 100,
                minhash,
            });
        }
        out
    }

    #[test]
    fn the_texts_kept_in_memory_fit_the_heads_table_without_doubling_it() {
        // Unrelated texts: every band of every text is a digest of its own.
        let mut rand = xorshift(0x9E37_79B9_7F4A_7C15);
        let mut index = NearIndex::default();
        for n in 0..MEMORY_TEXTS {
            let p = NearPrint {
                simhash: rand(),
                shingles: 100,
                minhash: (0..SLOTS).map(|_| rand() as u32).collect(),
            };
            index.insert(numbered(n, &p), &p).unwrap();
        }
        let heads = index.recent.heads.len();
        assert!(
            heads > MEMORY_TEXTS * KEYS * 99 / 100,
            "{heads} distinct heads"
        );
        assert!(index.recent.heads.capacity() < RECENT_HEAD_BUCKETS);
        // One text more, and the table doubles: the store's index moves its texts to disk
        // before that.
        let p = print("one more text about the harbour, the ferries and the lighthouse keeper");
        index.insert(numbered(MEMORY_TEXTS, &p), &p).unwrap();
        assert!(index.recent.heads.capacity() >= RECENT_HEAD_BUCKETS);
    }

    #[test]
    fn the_store_index_moves_its_texts_once_memory_texts_are_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = NearIndex::spilling(dir.path(), MEMORY_TEXTS);
        for (n, p) in families(MEMORY_TEXTS).iter().enumerate() {
            assert!(!index.on_disk(), "before text {n}");
            index.insert(numbered(n, p), p).unwrap();
        }
        assert!(index.on_disk());
        assert_eq!(index.recent.docs.len(), 0);
        assert_eq!(index.len(), MEMORY_TEXTS);
    }

    fn numbered(n: usize, p: &NearPrint) -> Doc {
        let mut hash = [0u8; 32];
        hash[..8].copy_from_slice(&(n as u64).to_le_bytes());
        let mut record = [0u8; 16];
        record[..8].copy_from_slice(&(n as u64).to_le_bytes());
        Doc::new(ContentHash(hash), RecordId(record), p)
    }

    fn hashes(docs: &[Doc]) -> Vec<ContentHash> {
        docs.iter().map(|d| d.hash).collect()
    }

    #[test]
    fn an_index_that_moves_to_disk_answers_as_the_memory_one_does() {
        let prints = families(3_000);
        let dir = tempfile::tempdir().unwrap();
        let mut memory = NearIndex::default();
        let mut moving = NearIndex::spilling(dir.path(), 1_000);
        let any = NearBounds {
            max_distance: 64,
            min_jaccard: 0.0,
        };
        for (n, p) in prints.iter().enumerate() {
            memory.insert(numbered(n, p), p).unwrap();
            moving.insert(numbered(n, p), p).unwrap();
            assert_eq!(moving.on_disk(), n >= 999, "after text {n}");
            // Every 1,000th text moves the 1,000 in memory to disk.
            assert_eq!(moving.recent.docs.len(), (n + 1) % 1_000);
            if n % 97 == 0 {
                assert_eq!(
                    hashes(&memory.candidates(p, any, 16).unwrap()),
                    hashes(&moving.candidates(p, any, 16).unwrap())
                );
            }
        }
        assert_eq!(moving.len(), 3_000);
        // Every distinct digest has one head on disk, and tables grew past their first region.
        let disk = moving.disk.as_ref().expect("on disk");
        let mut on_disk = std::collections::HashSet::new();
        disk.heads
            .each_digest(|d| assert!(on_disk.insert(d)))
            .unwrap();
        assert_eq!(on_disk.len() as u64, disk.heads.len());
        let mut known = on_disk.clone();
        known.extend(moving.recent.heads.keys().copied());
        let all: std::collections::HashSet<u32> = memory.recent.heads.keys().copied().collect();
        assert_eq!(known, all);
        // Each table is at most 7/10 full; the filter has a bit for every head.
        for t in &disk.heads.tables {
            assert!(t.cap == 0 || fits(t.len, t.cap));
        }
        for d in &on_disk {
            assert!(has_bit(&disk.filter, *d));
        }
        assert!(disk.filter.len() as u64 * 64 >= disk.heads.len() * FILTER_BITS_PER_HEAD);
        for (n, p) in prints.iter().enumerate() {
            let (a, b) = (
                memory.candidates(p, any, 16).unwrap(),
                moving.candidates(p, any, 16).unwrap(),
            );
            assert_eq!(hashes(&a), hashes(&b), "text {n}");
            // A text finds itself and its whole family, with the same entry as stored.
            assert!(b.iter().any(|d| d.hash == numbered(n, p).hash));
            assert!(b.len() >= 5, "text {n} found {} texts", b.len());
            let own = b.iter().find(|d| d.hash == numbered(n, p).hash).unwrap();
            assert_eq!(own.record, numbered(n, p).record);
            assert_eq!(own.simhash, p.simhash);
            assert_eq!(own.sketch, sketch(p));
        }
        // A print no text shares a band with finds nothing on disk either.
        let stranger = families(6).pop().map(|mut p| {
            p.minhash
                .iter_mut()
                .for_each(|v| *v = v.wrapping_mul(31) ^ 0xdead_beef);
            p
        });
        let stranger = stranger.unwrap();
        assert!(moving.candidates(&stranger, any, 16).unwrap().is_empty());
    }

    #[test]
    fn an_index_that_cannot_write_its_files_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("missing");
        let prints = families(2);
        let mut index = NearIndex::spilling(&gone, 2);
        index.insert(numbered(0, &prints[0]), &prints[0]).unwrap();
        // The second text fills the memory share: it must move, and cannot.
        let err = index
            .insert(numbered(1, &prints[1]), &prints[1])
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(!index.on_disk());
    }

    #[test]
    fn heads_tables_grow_across_merges_and_keep_the_latest_slot() {
        let dir = tempfile::tempdir().unwrap();
        let mut disk = Disk::create(dir.path()).unwrap();
        let mut next = xorshift(0x9E37_79B9);
        let mut rand = move || next() as u32;
        let mut expected: HashMap<u32, u32> = HashMap::new();
        // Four merges of 50,000 heads, a fifth of each naming digests already on disk.
        let mut slot = 0u32;
        for round in 0..4 {
            let mut newer: HashMap<u32, u32, BuildHasherDefault<Digested>> = HashMap::default();
            let old: Vec<u32> = expected.keys().copied().take(10_000).collect();
            for i in 0..50_000 {
                let d = if round > 0 && i < old.len() {
                    old[i]
                } else {
                    // A digest new to both, so that the count below is exact.
                    std::iter::repeat_with(&mut rand)
                        .find(|d| !expected.contains_key(d) && !newer.contains_key(d))
                        .unwrap()
                };
                newer.insert(d, slot);
                slot += 1;
            }
            disk.heads.merge(&newer).unwrap();
            expected.extend(newer);
        }
        assert_eq!(disk.heads.len(), expected.len() as u64);
        for (d, slot) in &expected {
            assert_eq!(disk.heads.get(*d).unwrap(), *slot);
        }
        // About 166 heads per table: every table grew from 64 entries to at least 256, each
        // within 7/10, and a digest never stored is not found.
        assert_eq!(expected.len(), 170_000);
        assert!(disk
            .heads
            .tables
            .iter()
            .all(|t| t.cap >= 256 && fits(t.len, t.cap)));
        let absent = (0..1000)
            .map(|_| rand())
            .find(|d| !expected.contains_key(d));
        assert_eq!(disk.heads.get(absent.unwrap()).unwrap(), NONE);
    }
}
