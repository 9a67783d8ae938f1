//! A FIFO replay buffer over flat `f32` columns, sampled uniformly with replacement from a
//! caller's seeded stream. `terminated` and `truncated` are stored apart: only termination stops
//! bootstrapping, and `next_obs` of a transition that ended is the true final observation.

use candle_core::{Device, Tensor};
use rand::Rng;

use crate::error::AlgoError;

/// One stored transition, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    /// Observation before the step.
    pub obs: &'a [f32],
    /// Action in `[-1, 1]` coordinates.
    pub action: &'a [f32],
    /// Reward of the step.
    pub reward: f32,
    /// Observation after the step (the true final one if the episode ended).
    pub next_obs: &'a [f32],
    /// The episode ended in a terminal state.
    pub terminated: bool,
    /// The episode hit its time limit.
    pub truncated: bool,
}

/// A sampled minibatch in row-major columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// `batch · obs_dim` observations.
    pub obs: Vec<f32>,
    /// `batch · act_dim` actions.
    pub action: Vec<f32>,
    /// `batch` rewards.
    pub reward: Vec<f32>,
    /// `batch · obs_dim` next observations.
    pub next_obs: Vec<f32>,
    /// `batch` bootstrap masks `m = 1 − terminated` (truncation keeps 1).
    pub not_terminated: Vec<f32>,
}

impl Batch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.reward.len()
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.reward.is_empty()
    }
}

/// Rows of a sampled [`Batch`] ready for the networks: observations and actions as tensors,
/// rewards and bootstrap masks as host columns (the critics' TD targets are formed on the host).
#[derive(Debug, Clone)]
pub struct Minibatch {
    /// `s`, `[rows, obs_dim]`.
    pub obs: Tensor,
    /// `a` in `[-1, 1]`, `[rows, act_dim]`.
    pub actions: Tensor,
    /// `s'`, `[rows, obs_dim]`.
    pub next_obs: Tensor,
    /// `r`, `rows` values.
    pub rewards: Vec<f32>,
    /// `m = 1 − terminated`, `rows` values.
    pub continues: Vec<f32>,
}

impl Batch {
    /// Rows `start..start + rows` as a [`Minibatch`] on `device`.
    pub fn minibatch(&self, start: usize, rows: usize, device: &Device) -> Result<Minibatch, AlgoError> {
        let n = self.len();
        if rows == 0 || start + rows > n {
            return Err(AlgoError::Replay(format!("rows {start}..{} of a batch of {n}", start + rows)));
        }
        let (obs_dim, act_dim) = (self.obs.len() / n, self.action.len() / n);
        let tensor = |data: &[f32], width: usize| {
            Tensor::from_slice(&data[start * width..(start + rows) * width], (rows, width), device)
        };
        Ok(Minibatch {
            obs: tensor(&self.obs, obs_dim)?,
            actions: tensor(&self.action, act_dim)?,
            next_obs: tensor(&self.next_obs, obs_dim)?,
            rewards: self.reward[start..start + rows].to_vec(),
            continues: self.not_terminated[start..start + rows].to_vec(),
        })
    }
}

/// Fixed-capacity FIFO of transitions.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayBuffer {
    obs_dim: usize,
    act_dim: usize,
    capacity: usize,
    /// Index of the next write.
    head: usize,
    /// Number of valid transitions (≤ capacity).
    len: usize,
    obs: Vec<f32>,
    action: Vec<f32>,
    reward: Vec<f32>,
    next_obs: Vec<f32>,
    terminated: Vec<u8>,
    truncated: Vec<u8>,
}

impl ReplayBuffer {
    /// An empty buffer of `capacity` transitions.
    pub fn new(obs_dim: usize, act_dim: usize, capacity: usize) -> Result<Self, AlgoError> {
        if capacity == 0 || obs_dim == 0 || act_dim == 0 {
            return Err(AlgoError::Replay(format!(
                "capacity ({capacity}), obs_dim ({obs_dim}) and act_dim ({act_dim}) must be positive"
            )));
        }
        Ok(Self {
            obs_dim,
            act_dim,
            capacity,
            head: 0,
            len: 0,
            obs: vec![0.0; capacity * obs_dim],
            action: vec![0.0; capacity * act_dim],
            reward: vec![0.0; capacity],
            next_obs: vec![0.0; capacity * obs_dim],
            terminated: vec![0; capacity],
            truncated: vec![0; capacity],
        })
    }

    /// Number of stored transitions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maximum number of transitions.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Widths of the observation and action columns.
    pub fn dims(&self) -> (usize, usize) {
        (self.obs_dim, self.act_dim)
    }

