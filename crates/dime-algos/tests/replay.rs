//! Replay buffer: FIFO order, seeded sampling, the termination mask, and save/load round trips.

use dime_algos::{Batch, ReplayBuffer, Transition};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn push(buf: &mut ReplayBuffer, i: usize, terminated: bool, truncated: bool) {
    let x = i as f32;
    buf.push(Transition {
        obs: &[x, -x],
        action: &[x / 10.0],
        reward: x,
        next_obs: &[x + 0.5, -x - 0.5],
        terminated,
        truncated,
    })
    .unwrap();
}

#[test]
fn fifo_overwrites_the_oldest_and_keeps_flags_apart() {
    let mut buf = ReplayBuffer::new(2, 1, 3).unwrap();
    for i in 0..5 {
        push(&mut buf, i, i == 3, i == 4);
    }
    assert_eq!(buf.len(), 3);
    // Held: transitions 2, 3, 4 (oldest first).
    assert_eq!(
        [buf.terminated_at(0), buf.terminated_at(1), buf.terminated_at(2)],
        [Some(false), Some(true), Some(false)]
    );
    assert_eq!([buf.truncated_at(1), buf.truncated_at(2), buf.truncated_at(3)], [Some(false), Some(true), None]);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut batch = Batch::default();
    buf.sample_into(200, &mut rng, &mut batch).unwrap();
    assert!(batch.reward.iter().all(|&r| (2.0..=4.0).contains(&r)), "only held transitions are drawn");
    for (r, m) in batch.reward.iter().zip(&batch.not_terminated) {
        // Only transition 3 terminated; transition 4 was truncated and still bootstraps.
        assert_eq!(*m, if *r == 3.0 { 0.0 } else { 1.0 });
    }
    for (row, r) in batch.reward.iter().enumerate() {
        assert_eq!(batch.obs[2 * row], *r, "columns stay aligned");
        assert_eq!(batch.next_obs[2 * row], *r + 0.5);
        assert_eq!(batch.action[row], *r / 10.0);
    }
}

#[test]
fn sampling_is_seeded_and_covers_the_buffer_uniformly() {
    let mut buf = ReplayBuffer::new(2, 1, 10).unwrap();
    for i in 0..10 {
        push(&mut buf, i, false, false);
    }
    let draw = |seed| {
        let mut batch = Batch::default();
        buf.sample_into(10_000, &mut ChaCha8Rng::seed_from_u64(seed), &mut batch).unwrap();
        batch
    };
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
    let mut counts = [0usize; 10];
    for r in draw(3).reward {
        counts[r as usize] += 1;
    }
    // Each index has probability 0.1: mean 1000, std sqrt(10000·0.1·0.9) = 30; allow 5 std.
    assert!(counts.iter().all(|&c| (850..=1150).contains(&c)), "{counts:?}");
}

#[test]
fn bad_transitions_and_empty_sampling_are_errors() {
    let mut buf = ReplayBuffer::new(2, 1, 4).unwrap();
    let bad_len = Transition {
        obs: &[0.0],
        action: &[0.0],
        reward: 0.0,
        next_obs: &[0.0, 0.0],
        terminated: false,
        truncated: false,
    };
    assert!(buf.push(bad_len).is_err());
    let nan = Transition { obs: &[0.0, f32::NAN], ..bad_len };
    assert!(buf.push(Transition { next_obs: &[0.0, 0.0], ..nan }).is_err());
    assert!(buf.sample_into(1, &mut ChaCha8Rng::seed_from_u64(0), &mut Batch::default()).is_err());
    assert!(ReplayBuffer::new(2, 1, 0).is_err());
}

#[test]
fn save_and_load_round_trip_exactly_and_reject_damage() {
    for pushes in [0, 3, 7] {
        let mut buf = ReplayBuffer::new(2, 1, 5).unwrap();
        for i in 0..pushes {
            push(&mut buf, i, i % 3 == 0, i % 4 == 0);
        }
        let bytes = buf.to_bytes();
        let loaded = ReplayBuffer::from_bytes(&bytes).unwrap();
        assert_eq!(loaded, buf, "{pushes} pushes");
        // The loaded buffer continues exactly like the original.
        let (mut a, mut b) = (buf.clone(), loaded);
        push(&mut a, 100, false, false);
        push(&mut b, 100, false, false);
        assert_eq!(a, b);
        assert!(ReplayBuffer::from_bytes(&bytes[..bytes.len() - 1]).is_err(), "a truncated buffer is refused");
    }
    assert!(ReplayBuffer::from_bytes(b"not a buffer at all").is_err());
}
