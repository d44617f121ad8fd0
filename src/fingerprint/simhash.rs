//! Near-duplicate fingerprints of a normalised body: a 64-bit simhash and a MinHash sketch
//! over the same shingles, plus the band keys under which the store indexes them.
//!
//! Shingles are overlapping n-grams of *tokens*: every CJK ideograph (or kana/hangul syllable)
//! is a token, and every run of other letters or digits is one lower-cased word token, so
//! Chinese text is shingled by characters and Latin text by words; punctuation and spaces are
//! not tokens, because mirrors rewrite them freely. A body whose tokens are mostly CJK uses
//! [`CJK_SHINGLE`]-grams, others [`WORD_SHINGLE`]-grams.
//!
//! Two estimates come out of the shingle set:
//! - the **simhash** (Charikar): bit *i* is the majority vote of bit *i* over every shingle's
//!   hash; the Hamming distance of two simhashes grows with the angle between the sets;
//! - the **MinHash** sketch, one-permutation hashing into [`SLOTS`] bins with rotation
//!   densification: the share of equal bins estimates the shingle Jaccard similarity
//!   (standard error √(J(1−J)/128) ≈ 0.044 at J = 0.5).
//!
//! Everything here is pure and platform-independent (integer arithmetic, a fixed hash), so
//! the fingerprints can be stored and compared across runs and machines.

use super::normalise::{is_cjk, is_cjk_alphanumeric};

/// Shingle length, in characters, for CJK text. Five characters keep the generator's and the
/// wires' stock phrases (`从中长期看，行业基本面依然稳健`) from making unrelated reports look
/// alike while surviving the small edits mirrors make; measured in `tests/neardup_eval.rs`.
pub const CJK_SHINGLE: usize = 5;
/// Shingle length, in words, for other text.
pub const WORD_SHINGLE: usize = 3;
/// MinHash bins.
pub const SLOTS: usize = 128;
/// Rows per MinHash band: a band matches only when all its rows match, so a pair with
/// Jaccard J shares a given band with probability J^ROWS.
pub const BAND_ROWS: usize = 4;
/// MinHash bands indexed (all [`SLOTS`] bins: 32 × 4). A pair with Jaccard 0.6 shares at least
/// one band with probability 1 − (1 − 0.6⁴)³² ≈ 0.99; unrelated text (J ≈ 0.02) almost never.
pub const BANDS: usize = SLOTS / BAND_ROWS;
/// Simhash bands: 4 × 16 bits; any pair within Hamming distance 3 shares one exactly.
pub const SIMHASH_BANDS: usize = 4;

/// The near-duplicate fingerprint of one body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearPrint {
    /// 64-bit simhash over the shingle set.
    pub simhash: u64,
    /// Distinct shingles in the body.
    pub shingles: u32,
    /// One-permutation MinHash sketch, [`SLOTS`] values.
    pub minhash: Vec<u32>,
}

/// A stored fingerprint whose bytes do not decode.
#[derive(Debug, thiserror::Error)]
#[error("near-duplicate fingerprint has {0} bytes, expected {expected}", expected = NearPrint::ENCODED_LEN)]
pub struct DecodeError(pub usize);

/// One band key of a [`NearPrint`] (see [`NearPrint::band_keys`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BandKey([u8; 6]);

impl BandKey {
    /// The key's bytes: 4 for a simhash band, 6 for a MinHash band (the form the cluster's
    /// Redis keys have always used).
    pub fn bytes(&self) -> &[u8] {
        match self.0[0] {
            0 => &self.0[..4],
            _ => &self.0,
        }
    }
}

impl NearPrint {
    /// Bytes of [`NearPrint::to_bytes`]'s output.
    pub const ENCODED_LEN: usize = 8 + 4 + 4 * SLOTS;

    /// Fingerprints normalised paragraphs; `None` when the body yields no shingle at all.
    pub fn of<S: AsRef<str>>(paragraphs: &[S]) -> Option<NearPrint> {
        let set = shingles(paragraphs);
        if set.is_empty() {
            return None;
        }
        Some(NearPrint {
            simhash: simhash(&set),
            shingles: u32::try_from(set.len()).unwrap_or(u32::MAX),
            minhash: minhash(&set),
        })
    }

    /// Hamming distance between the simhashes.
    pub fn distance(&self, other: &NearPrint) -> u32 {
        (self.simhash ^ other.simhash).count_ones()
    }

