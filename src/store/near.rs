//! The near-duplicate candidate index, in memory.
//!
//! Every stored text's [`NearPrint`] yields band keys; two texts that share one of its 32
//! MinHash band keys are candidates. The keys used to live in a sled tree (36
//! entries per text), which made the index most of the store's keys and writes, and made a
//! lookup 36 range scans whose cost grew with the store as the tree outgrew the cache. Here
//! they are a hash table of chains in memory: a lookup is 32 table probes plus short chain
//! walks, whatever the store size, and nothing is written for it. The fingerprints stay in
//! sled (`prints`), so the index is derived data: it is rebuilt from `prints` and `hashes`
//! the first time a process ingests a new text.
//!
//! Memory: about 0.6 KiB per distinct text (a 4-byte chain link and a hash-table entry per
//! band, plus the text's hash, record, simhash and a 128-byte MinHash sketch), e.g. ~60 MiB
//! for 100,000 texts.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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

/// Band key digest → the latest slot (`doc * KEYS + band`) with that digest, and for every
/// slot the previous slot with the same digest.
#[derive(Debug, Default)]
pub(crate) struct NearIndex {
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
/// enough (the index lives in memory only, so the digest is free to change).
fn digest(key: BandKey) -> u32 {
    let bytes = key.bytes();
    let mut word = [0u8; 8];
    word[..bytes.len()].copy_from_slice(bytes);
    mix64(u64::from_le_bytes(word).wrapping_add(0x9E37_79B9_7F4A_7C15)) as u32
}

impl NearIndex {
    /// Texts indexed.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Adds a text. A text must be added once (the store adds it when its hash is new).
    pub fn insert(&mut self, doc: Doc, print: &NearPrint) {
        let Ok(number) = u32::try_from(self.docs.len()) else {
            // Beyond 4 billion / 32 texts the slots no longer fit: stop indexing rather than
            // corrupt the chains (such a text can still join by exact hash and by revision).
            return;
        };
        let Some(base) = number.checked_mul(KEYS as u32) else {
            return;
        };
        self.docs.push(doc);
        for (i, key) in index_keys(print).enumerate().take(KEYS) {
            let slot = base + i as u32;
            let previous = self.heads.insert(digest(key), slot).unwrap_or(NONE);
            self.next.push(previous);
        }
    }

    /// Texts sharing a band key with `print` (the newest `per_band` of each band), in index
    /// order, at most `per_band` per band (a band shared by a great many texts is generic text, and reading
    /// all of it would make lookups grow with the store), each text once, and only those whose
    /// simhash is within `bounds.max_distance` and whose sketch does not rule out
    /// `bounds.min_jaccard`.
    pub fn candidates(&self, print: &NearPrint, bounds: NearBounds, per_band: usize) -> Vec<Doc> {
        let mine = sketch(print);
        let floor = bounds.min_jaccard - SKETCH_SLACK;
        // Every text reached through any band, each once: at most KEYS × per_band numbers,
        // so the walk's cost is bounded whatever the store holds.
        let mut reached: Vec<u32> = Vec::new();
        for key in index_keys(print) {
            let mut slot = self.heads.get(&digest(key)).copied().unwrap_or(NONE);
            let mut walked = 0;
            while slot != NONE && walked < per_band {
                walked += 1;
                reached.push(slot / KEYS as u32);
                slot = self.next.get(slot as usize).copied().unwrap_or(NONE);
            }
        }
        reached.sort_unstable();
        reached.dedup();
        let mut out: Vec<Doc> = Vec::new();
        for number in reached {
            let Some(doc) = self.docs.get(number as usize) else {
                continue;
            };
            if (doc.simhash ^ print.simhash).count_ones() <= bounds.max_distance
                && (floor <= 0.0 || sketch_jaccard(&mine, &doc.sketch) >= floor)
            {
                out.push(*doc);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::simhash::NearPrint;

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

    #[test]
    fn a_text_finds_itself_and_a_close_copy_but_not_an_unrelated_one() {
        let base = "The quarterly report shows revenue growth across every region, with the \
                    strongest gains in the north and a modest decline in exports over the period.";
        let copy = format!("{base} Editor's note: figures are preliminary.");
        let other = "A storm closed the harbour for three days and the ferries stayed in port \
                     while the coastguard checked the breakwater and the lighthouse.";
        let mut index = NearIndex::default();
        let (a, c) = (print(base), print(other));
        index.insert(doc(1, &a), &a);
        index.insert(doc(2, &c), &c);
        let found = index.candidates(&print(&copy), within(64), 64);
        assert!(found.iter().any(|d| d.hash == ContentHash([1; 32])));
        assert!(!found.iter().any(|d| d.hash == ContentHash([2; 32])));
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn distance_bound_and_per_band_cap_hold() {
        let text = "one two three four five six seven eight nine ten eleven twelve thirteen";
        let p = print(text);
        let mut index = NearIndex::default();
        for n in 0..10 {
            index.insert(doc(n, &p), &p);
        }
        // Each text is reported once although it shares all its keys.
        assert_eq!(index.candidates(&p, within(0), 64).len(), 10);
        // Chains are walked newest first, at most `per_band` deep.
        let capped = index.candidates(&p, within(0), 3);
        assert_eq!(capped.len(), 3);
        let numbers: Vec<u8> = capped.iter().map(|d| d.hash.0[0]).collect();
        assert_eq!(numbers, vec![7, 8, 9]);
        let mut far = p.clone();
        far.simhash = !p.simhash;
        assert!(index.candidates(&far, within(10), 64).is_empty());
    }

    #[test]
    fn the_sketch_estimates_jaccard() {
        let p = print("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu");
        let q = print("the harbour stayed closed for three days while storms passed over");
        assert!((sketch_jaccard(&sketch(&p), &sketch(&p)) - 1.0).abs() < 1e-9);
        assert!(sketch_jaccard(&sketch(&p), &sketch(&q)) < 0.25);
        let mut index = NearIndex::default();
        index.insert(doc(1, &p), &p);
        let mut shifted = q.clone();
        shifted.simhash = p.simhash;
        // Same simhash, unrelated MinHash: the sketch rules it out before any read.
        assert!(index.candidates(&shifted, within(64), 64).is_empty());
    }
}
