//! A tiny deterministic PRNG (SplitMix64) for the demo network.
//!
//! The demo must produce byte-identical output for a given seed on every platform and with
//! every compiler, so it uses only wrapping integer arithmetic: no floats, no `usize`-width
//! dependent steps and no third-party generator whose stream could change between versions.

/// The SplitMix64 finaliser: a bijective mix of 64 bits with good avalanche.
///
/// Used both as the generator's output function and as a stateless hash of
/// `(seed, index, salt)` tuples, e.g. to decide which mirror carries which article.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 generator state. Invariant: the sequence depends only on the initial state.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Starts a generator whose whole stream is determined by `seed`.
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 pseudo-random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// A value in `0..n` (`0` when `n == 0`).
    ///
    /// Multiply-high instead of `%` so small ranges carry no modulo bias worth speaking of.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A value in `lo..=hi`; requires `lo <= hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A uniformly chosen element; the word lists this is used on are non-empty constants.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_fixed_for_a_seed() {
        // Reference values of SplitMix64 for seed 0 (Vigna's reference implementation).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = SplitMix64::new(42);
        for n in 1..200 {
            assert!(rng.below(n) < n);
        }
        assert_eq!(rng.below(0), 0);
        for _ in 0..1000 {
            let v = rng.range(3, 12);
            assert!((3..=12).contains(&v));
        }
    }
}
