"""MuJoCo's side of protocol B (envs.md §3.11) on this machine, for same-session ratios.

Per task: reset, 200 warm-up env steps, then 3000 timed env steps, each a uniform random ctrl
followed by one `mj_step(m, d, nstep=frame_skip)` (Gymnasium's frame_skip, dm_control's
n_sub_steps). The actions of a run are drawn before it is timed: NumPy's per-call
`uniform(lo, hi)` costs about 20 us on the project VM, far above the ~1 us of Python overhead the
design's reference figures include. Prints the same columns as the `protocol B` table of
`crates/dime-bench/benches/envs.rs` (median and best run by wall time, env steps per CPU second).

The VM's speed swings by up to ±50% within minutes, so compare by interleaving: run this and the
bench (`PROTOCOL_B_RUNS=3 PROTOCOL_B_TASKS=...`) alternately a few times and take each side's best.

Usage (from the workspace root, with the virtual environment of docs/python-bridge.md):
    .venv/bin/python crates/dime-envs/tools/mujoco_protocol_b.py gym/HalfCheetah-v5,dmc/cheetah-run [RUNS]
"""
import sys
import time

import mujoco
import numpy as np

WARMUP_STEPS = 200
TIMED_STEPS = 3000


def load(task_id):
    """(model, data, physics steps per env step, owner kept alive) of a dime task id."""
    family, name = task_id.split("/", 1)
    if family == "gym":
        import gymnasium as gym

        env = gym.make(name).unwrapped
        env.reset(seed=0)
        return env.model, env.data, env.frame_skip, env
    if family == "dmc":
        from dm_control import suite

        domain, task = name.split("-", 1)
        env = suite.load(domain, task, task_kwargs={"random": 0})
        env.reset()
        return env.physics.model.ptr, env.physics.data.ptr, env._n_sub_steps, env
    raise SystemExit(f"unknown family in {task_id} (gym/... or dmc/...)")


def steps(m, d, nstep, actions):
    for a in actions:
        d.ctrl[:] = a
        mujoco.mj_step(m, d, nstep=nstep)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 11
    print(f"MuJoCo {mujoco.__version__} protocol B: {runs} runs of {TIMED_STEPS} env steps each, one thread")
    print("| task | MuJoCo env steps/s: wall median / wall best / per CPU second |")
    print("| --- | --- |")
    for task_id in sys.argv[1].split(","):
        m, d, nstep, _owner = load(task_id)
        lo, hi = m.actuator_ctrlrange[:, 0].copy(), m.actuator_ctrlrange[:, 1].copy()
        rng = np.random.default_rng(1)
        rates, cpu = [], 0.0
        for _ in range(runs):
            mujoco.mj_resetData(m, d)
            mujoco.mj_forward(m, d)
            steps(m, d, nstep, rng.uniform(lo, hi, (WARMUP_STEPS, len(lo))))
            actions = rng.uniform(lo, hi, (TIMED_STEPS, len(lo)))
            cpu_start, start = time.thread_time(), time.perf_counter()
            steps(m, d, nstep, actions)
            rates.append(TIMED_STEPS / (time.perf_counter() - start))
            cpu += time.thread_time() - cpu_start
        rates.sort()
        k = lambda x: f"{x / 1e3:.1f}k"
        print(f"| {task_id} | {k(rates[len(rates) // 2])} / {k(rates[-1])} / {k(runs * TIMED_STEPS / cpu)} |", flush=True)


if __name__ == "__main__":
    main()
