"""Stable-Baselines3 SAC throughput on Pendulum-v1, the reference for issue 5's SAC speed case.

Environment steps per second of SB3's SAC (MlpPolicy, 256x256, batch 256, one gradient step per
environment step) once learning runs, on `--threads` torch threads. Run it next to
`cargo bench -p dime-bench --bench agents -- --only "sac cpu"` so that both figures come from
the same machine phase.

    python sb3_sac_speed.py --threads 2 --steps 1500
"""
import argparse
import time

import gymnasium as gym
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.callbacks import BaseCallback


LEARNING_STARTS = 100


class Clock(BaseCallback):
    """Records the wall time when `start_step` environment steps are done (after warm-up)."""

    def __init__(self, start_step):
        super().__init__()
        self.start_step = start_step
        self.start = None

    def _on_step(self):
        if self.num_timesteps == self.start_step:
            self.start = time.perf_counter()
        return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1000,
                        help=f"steps before timing, at least {LEARNING_STARTS} (updates start there)")
    parser.add_argument("--steps", type=int, default=1500, help="timed steps")
    args = parser.parse_args()
    if args.warmup < LEARNING_STARTS or args.steps < 1:
        parser.error(f"--warmup must be at least {LEARNING_STARTS} and --steps positive")
    torch.set_num_threads(args.threads)
    env = gym.make("Pendulum-v1")
    model = SAC("MlpPolicy", env, batch_size=256, learning_starts=LEARNING_STARTS, train_freq=1, gradient_steps=1,
                policy_kwargs=dict(net_arch=[256, 256]), device="cpu", seed=0, verbose=0)
    clock = Clock(args.warmup)
    model.learn(total_timesteps=args.warmup + args.steps, callback=clock)
    seconds = time.perf_counter() - clock.start
    print(f"sb3 sac pendulum: {args.steps / seconds:.2f} env steps/s ({args.threads} torch thread(s), "
          f"torch {torch.__version__})")


if __name__ == "__main__":
    main()
