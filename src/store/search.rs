//! The search index's trees: an inverted index from terms to dense document numbers, kept
//! in segments so that building it costs one write per (term, batch), not per (term, record).
//!
//! Trees:
//! - `search_pending` (record id → ingest seq): records whose canonical text is new or changed
//!   and not yet indexed. [`Store::ingest`] writes the marker in its transaction.
//! - `search_ids` (record id → doc number, u32 BE) and `search_docs` (doc number → record id):
//!   dense numbers keep posting lists small (delta varints).
//! - `search_postings` (term ‖ 0x00 ‖ segment u64 BE → delta-varint doc numbers, ascending).
//!
//! The index is a superset: when a record's canonical text changes it is indexed again and
//! its old terms stay behind. Queries verify every candidate against the record's text, so a
//! stale posting costs a lookup, never a wrong answer. What a term *is* (the tokeniser) lives
//! in `query::search`; this module only stores and reads bytes.

use std::collections::BTreeMap;

use crate::model::{Record, RecordId};

use super::{Store, StoreError};

const NEXT_DOC_KEY: &[u8] = b"search_next_doc";
const NEXT_SEGMENT_KEY: &[u8] = b"search_next_segment";
/// Posting lists written per sled batch.
const POSTINGS_PER_BATCH: usize = 256;

/// The search trees, opened with the store.
#[derive(Clone)]
pub(crate) struct SearchTrees {
    pub(crate) pending: sled::Tree,
    pub(super) ids: sled::Tree,
    pub(super) docs: sled::Tree,
    pub(super) postings: sled::Tree,
}

impl SearchTrees {
    pub(crate) fn open(db: &sled::Db) -> Result<SearchTrees, sled::Error> {
        Ok(SearchTrees {
            pending: db.open_tree("search_pending")?,
            ids: db.open_tree("search_ids")?,
            docs: db.open_tree("search_docs")?,
            postings: db.open_tree("search_postings")?,
        })
    }
}

/// A record waiting to be indexed, with the marker's version so that a marker re-set while
/// the record was being indexed is not cleared.
#[derive(Clone, Debug)]
pub struct PendingDoc {
    /// The record.
    pub id: RecordId,
    marker: sled::IVec,
}

impl Store {
    /// Marks a record for (re)indexing by the search index. [`Store::ingest`] does this itself;
    /// call it after writing a record's canonical text any other way.
    pub fn index_record(&self, record: &Record) -> Result<(), StoreError> {
        let seq = self.db.generate_id()?;
        self.search
            .pending
            .insert(record.id.0, &seq.to_be_bytes())?;
        Ok(())
    }

    /// Marks every record for reindexing (repairs an index after a crash or a tokeniser
    /// change). Returns how many records were marked.
    pub fn mark_all_for_search(&self) -> Result<u64, StoreError> {
        let mut n = 0;
        for kv in self.records.iter() {
            let (k, _) = kv?;
            let seq = self.db.generate_id()?;
            self.search.pending.insert(k, &seq.to_be_bytes())?;
            n += 1;
        }
        Ok(n)
    }

    /// Up to `limit` records waiting to be indexed, in id order.
    pub fn search_pending(&self, limit: usize) -> Result<Vec<PendingDoc>, StoreError> {
        let mut out = Vec::new();
        for kv in self.search.pending.iter().take(limit) {
            let (k, v) = kv?;
            if let Ok(arr) = <[u8; 16]>::try_from(&k[..]) {
                out.push(PendingDoc {
                    id: RecordId(arr),
                    marker: v,
                });
            }
        }
        Ok(out)
    }

    /// The dense document number of a record, allocated on first use.
    pub fn search_doc_number(&self, id: RecordId) -> Result<u32, StoreError> {
        if let Some(v) = self.search.ids.get(id.0)? {
            if let Ok(arr) = <[u8; 4]>::try_from(&v[..]) {
                return Ok(u32::from_be_bytes(arr));
            }
        }
        let next = self.meta.update_and_fetch(NEXT_DOC_KEY, |old| {
            let n = old
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(0, u32::from_be_bytes);
            Some(n.wrapping_add(1).to_be_bytes().to_vec())
        })?;
        let doc = next
            .and_then(|b| <[u8; 4]>::try_from(&b[..]).ok())
            .map_or(0, |b| u32::from_be_bytes(b).wrapping_sub(1));
        // docs first: an id without its doc entry would hide the record from every query.
        self.search.docs.insert(doc.to_be_bytes(), &id.0)?;
        self.search.ids.insert(id.0, &doc.to_be_bytes())?;
        Ok(doc)
    }

    /// The record behind a document number.
    pub fn search_doc(&self, doc: u32) -> Result<Option<RecordId>, StoreError> {
        Ok(self
            .search
            .docs
            .get(doc.to_be_bytes())?
            .and_then(|v| <[u8; 16]>::try_from(&v[..]).ok())
            .map(RecordId))
    }

