"""The Python half of dime's Gymnasium bridge (crate dime-envs, feature `python`).

The Rust side (`python/mod.rs`) loads this module into the embedded interpreter and talks to
one `Bridge` per environment. Everything that depends on Python libraries lives here; the Rust
side keeps the seeds, the time limit, the episode state machine and the typed errors.

Exceptions raised on purpose carry a class the Rust side recognises by name:
`MissingPackage`, `UnknownEnv`, `Unsupported`, `BadObservation`, `StateUnsupported`.
"""

import importlib
import os
import site
import sys

# The embedded interpreter starts from the base installation; a virtual environment named by
# VIRTUAL_ENV (what `source .venv/bin/activate` sets) adds its packages.
_VENV = os.environ.get("VIRTUAL_ENV")
if _VENV:
    _SITE = os.path.join(_VENV, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}", "site-packages")
    if os.path.isdir(_SITE) and _SITE not in sys.path:
        site.addsitedir(_SITE)

# No window system: dm_control and MuJoCo must not try to open GLFW at import.
os.environ.setdefault("MUJOCO_GL", "disable")


class MissingPackage(Exception):
    """A Python package the environment needs is not importable."""


class UnknownEnv(Exception):
    """The package is there but does not know the environment id."""


class Unsupported(Exception):
    """The environment exists but dime cannot drive it (spaces, bounds)."""


class BadObservation(Exception):
    """An observation has another shape or dtype than the observation space promised."""


class StateUnsupported(Exception):
    """The environment has no MuJoCo physics whose state dime knows how to save."""


def _hint():
    where = f"the virtual environment {_VENV}" if _VENV else "Python (no VIRTUAL_ENV is set)"
    return f"install it into {where} (docs/python-bridge.md)"


def _import(name, pip_name):
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise MissingPackage(f"Python package `{pip_name}` is not importable ({e}); {_hint()}") from e


def versions(name):
    """`package version` of what shapes the physics of `py/<name>`, for EnvSpec.physics (read
    from the installed distributions, importing nothing)."""
    from importlib import metadata

    dists = ["gymnasium", "mujoco"]
    if name.startswith("dm_control/"):
        dists += ["dm-control", "shimmy"]
    elif name.startswith("myo"):
        dists += ["myosuite"]
    out = []
    for dist in dists:
        try:
            out.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(out)


def _gym_make(gym, name):
    try:
        return gym.make(name)
    except gym.error.Error as e:  # NameNotFound, VersionNotFound, NamespaceNotFound, ...
        raise UnknownEnv(f"{type(e).__name__}: {e}") from e


def make_env(name):
    """Build the Gymnasium environment behind `py/<name>`.

    `dm_control/<domain>-<task>` goes through Shimmy (a missing `-vN` gets `-v0`);
    `myo...` ids import MyoSuite first so its ids are registered; anything else is `gym.make(name)`.
    """
    np = _import("numpy", "numpy")  # noqa: F841 (fail early with a clear message)
    gym = _import("gymnasium", "gymnasium")
    if name.startswith("dm_control/"):
        _import("dm_control", "dm-control")
        _import("shimmy", "shimmy[dm-control]")
        if "-v" not in name.rsplit("/", 1)[1]:
            name = name + "-v0"
        gym.register_envs(importlib.import_module("shimmy"))
    elif name.startswith("myo"):
        _import("myosuite", "myosuite")
    elif name.split("-v")[0] in _MUJOCO_TASKS:
        _import("mujoco", "gymnasium[mujoco]")
    return _gym_make(gym, name)


_MUJOCO_TASKS = {
    "Ant", "HalfCheetah", "Hopper", "Humanoid", "HumanoidStandup", "InvertedDoublePendulum",
    "InvertedPendulum", "Pusher", "Reacher", "Swimmer", "Walker2d",
}


def _dm_env(env):
    """The dm_env inside a Shimmy wrapper, or None."""
    inner = getattr(env.unwrapped, "_env", None)
    return inner if inner is not None and hasattr(inner, "observation_spec") else None