    /// Estimated Jaccard similarity of the shingle sets: the share of equal MinHash bins.
    pub fn jaccard(&self, other: &NearPrint) -> f64 {
        let equal = self
            .minhash
            .iter()
            .zip(&other.minhash)
            .filter(|(a, b)| a == b)
            .count();
        equal as f64 / SLOTS.max(1) as f64
    }

    /// Index keys: four simhash bands (`[0, i, 16 bits, 0, 0]`, the padding not part of the
    /// key: see [`BandKey::bytes`]) and [`BANDS`] MinHash bands (`[1, i, 32-bit hash of the
    /// band's rows]`). Two prints that share a key are candidates. Fixed-size, so computing
    /// them allocates nothing (this runs for every new text).
    pub fn band_keys(&self) -> [BandKey; SIMHASH_BANDS + BANDS] {
        let mut keys = [BandKey([0; 6]); SIMHASH_BANDS + BANDS];
        for (i, key) in keys.iter_mut().take(SIMHASH_BANDS).enumerate() {
            let band = (self.simhash >> (16 * i)) as u16;
            let [a, b] = band.to_be_bytes();
            *key = BandKey([0, i as u8, a, b, 0, 0]);
        }
        for (i, rows) in self.minhash.chunks(BAND_ROWS).enumerate() {
            let mut h = 0x5eed_u64 ^ i as u64;
            for r in rows {
                h = mix64(h ^ u64::from(*r));
            }
            let [a, b, c, d] = (h as u32).to_be_bytes();
            keys[SIMHASH_BANDS + i] = BandKey([1, i as u8, a, b, c, d]);
        }
        keys
    }

    /// Compact binary form: simhash, shingle count, sketch (all big-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::ENCODED_LEN);
        out.extend_from_slice(&self.simhash.to_be_bytes());
        out.extend_from_slice(&self.shingles.to_be_bytes());
        for v in &self.minhash {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out
    }

    /// Reads [`NearPrint::to_bytes`]'s output.
    pub fn from_bytes(b: &[u8]) -> Result<NearPrint, DecodeError> {
        if b.len() != Self::ENCODED_LEN {
            return Err(DecodeError(b.len()));
        }
        let word = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
        let simhash = u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        let shingles = u32::from_be_bytes(word(8));
        let minhash = (0..SLOTS)
            .map(|s| u32::from_be_bytes(word(12 + 4 * s)))
            .collect();
        Ok(NearPrint {
            simhash,
            shingles,
            minhash,
        })
    }
}

/// One token of the shingle stream.
#[derive(Clone, Copy)]
enum Token<'a> {
    Cjk(char),
    Word(&'a str),
}

