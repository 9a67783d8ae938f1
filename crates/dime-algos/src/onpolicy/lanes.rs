//! Bookkeeping of on-policy agents that act for several environments at once: the decisions of
//! the last `act_batch` waiting for their transitions, and one unfinished rollout per lane (GAE
//! runs along each lane's own sequence of steps).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Pending decisions `P` (front first, each with its lane) and per-lane rollouts `R`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lanes<P, R> {
    /// Decisions of the last batch of actions, in lane order, not yet paired with a transition.
    pending: VecDeque<(usize, P)>,
    /// The rollout of each lane so far.
    rollouts: Vec<R>,
}

impl<P, R> Default for Lanes<P, R> {
    fn default() -> Self {
        Self { pending: VecDeque::new(), rollouts: Vec::new() }
    }
}

impl<P, R: Default> Lanes<P, R> {
    /// Replace the pending decisions with those of a new batch (lane `i` is `decisions[i]`).
    /// Decisions never paired with a transition (a diverged step) are dropped.
    pub fn begin(&mut self, decisions: Vec<P>) {
        self.pending = decisions.into_iter().enumerate().collect();
    }

    /// The oldest pending decision and its lane: the loop stores lanes in order.
    pub fn next_pending(&mut self) -> Option<(usize, P)> {
        self.pending.pop_front()
    }

    /// The rollout of `lane`, created empty on first use.
    pub fn rollout_mut(&mut self, lane: usize) -> &mut R {
        if self.rollouts.len() <= lane {
            self.rollouts.resize_with(lane + 1, R::default);
        }
        &mut self.rollouts[lane]
    }

    /// Rows stored over all lanes, with `len` giving one rollout's rows.
    pub fn rows(&self, len: impl Fn(&R) -> usize) -> usize {
        self.rollouts.iter().map(len).sum()
    }

    /// The rollouts of every lane, in lane order, leaving empty ones.
    pub fn take_rollouts(&mut self) -> Vec<R> {
        std::mem::take(&mut self.rollouts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_come_back_in_lane_order_and_rollouts_stay_apart() {
        let mut lanes: Lanes<&str, Vec<u32>> = Lanes::default();
        lanes.begin(vec!["a", "b", "c"]);
        assert_eq!(lanes.next_pending(), Some((0, "a")));
        lanes.rollout_mut(0).push(1);
        assert_eq!(lanes.next_pending(), Some((1, "b")));
        lanes.rollout_mut(2).extend([7, 8]);
        // A new batch drops what was never paired ("c").
        lanes.begin(vec!["d"]);
        assert_eq!(lanes.next_pending(), Some((0, "d")));
        assert_eq!(lanes.next_pending(), None);
        assert_eq!(lanes.rows(Vec::len), 3);
        assert_eq!(lanes.take_rollouts(), vec![vec![1], vec![], vec![7, 8]]);
        assert_eq!(lanes.rows(Vec::len), 0);
    }
}
