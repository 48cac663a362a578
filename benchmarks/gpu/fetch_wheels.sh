#!/usr/bin/env bash
# Download, on a machine with network, the wheels that the GPU image lacks (its Python is 3.12; it
# already has jax with CUDA, flax, optax, chex, numpy, pyyaml, rich, msgpack, torch). About 45 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .whl
platforms=""
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
    platforms+=" --platform $p"
done
for pkg in distrax tfp-nightly gymnax gymnasium farama-notifications cloudpickle brax mujoco mujoco-mjx trimesh \
           tensorboardX jaxopt ml-collections dm-tree glfw ; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp $platforms -d .whl "$pkg" \
        || python3 -m pip download -q --no-deps -d .whl "$pkg"
done
du -sh .whl
