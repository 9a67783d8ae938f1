//! Seeding: each env owns a ChaCha8 stream; vector-env lanes derive theirs from the run seed.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random stream type every env uses.
pub type EnvRng = ChaCha8Rng;

/// A stream seeded from `seed`.
pub fn env_rng(seed: u64) -> EnvRng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// SplitMix64 finaliser: a fixed bijective mixer of 64-bit values.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seed of lane `lane` of a vector env seeded with `seed`: `splitmix64(seed ^ lane·φ64)`.
pub fn lane_seed(seed: u64, lane: usize) -> u64 {
    splitmix64(seed ^ (lane as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}