    /// Writes one segment of postings (term → ascending doc numbers) and then clears the
    /// pending markers of the records it covers, unless they were re-set meanwhile.
    /// Postings land before markers are cleared, so a crash in between re-indexes those
    /// records (harmless duplicates) rather than losing them.
    pub fn write_search_segment(
        &self,
        postings: &BTreeMap<String, DocList>,
        done: &[PendingDoc],
    ) -> Result<(), StoreError> {
        let segment = self.meta.update_and_fetch(NEXT_SEGMENT_KEY, |old| {
            let n = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            Some((n + 1).to_be_bytes().to_vec())
        })?;
        let segment = segment
            .and_then(|b| <[u8; 8]>::try_from(&b[..]).ok())
            .map_or(0, u64::from_be_bytes);
        // In small batches: sled holds a whole batch's node rewrites in memory at once, and
        // one batch per segment (tens of thousands of terms) cost tens of MiB. A segment
        // needs no atomicity: a crash before the markers are cleared only indexes those
        // records again.
        let terms: Vec<_> = postings.iter().collect();
        for chunk in terms.chunks(POSTINGS_PER_BATCH) {
            let mut batch = sled::Batch::default();
            for (term, docs) in chunk {
                batch.insert(posting_key(term, segment), &docs.bytes[..]);
            }
            self.search.postings.apply_batch(batch)?;
        }
        for d in done {
            // Err(CompareAndSwapError) means the marker changed: leave it for the next pass.
            let _ = self
                .search
                .pending
                .compare_and_swap(d.id.0, Some(&d.marker), None::<&[u8]>)?;
        }
        Ok(())
    }

    /// Every document number posted under `term`, ascending, without duplicates.
    pub fn search_postings(&self, term: &str) -> Result<Vec<u32>, StoreError> {
        let mut prefix = term.as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        let mut segments = 0;
        for kv in self.search.postings.scan_prefix(&prefix) {
            let (_, v) = kv?;
            decode_docs(&v, &mut out);
            segments += 1;
        }
        // Each segment is sorted; several segments need a merge.
        if segments > 1 {
            out.sort_unstable();
            out.dedup();
        }
        Ok(out)
    }
}

fn posting_key(term: &str, segment: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(term.len() + 9);
    key.extend_from_slice(term.as_bytes());
    key.push(0);
    key.extend_from_slice(&segment.to_be_bytes());
    key
}

/// One term's posting list while a segment is built: ascending doc numbers, already in the
/// stored encoding (LEB128 varints of the gaps), so a segment of 4,096 long articles holds
/// about a byte per posting instead of four (an update's memory is mostly these lists).
#[derive(Clone, Debug, Default)]
pub struct DocList {
    bytes: Vec<u8>,
    last: Option<u32>,
}

impl DocList {
    /// Appends `doc`. Docs must come in ascending order; a repeat of the last one is ignored,
    /// and a smaller one is refused (returns false) rather than corrupting the gaps.
    pub fn push(&mut self, doc: u32) -> bool {
        let mut gap = match self.last {
            Some(last) if doc == last => return true,
            Some(last) if doc < last => return false,
            Some(last) => doc - last,
            None => doc,
        };
        self.last = Some(doc);
        loop {
            let byte = (gap & 0x7f) as u8;
            gap >>= 7;
            if gap == 0 {
                self.bytes.push(byte);
                return true;
            }
            self.bytes.push(byte | 0x80);
        }
    }
}

#[cfg(test)]
fn encode_docs(docs: &[u32]) -> Vec<u8> {
    let mut list = DocList::default();
    for &d in docs {
        assert!(list.push(d));
    }
    list.bytes
}

fn decode_docs(bytes: &[u8], out: &mut Vec<u32>) {
    let mut prev = 0u32;
    let mut first = true;
    let mut gap = 0u32;
    let mut shift = 0;
    for &b in bytes {
        gap |= u32::from(b & 0x7f) << shift;
        if b & 0x80 != 0 {
            shift += 7;
            continue;
        }
        let d = if first { gap } else { prev.wrapping_add(gap) };
        first = false;
        out.push(d);
        prev = d;
        gap = 0;
        shift = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_lists_round_trip() {
        let docs = vec![0, 1, 2, 130, 20_000, 4_000_000_000];
        let mut back = Vec::new();
        decode_docs(&encode_docs(&docs), &mut back);
        assert_eq!(back, docs);
    }

    #[test]
    fn doc_lists_refuse_descending_and_skip_repeats() {
        let mut l = DocList::default();
        assert!(l.push(5) && l.push(5) && l.push(9));
        assert!(!l.push(7));
        let mut back = Vec::new();
        decode_docs(&l.bytes, &mut back);
        assert_eq!(back, vec![5, 9]);
    }

    #[test]
    fn segments_merge_and_markers_clear() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = store.search_doc_number(RecordId([1; 16])).unwrap();
        let b = store.search_doc_number(RecordId([2; 16])).unwrap();
        assert_eq!((a, b), (0, 1));
        assert_eq!(store.search_doc_number(RecordId([1; 16])).unwrap(), 0);
        let list = |docs: &[u32]| {
            let mut l = DocList::default();
            docs.iter().for_each(|&d| assert!(l.push(d)));
            l
        };
        let mut p = BTreeMap::new();
        p.insert("中国".to_string(), list(&[a]));
        store.write_search_segment(&p, &[]).unwrap();
        p.insert("中国".to_string(), list(&[a, b]));
        store.write_search_segment(&p, &[]).unwrap();
        assert_eq!(store.search_postings("中国").unwrap(), vec![0, 1]);
        assert!(store.search_postings("中").unwrap().is_empty());
        assert_eq!(store.search_doc(1).unwrap(), Some(RecordId([2; 16])));
    }
}
