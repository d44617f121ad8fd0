//! Running totals of the store's large trees, kept in `meta` so that counting never scans.
//!
//! sled's `Tree::len` reads every page of a tree. `trawl crawl` printed the store's totals
//! when it finished, and that scan pulled the whole records and sightings trees through the
//! page cache: it was the crawl's peak memory (35 of 64 MiB in a heap profile of a 27,500-page
//! crawl) and grew with the store. Every write that adds a record, a sighting or a URL state
//! now adds to the tally in the same transaction; `trawl verify` compares it with the trees
//! and `--repair` recounts it.

/// The `meta` key of the tally.
pub(super) const TALLY_KEY: &[u8] = b"tally";

/// Counts of records, sightings and URL states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Tally {
    /// Records.
    pub records: u64,
    /// Sightings.
    pub sightings: u64,
    /// URL states.
    pub urls: u64,
}

impl Tally {
    /// Bytes of [`Tally::to_bytes`].
    const BYTES: usize = 24;

    /// Three big-endian u64s.
    pub fn to_bytes(self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        out[..8].copy_from_slice(&self.records.to_be_bytes());
        out[8..16].copy_from_slice(&self.sightings.to_be_bytes());
        out[16..].copy_from_slice(&self.urls.to_be_bytes());
        out
    }

    /// Decodes [`Tally::to_bytes`]; `None` for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Option<Tally> {
        let b: &[u8; Self::BYTES] = bytes.try_into().ok()?;
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_be_bytes(w)
        };
        Some(Tally {
            records: word(0),
            sightings: word(8),
            urls: word(16),
        })
    }

    /// Both tallies added.
    pub fn plus(self, other: Tally) -> Tally {
        Tally {
            records: self.records + other.records,
            sightings: self.sightings + other.sightings,
            urls: self.urls + other.urls,
        }
    }

    /// Whether nothing is counted.
    pub fn is_zero(self) -> bool {
        self == Tally::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_bytes() {
        let t = Tally {
            records: 1,
            sightings: u64::MAX,
            urls: 300,
        };
        assert_eq!(Tally::from_bytes(&t.to_bytes()), Some(t));
        assert_eq!(Tally::from_bytes(b"4"), None);
        assert_eq!(Tally::from_bytes(&[0; 25]), None);
        assert_eq!(t.plus(Tally::default()), t);
        assert!(Tally::default().is_zero() && !t.is_zero());
    }
}