/// The distinct shingle hashes of a body, sorted.
pub fn shingles<S: AsRef<str>>(paragraphs: &[S]) -> Vec<u64> {
    let mut tokens: Vec<Token<'_>> = Vec::new();
    for p in paragraphs {
        let p = p.as_ref();
        let mut word_start: Option<usize> = None;
        for (i, c) in p.char_indices() {
            let ideograph = is_cjk_alphanumeric(c);
            // A CJK character is never part of a word (and the test is cheap): asking first
            // spares CJK punctuation a second property lookup.
            let wordish = !ideograph && !is_cjk(c) && c.is_alphanumeric();
            if !wordish {
                if let Some(s) = word_start.take() {
                    tokens.push(Token::Word(&p[s..i]));
                }
            } else if word_start.is_none() {
                word_start = Some(i);
            }
            if ideograph {
                tokens.push(Token::Cjk(c));
            }
        }
        if let Some(s) = word_start {
            tokens.push(Token::Word(&p[s..]));
        }
    }
    let cjk = tokens.iter().filter(|t| matches!(t, Token::Cjk(_))).count();
    let n = if 2 * cjk >= tokens.len() {
        CJK_SHINGLE
    } else {
        WORD_SHINGLE
    };
    let mut out: Vec<u64> = if tokens.len() <= n {
        // A body shorter than one shingle is one shingle.
        vec![hash_tokens(&tokens)]
    } else {
        tokens.windows(n).map(hash_tokens).collect()
    };
    if tokens.is_empty() {
        out.clear();
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// FNV-1a over the tokens (words lower-cased, a separator between tokens), then a 64-bit
/// finaliser so every bit is usable by the simhash and the MinHash bins.
fn hash_tokens(tokens: &[Token<'_>]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut byte = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    };
    let mut buf = [0u8; 4];
    for t in tokens {
        match t {
            Token::Cjk(c) => c.encode_utf8(&mut buf).bytes().for_each(&mut byte),
            // ASCII lower-cases byte by byte to the same bytes, without the per-char
            // Unicode case mapping (most words of most texts).
            Token::Word(w) if w.is_ascii() => w
                .bytes()
                .map(|b| b.to_ascii_lowercase())
                .for_each(&mut byte),
            Token::Word(w) => {
                for c in w.chars().flat_map(char::to_lowercase) {
                    c.encode_utf8(&mut buf).bytes().for_each(&mut byte);
                }
            }
        }
        byte(0xff);
    }
    mix64(h)
}

/// Charikar's simhash over a set of well-mixed 64-bit hashes.
pub fn simhash(set: &[u64]) -> u64 {
    // Bit i is set when more hashes have it set than not. Counting the ones (branch-free,
    // which the compiler vectorises) and comparing with half the count is the same vote as
    // adding one for a set bit and subtracting one for a clear bit, at a fraction of the cost.
    let mut ones = [0u32; 64];
    for &h in set {
        // A second mix decorrelates the simhash bits from the MinHash bins, which use `h`.
        let h = mix64(h ^ 0x9e37_79b9_7f4a_7c15);
        for (i, n) in ones.iter_mut().enumerate() {
            *n += (h >> i & 1) as u32;
        }
    }
    let total = set.len() as u64;
    ones.iter()
        .enumerate()
        .filter(|(_, &n)| 2 * u64::from(n) > total)
        .fold(0u64, |acc, (i, _)| acc | 1 << i)
}

/// One-permutation MinHash: the top bits of a hash pick its bin, the low 32 bits are its
/// value, each bin keeps its minimum. Empty bins borrow the next non-empty bin's value (to the
/// right, wrapping) salted by the distance, so short bodies still give comparable sketches.
pub fn minhash(set: &[u64]) -> Vec<u32> {
    const EMPTY: u64 = u64::MAX;
    let mut bins = [EMPTY; SLOTS];
    let shift = 64 - SLOTS.trailing_zeros();
    for &h in set {
        let bin = (h >> shift) as usize;
        let v = h & 0xffff_ffff;
        if v < bins[bin] {
            bins[bin] = v;
        }
    }
    (0..SLOTS)
        .map(|i| {
            (0..SLOTS)
                .map(|d| (d, bins[(i + d) % SLOTS]))
                .find(|(_, v)| *v != EMPTY)
                .map_or(0, |(d, v)| {
                    if d == 0 {
                        v as u32
                    } else {
                        mix64(v ^ (d as u64) << 40) as u32
                    }
                })
        })
        .collect()
}

/// The SplitMix64 finaliser (bijective, good avalanche).
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_words_hash_as_their_unicode_lower_case() {
        let unicode_path = |w: &str| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            let mut buf = [0u8; 4];
            for c in w.chars().flat_map(char::to_lowercase) {
                for b in c.encode_utf8(&mut buf).bytes() {
                    h ^= u64::from(b);
                    h = h.wrapping_mul(0x0000_0100_0000_01b3);
                }
            }
            h ^= 0xff;
            mix64(h.wrapping_mul(0x0000_0100_0000_01b3))
        };
        for w in ["Quarterly", "GDP", "q3-2024", "x", "ÉCOLE"] {
            assert_eq!(hash_tokens(&[Token::Word(w)]), unicode_path(w), "{w}");
        }
    }

    #[test]
    fn simhash_is_the_majority_vote_of_the_mixed_hashes() {
        let voted = |set: &[u64]| {
            let mut votes = [0i64; 64];
            for &h in set {
                let h = mix64(h ^ 0x9e37_79b9_7f4a_7c15);
                for (i, v) in votes.iter_mut().enumerate() {
                    *v += if h >> i & 1 == 1 { 1 } else { -1 };
                }
            }
            (0..64)
                .filter(|&i| votes[i] > 0)
                .fold(0u64, |a, i| a | 1 << i)
        };
        let mut x = 0x1234_5678_9abc_def0_u64;
        for n in [0usize, 1, 2, 3, 64, 1000] {
            let set: Vec<u64> = (0..n)
                .map(|_| {
                    x = mix64(x);
                    x
                })
                .collect();
            assert_eq!(simhash(&set), voted(&set), "{n} hashes");
        }
    }
    use proptest::prelude::*;

    fn print(paras: &[&str]) -> NearPrint {
        NearPrint::of(paras).unwrap()
    }

    const ZH: [&str; 4] = [
        "华信科技今日发布公告称，公司2021年前三季度实现营业收入12.5亿元，同比增长23.4%。",
        "公司表示，营收增长主要受益于新能源汽车业务的快速放量，以及海外订单的持续增加。",
        "东达证券研究所首席经济学家王明认为，从中长期看，行业基本面依然稳健，维持买入评级。",
        "风险提示：原材料价格波动、海外需求放缓、行业竞争加剧等因素可能影响公司业绩表现。",
    ];

    #[test]
    fn cjk_is_shingled_by_characters_and_latin_by_words() {
        // 10 ideographs → 6 five-character shingles; punctuation is not a token.
        assert_eq!(shingles(&["一二三四五，六七八九十"]).len(), 6);
        // 5 words → 3 three-word shingles; case and punctuation do not matter.
        assert_eq!(
            shingles(&["The quick brown fox jumps"]),
            shingles(&["the QUICK, brown fox... jumps!"])
        );
        assert_eq!(shingles(&["The quick brown fox jumps"]).len(), 3);
        assert_eq!(shingles(&["短"]).len(), 1);
        assert!(NearPrint::of(&["，。！"]).is_none());
    }

    #[test]
    fn identical_text_is_distance_zero_and_jaccard_one() {
        let a = print(&ZH);
        assert_eq!(a.distance(&a), 0);
        assert_eq!(a.jaccard(&a), 1.0);
    }

    #[test]
    fn a_trimmed_copy_is_close_and_another_article_is_far() {
        let a = print(&ZH);
        let trimmed = print(&ZH[..3]);
        let other = print(&[
            "北向资金今日净流入30亿元，其中沪股通净流入12亿元，深股通净流入18亿元，连续三日净买入。",
            "分析人士指出，外资持续流入反映出对中国资产长期价值的认可，消费与科技板块最受青睐。",
        ]);
        assert!(a.jaccard(&trimmed) > 0.6, "{}", a.jaccard(&trimmed));
        assert!(a.distance(&trimmed) < 16, "{}", a.distance(&trimmed));
        assert!(a.jaccard(&other) < 0.1, "{}", a.jaccard(&other));
        assert!(a.distance(&other) > 16, "{}", a.distance(&other));
    }

    #[test]
    fn similar_prints_share_a_band_key() {
        let a = print(&ZH).band_keys();
        let b = print(&[ZH[0], ZH[1], ZH[2], ZH[3], "（编者注：本文数据已更正。）"]).band_keys();
        assert_eq!(a.len(), SIMHASH_BANDS + BANDS);
        assert!(a.iter().any(|k| b.contains(k)));
    }

    #[test]
    fn band_keys_keep_the_bytes_the_cluster_stores() {
        // The definition band keys had as vectors; Redis holds keys made from those bytes.
        let p = print(&ZH);
        let mut old: Vec<Vec<u8>> = Vec::new();
        for i in 0..SIMHASH_BANDS {
            let band = (p.simhash >> (16 * i)) as u16;
            let mut k = vec![0u8, i as u8];
            k.extend_from_slice(&band.to_be_bytes());
            old.push(k);
        }
        for (i, rows) in p.minhash.chunks(BAND_ROWS).enumerate() {
            let mut h = 0x5eed_u64 ^ i as u64;
            for r in rows {
                h = mix64(h ^ u64::from(*r));
            }
            let mut k = vec![1u8, i as u8];
            k.extend_from_slice(&(h as u32).to_be_bytes());
            old.push(k);
        }
        let new: Vec<Vec<u8>> = p.band_keys().iter().map(|k| k.bytes().to_vec()).collect();
        assert_eq!(new, old);
    }

    proptest! {
        #[test]
        fn bytes_round_trip(paras in proptest::collection::vec("[一-龥a-z0-9 ]{1,40}", 1..5)) {
            if let Some(p) = NearPrint::of(&paras) {
                prop_assert_eq!(NearPrint::from_bytes(&p.to_bytes()).unwrap(), p);
            }
        }

        #[test]
        fn fingerprints_are_deterministic(paras in proptest::collection::vec("[一-龥a-z0-9 ]{1,40}", 1..5)) {
            prop_assert_eq!(NearPrint::of(&paras), NearPrint::of(&paras));
        }
    }

    #[test]
    fn fingerprints_are_stable_across_builds() {
        // Stored fingerprints must keep their meaning: a change here needs a schema bump.
        let p = print(&["stable fingerprints are stored in the archive"]);
        assert_eq!(p.shingles, 5);
        assert_eq!(NearPrint::from_bytes(&p.to_bytes()).unwrap(), p);
    }

    #[test]
    fn bad_bytes_are_an_error() {
        assert!(NearPrint::from_bytes(&[0; 3]).is_err());
    }
}