    /// Append a transition, overwriting the oldest when full.
    pub fn push(&mut self, t: Transition<'_>) -> Result<(), AlgoError> {
        let (od, ad) = (self.obs_dim, self.act_dim);
        if t.obs.len() != od || t.next_obs.len() != od || t.action.len() != ad {
            return Err(AlgoError::Replay(format!(
                "transition has obs {}, next_obs {}, action {}; the buffer holds obs {od}, action {ad}",
                t.obs.len(),
                t.next_obs.len(),
                t.action.len()
            )));
        }
        let finite = t.reward.is_finite() && t.obs.iter().chain(t.next_obs).chain(t.action).all(|x| x.is_finite());
        if !finite {
            return Err(AlgoError::Replay("transition holds a non-finite value".into()));
        }
        let i = self.head;
        self.obs[i * od..(i + 1) * od].copy_from_slice(t.obs);
        self.next_obs[i * od..(i + 1) * od].copy_from_slice(t.next_obs);
        self.action[i * ad..(i + 1) * ad].copy_from_slice(t.action);
        self.reward[i] = t.reward;
        self.terminated[i] = u8::from(t.terminated);
        self.truncated[i] = u8::from(t.truncated);
        self.head = (self.head + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
        Ok(())
    }

    /// Draw `batch` transitions uniformly with replacement into `out` (reusing its allocations).
    pub fn sample_into<R: Rng>(&self, batch: usize, rng: &mut R, out: &mut Batch) -> Result<(), AlgoError> {
        if self.len == 0 {
            return Err(AlgoError::Replay("cannot sample from an empty buffer".into()));
        }
        let (od, ad) = (self.obs_dim, self.act_dim);
        for v in [&mut out.obs, &mut out.action, &mut out.reward, &mut out.next_obs, &mut out.not_terminated] {
            v.clear();
        }
        for _ in 0..batch {
            let i = rng.random_range(0..self.len);
            out.obs.extend_from_slice(&self.obs[i * od..(i + 1) * od]);
            out.action.extend_from_slice(&self.action[i * ad..(i + 1) * ad]);
            out.reward.push(self.reward[i]);
            out.next_obs.extend_from_slice(&self.next_obs[i * od..(i + 1) * od]);
            out.not_terminated.push(1.0 - f32::from(self.terminated[i]));
        }
        Ok(())
    }

    /// The newest stored transition (what an on-policy learner reads after each environment step).
    pub fn latest(&self) -> Option<Transition<'_>> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Stored transition `i` (0 = oldest still held).
    pub fn get(&self, i: usize) -> Option<Transition<'_>> {
        if i >= self.len {
            return None;
        }
        let i = self.physical(i);
        let (od, ad) = (self.obs_dim, self.act_dim);
        Some(Transition {
            obs: &self.obs[i * od..(i + 1) * od],
            action: &self.action[i * ad..(i + 1) * ad],
            reward: self.reward[i],
            next_obs: &self.next_obs[i * od..(i + 1) * od],
            terminated: self.terminated[i] != 0,
            truncated: self.truncated[i] != 0,
        })
    }

    /// Whether stored transition `i` (0 = oldest still held) ended by truncation.
    pub fn truncated_at(&self, i: usize) -> Option<bool> {
        (i < self.len).then(|| self.truncated[self.physical(i)] != 0)
    }

    /// Whether stored transition `i` (0 = oldest still held) ended by termination.
    pub fn terminated_at(&self, i: usize) -> Option<bool> {
        (i < self.len).then(|| self.terminated[self.physical(i)] != 0)
    }

    fn physical(&self, i: usize) -> usize {
        if self.len < self.capacity {
            i
        } else {
            (self.head + i) % self.capacity
        }
    }

    /// Serialise to bytes (little-endian; header of dimensions and cursor, then the valid columns).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.len * (4 * (2 * self.obs_dim + self.act_dim + 1) + 2));
        out.extend_from_slice(MAGIC);
        for v in [self.obs_dim, self.act_dim, self.capacity, self.head, self.len] {
            out.extend_from_slice(&(v as u64).to_le_bytes());
        }
        let n = self.len;
        for (col, width) in
            [(&self.obs, self.obs_dim), (&self.action, self.act_dim), (&self.reward, 1), (&self.next_obs, self.obs_dim)]
        {
            for x in &col[..n * width] {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out.extend_from_slice(&self.terminated[..n]);
        out.extend_from_slice(&self.truncated[..n]);
        out
    }

    /// Rebuild a buffer from [`ReplayBuffer::to_bytes`]; malformed input is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AlgoError> {
        let bad = |why: &str| AlgoError::Replay(format!("cannot read saved buffer: {why}"));
        let mut r = Reader { bytes, pos: 0 };
        if r.take(MAGIC.len()).ok_or_else(|| bad("too short"))? != MAGIC {
            return Err(bad("not a dime replay buffer"));
        }
        let mut header = [0usize; 5];
        for h in &mut header {
            let raw = r.take(8).ok_or_else(|| bad("truncated header"))?;
            *h = usize::try_from(u64::from_le_bytes(raw.try_into().expect("8 bytes"))).map_err(|_| bad("header"))?;
        }
        let [obs_dim, act_dim, capacity, head, len] = header;
        if len > capacity || head >= capacity.max(1) {
            return Err(bad("inconsistent header"));
        }
        let expected = len.checked_mul(4 * (2 * obs_dim + act_dim + 1) + 2).ok_or_else(|| bad("header"))?;
        if bytes.len() - r.pos != expected {
            return Err(bad(&format!("expected {expected} bytes of data, found {}", bytes.len() - r.pos)));
        }
        let mut buf = Self::new(obs_dim, act_dim, capacity)?;
        for (col, width) in
            [(&mut buf.obs, obs_dim), (&mut buf.action, act_dim), (&mut buf.reward, 1), (&mut buf.next_obs, obs_dim)]
        {
            for x in &mut col[..len * width] {
                *x = f32::from_le_bytes(r.take(4).expect("length checked").try_into().expect("4 bytes"));
            }
        }
        buf.terminated[..len].copy_from_slice(r.take(len).expect("length checked"));
        buf.truncated[..len].copy_from_slice(r.take(len).expect("length checked"));
        buf.head = head;
        buf.len = len;
        Ok(buf)
    }
}

const MAGIC: &[u8; 8] = b"DIMERB01";

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
}
