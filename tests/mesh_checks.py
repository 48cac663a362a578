"""Run by tests/test_mesh.py in a subprocess with 2 CPU devices; prints one JSON line of measurements."""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import AxisType
from jax.sharding import PartitionSpec as P

import robojax.agents.ppo.agent as ppo_module
import robojax.agents.sac.agent as sac_module
from robojax import PPO, SAC, PPOConfig, SACConfig, sharding
from robojax.config import MeshConfig
from robojax.models import NetworkConfig
from robojax.sharding import DATA
from robojax.trainer import Trainer

NET = NetworkConfig(hidden_sizes=(16, 16))
MESH = jax.make_mesh((2,), (DATA,), axis_types=(AxisType.Auto,))


def on_mesh(fn, in_specs, out_specs):
    return jax.jit(jax.shard_map(fn, mesh=MESH, in_specs=in_specs, out_specs=out_specs))


def max_diff(a, b) -> float:
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


def summed_grad(fn, has_aux=False):
    """The trap: the gradient of each device's own loss (shard_map sums it over devices)."""
    if not has_aux:
        return jax.grad(fn)
    return jax.grad(lambda *a, **k: (lambda out: (out[0], sharding.reduce(out[1])))(fn(*a, **k)), has_aux=True)


def ppo_update(out):
    agent = PPO(PPOConfig(num_envs=4, rollout_length=16, num_minibatches=1, epochs=2, normalize_obs=True, network=NET,
                          learning_rate=0.05, anneal_lr=False), "gymnax/Pendulum-v1")
    # Plain SGD (the update scales the optimizer's direction by -learning_rate): Adam would hide
    # a D-times gradient; SGD does not.
    agent.optimizer = optax.flatten(optax.identity())
    state = agent.init(jax.random.PRNGKey(0))
    state, batch = jax.jit(agent.collect)(state)
    one, one_metrics = jax.jit(agent.update)(state, batch)
    state_spec = jax.tree.map(lambda f: P(DATA) if f else P(), agent.data_sharded(state))
    specs = ((state_spec, jax.tree.map(lambda _: P(None, DATA), batch)), (state_spec, P()))
    two, two_metrics = on_mesh(agent.update, *specs)(state, batch)
    out["ppo"] = {
        "params": max_diff(one.params, two.params),
        "obs_stats": max_diff(one.obs_stats, two.obs_stats),
        "change": max_diff(one.params, state.params),
        "metrics": {k: [float(one_metrics[k]), float(two_metrics[k])] for k in one_metrics},
    }
    ppo_module.mean_grad = summed_grad
    bad, bad_metrics = on_mesh(agent.update, *specs)(state, batch)
    ppo_module.mean_grad = sharding.mean_grad
    out["ppo"]["summed_params"] = max_diff(one.params, bad.params)
    out["ppo"]["summed_grad_norm_ratio"] = float(bad_metrics["grad_norm"] / one_metrics["grad_norm"])


def sac_update(out):
    agent = SAC(SACConfig(num_envs=2, batch_size=8, network=NET, learning_rate=0.05), "gymnax/Pendulum-v1")
    agent.optimizers = {part: optax.identity() for part in ("actor", "critic", "alpha")}  # SGD: see ppo_update
    params = agent.init(jax.random.PRNGKey(0)).params
    opt_state = {"actor": (), "critic": (), "alpha": ()}
    opt_state = {p: agent.optimizers[p].init(params["log_alpha" if p == "alpha" else p]) for p in opt_state}
    keys = jax.random.split(jax.random.PRNGKey(1), 6)
    batch = {
        "obs": jax.random.normal(keys[0], (8, 3)),
        "action": jax.random.uniform(keys[1], (8, 1), minval=-1, maxval=1),
        "reward": jax.random.normal(keys[2], (8,)),
        "terminated": (jnp.arange(8) % 3 == 0).astype(jnp.float32),
        "next_obs": jax.random.normal(keys[3], (8, 3)),
    }

    def learn(params, opt_state, batch, critic_key, actor_key):
        return agent.learn(params, opt_state, batch, critic_key, actor_key, jnp.int32(0))

    args = (params, opt_state, batch, keys[4], keys[5])
    specs = ((P(), P(), P(DATA), P(), P()), ((P(), P()), P()))
    (one, _), _ = jax.jit(learn)(*args)
    (two, _), _ = on_mesh(learn, *specs)(*args)
    sac_module.mean_grad = summed_grad
    (bad, _), _ = on_mesh(learn, *specs)(*args)
    sac_module.mean_grad = sharding.mean_grad
    out["sac"] = {"params": max_diff(one, two), "change": max_diff(one, params), "summed_params": max_diff(one, bad)}


def chunk_run(mesh: MeshConfig, steps: int):
    """``steps`` PPO train steps of 2 seeds through the trainer's compiled chunk on ``mesh``."""
    cfg = PPOConfig(num_envs=4, num_seeds=2, rollout_length=16, num_minibatches=2, network=NET, mesh=mesh)
    trainer = Trainer(PPO(cfg, "gymnax/CartPole-v1"), run_dir="/nonexistent")
    state, _ = trainer._initial_state()
    chunk = trainer._chunk_fn(state).lower(state, trainer.placement.replicate(jnp.int32(1))).compile()
    state, _ = chunk(state, trainer.placement.replicate(jnp.int32(steps)))
    return state, chunk.as_text()


def trainer_meshes(out):
    plain, plain_hlo = chunk_run(MeshConfig(1, 1), 3)
    seeds, seeds_hlo = chunk_run(MeshConfig(2, 1), 3)
    data, data_hlo = chunk_run(MeshConfig(1, 2), 3)
    out["seeds_vs_vmapped"] = max_diff(plain.params, seeds.params)
    out["all_reduces"] = {"plain": plain_hlo.count("all-reduce"), "seeds": seeds_hlo.count("all-reduce"),
                          "data": data_hlo.count("all-reduce")}
    # Replicated parameters: the copy on each device, bit for bit.
    copies = [[np.asarray(s.data) for s in sorted(leaf.addressable_shards, key=lambda s: s.device.id)]
              for leaf in jax.tree.leaves(data.params)]
    out["replicas_identical"] = all(all(np.array_equal(c[0], x) for x in c[1:]) for c in copies)
    out["replicas"] = len(copies[0])
    out["data_vs_plain"] = max_diff(plain.params, data.params)  # different streams: must differ


if __name__ == "__main__":
    result = {"devices": jax.device_count()}
    for check in sys.argv[1:]:
        globals()[check](result)
    print(json.dumps(result))