class Bridge:
    """One environment as dime sees it: flat float64 observations, native-unit actions."""

    def __init__(self, name):
        import numpy as np
        from gymnasium import spaces

        self.np = np
        self.name = name
        self.env = make_env(name)
        act = self.env.action_space
        if not isinstance(act, spaces.Box) or len(act.shape) != 1:
            raise Unsupported(f"action space {act} is not a one-dimensional Box")
        self.act_low = [float(x) for x in act.low]
        self.act_high = [float(x) for x in act.high]
        if not all(np.isfinite(self.act_low + self.act_high)):
            raise Unsupported(f"action bounds of {act} are not finite")
        self.act_dtype = act.dtype
        self.dm_env = _dm_env(self.env)
        self.keys, self.shapes = self._layout(self.env.observation_space)
        self.sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes]
        self.obs_dim = sum(self.sizes)
        self.obs = np.zeros(self.obs_dim, dtype=np.float64)
        spec = self.env.spec
        limit = getattr(spec, "max_episode_steps", None)
        if limit is None and self.dm_env is not None:
            limit = int(round(self.dm_env._step_limit))
        self.max_episode_steps = limit
        self.dt = self._dt()
        self.physics = self._physics()

    def _layout(self, space):
        from gymnasium import spaces

        if isinstance(space, spaces.Box):
            return [None], [tuple(space.shape)]
        if isinstance(space, spaces.Dict):
            keys = list(space.spaces.keys())
            if self.dm_env is not None:  # dm_control's native key order (envs.md 1.3)
                keys = list(self.dm_env.observation_spec().keys())
            shapes = []
            for k in keys:
                sub = space.spaces[k]
                if not isinstance(sub, spaces.Box):
                    raise Unsupported(f"observation entry `{k}` is {sub}, not a Box")
                shapes.append(tuple(sub.shape))
            return keys, shapes
        raise Unsupported(f"observation space {space} is neither a Box nor a Dict of Boxes")

    def layout(self):
        return [("obs" if k is None else str(k), n) for k, n in zip(self.keys, self.sizes)]

    def _dt(self):
        u = self.env.unwrapped
        if self.dm_env is not None:
            return float(self.dm_env.control_timestep())
        dt = getattr(u, "dt", None)
        return float(dt) if dt is not None else 0.0

    def _physics(self):
        """(MjModel, MjData) of the environment, or None."""
        if self.dm_env is not None:
            p = self.dm_env.physics
            return p.model.ptr, p.data.ptr
        u = self.env.unwrapped
        m, d = getattr(u, "model", None), getattr(u, "data", None)
        if m is not None and d is not None and type(m).__name__ == "MjModel":
            return m, d
        return None

    def flatten(self, obs):
        """Copy `obs` into the flat float64 buffer, refusing other shapes and dtypes."""
        np = self.np
        parts = [obs] if self.keys == [None] else None
        if parts is None:
            if not isinstance(obs, dict):
                raise BadObservation(f"expected a dict with keys {self.keys}, got {type(obs).__name__}")
            parts = []
            for k in self.keys:
                if k not in obs:
                    raise BadObservation(f"expected key `{k}` in the observation; got keys {list(obs)}")
                parts.append(obs[k])
        at = 0
        for k, shape, n, x in zip(self.keys, self.shapes, self.sizes, parts):
            a = np.asarray(x)
            if a.dtype.kind != "f" or (a.shape != shape and a.size != n) or a.size != n:
                what = "observation" if k is None else f"observation `{k}`"
                raise BadObservation(
                    f"expected {what} of shape {shape} and a float dtype, got shape {a.shape} dtype {a.dtype}"
                )
            self.obs[at : at + n] = a.reshape(-1)
            at += n
        return self.obs

    def reset(self, seed):
        obs, _info = self.env.reset(seed=int(seed))
        return self.flatten(obs)

    def step(self, action):
        # MuJoCo envs get float64 whatever the space's dtype: ctrl is float64 and takes the action
        # raw (envs.md 1.2), a float32 cast would move it by ~1e-8 relative. Other envs get the
        # space's dtype, as Gymnasium's samplers give it (classic control computes in it).
        a = self.np.asarray(action, dtype=self.np.float64 if self.physics is not None else self.act_dtype)
        obs, reward, terminated, truncated, _info = self.env.step(a)
        return self.flatten(obs), float(reward), bool(terminated), bool(truncated)

    # ---- state, for checkpoints and the lock-step comparison ----

    def _mujoco(self):
        if self.physics is None:
            raise StateUnsupported(f"`{self.name}` has no MuJoCo model/data dime can read")
        return importlib.import_module("mujoco")

    def get_state(self):
        """MuJoCo's integration state (time, qpos, qvel, act, warm start, ctrl, applied forces, ...) as a list."""
        mujoco = self._mujoco()
        m, d = self.physics
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        out = self.np.zeros(mujoco.mj_stateSize(m, spec))
        mujoco.mj_getState(m, d, out, spec)
        return out.tolist()

    def set_state(self, state, steps, seed):
        """Start an episode (seeded), then put the physics at `state` after `steps` steps."""
        mujoco = self._mujoco()
        self.env.reset(seed=int(seed))
        m, d = self.physics
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        if len(state) != mujoco.mj_stateSize(m, spec):
            raise StateUnsupported(f"saved state has {len(state)} numbers, the model needs {mujoco.mj_stateSize(m, spec)}")
        mujoco.mj_setState(m, d, self.np.asarray(state, dtype=self.np.float64), spec)
        mujoco.mj_forward(m, d)
        w = self.env
        while w is not None:  # Gymnasium's TimeLimit counts the episode's steps
            if hasattr(w, "_elapsed_steps"):
                w._elapsed_steps = int(steps)
            w = getattr(w, "env", None)
        if self.dm_env is not None:
            self.dm_env._step_count = int(steps)

    def observe(self):
        """The observation of the current physics state (after set_qpos_qvel)."""
        if self.dm_env is not None:
            obs = self.dm_env.task.get_observation(self.dm_env.physics)
            return self.flatten(dict(obs))
        u = self.env.unwrapped
        return self.flatten(u._get_obs())

    def qpos_qvel(self):
        """qpos then qvel of the physics (classic control: the `state` array)."""
        if self.physics is None:
            return [float(x) for x in self.env.unwrapped.state]
        m, d = self.physics
        return list(d.qpos) + list(d.qvel)

    def nq_nv(self):
        """(nq, nv) of the MuJoCo model, or None."""
        if self.physics is None:
            return None
        m, _ = self.physics
        return (int(m.nq), int(m.nv))

    def set_qpos_qvel(self, qpos, qvel, extras):
        """Lock-step: put the original at the pure-Rust task's state (and task parameters)."""
        np = self.np
        if self.physics is None:
            u = self.env.unwrapped
            f32 = len(extras) > 0 and extras[0] != 0.0  # MountainCar keeps float32 after its first step
            u.state = np.asarray(list(qpos) + list(qvel), dtype=np.float32 if f32 else np.float64)
            return
        mujoco = self._mujoco()
        m, d = self.physics
        if self.dm_env is not None:
            phys = self.dm_env.physics
            self._set_task_parameters(phys, extras)
            with phys.reset_context():
                phys.data.qpos[:] = qpos
                phys.data.qvel[:] = qvel
        else:
            d.qpos[:] = qpos
            d.qvel[:] = qvel
            d.qacc_warmstart[:] = 0  # cold solver, as dm_control's reset_context and the golden replays
            mujoco.mj_forward(m, d)

    def _set_task_parameters(self, phys, extras):
        if len(extras) == 0:
            return
        domain = self.name.split("/")[1].split("-")[0]
        if domain == "reacher":
            phys.named.model.geom_pos["target", "x"] = extras[0]
            phys.named.model.geom_pos["target", "y"] = extras[1]
        elif domain == "point_mass":
            phys.model.wrap_prm[:4] = extras[:4]


def plain_steps_per_second(name, n, seed=0):
    """Steps per second of `name` stepped from plain Python (uniform random actions, resets
    included), for comparison with the bridge in the same interpreter."""
    import time

    import numpy as np

    env = make_env(name)
    rng = np.random.default_rng(seed)
    space = env.action_space
    actions = rng.uniform(space.low, space.high, (n,) + space.shape).astype(space.dtype)
    env.reset(seed=seed)
    start = time.perf_counter()
    for a in actions:
        _obs, _r, terminated, truncated, _info = env.step(a)
        if terminated or truncated:
            env.reset()
    return n / (time.perf_counter() - start)
