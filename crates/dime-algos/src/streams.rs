//! Random streams of a run: one root seed, one independent ChaCha8 stream per consumer
//! (`set_stream`), so adding a consumer never shifts the draws of the others.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Saved position of one ChaCha stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamState {
    /// The 32-byte key.
    pub seed: [u8; 32],
    /// The stream number.
    pub stream: u64,
    /// The position in 32-bit words.
    pub word_pos: u128,
}

impl StreamState {
    fn of(rng: &ChaCha8Rng) -> Self {
        Self { seed: rng.get_seed(), stream: rng.get_stream(), word_pos: rng.get_word_pos() }
    }

    fn rng(&self) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos);
        rng
    }
}

/// The named streams of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Streams {
    /// Seeds of the training env's resets.
    pub env: ChaCha8Rng,
    /// Seeds of the evaluation env's episodes.
    pub eval_env: ChaCha8Rng,
    /// Replay sampling.
    pub replay: ChaCha8Rng,
    /// Network initialisation.
    pub init: ChaCha8Rng,
    /// Policy noise while training, and the uniform warm-up actions.
    pub policy: ChaCha8Rng,
    /// Policy noise during evaluation (so evaluation never shifts training).
    pub eval_policy: ChaCha8Rng,
}

impl Streams {
    /// Derive every stream from `root_seed`.
    pub fn new(root_seed: u64) -> Self {
        let stream = |k: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(root_seed);
            rng.set_stream(k);
            rng
        };
        Self {
            env: stream(1),
            eval_env: stream(2),
            replay: stream(3),
            init: stream(4),
            policy: stream(5),
            eval_policy: stream(6),
        }
    }

    /// Positions of every stream, for checkpoints.
    pub fn save(&self) -> Vec<StreamState> {
        [&self.env, &self.eval_env, &self.replay, &self.init, &self.policy, &self.eval_policy]
            .into_iter()
            .map(StreamState::of)
            .collect()
    }

    /// Streams at saved positions; `None` if the list does not have one entry per stream.
    pub fn load(saved: &[StreamState]) -> Option<Self> {
        let [env, eval_env, replay, init, policy, eval_policy] = saved else { return None };
        Some(Self {
            env: env.rng(),
            eval_env: eval_env.rng(),
            replay: replay.rng(),
            init: init.rng(),
            policy: policy.rng(),
            eval_policy: eval_policy.rng(),
        })
    }
}
