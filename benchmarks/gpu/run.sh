#!/usr/bin/env bash
# GPU benchmarks in one go (about 8 minutes on one H100/H200), on a machine without network.
#
#   benchmarks/gpu/fetch_wheels.sh          # here, with network: the packages the GPU image lacks -> .whl/
#   benchmarks/gpu/run.sh OUT_DIR           # there: installs .whl/*.whl, runs bench.py, writes OUT_DIR/gpu.json + gpu.log
#   benchmarks/gpu/run.sh OUT_DIR --dry-run # tiny sizes on any device (the test suite runs this on CPU)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: run.sh OUT_DIR [--dry-run]}
shift
python=${PYTHON:-python3}
if compgen -G ".whl/*.whl" > /dev/null; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/robojax-site .whl/*.whl
    export PYTHONPATH=/tmp/robojax-site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD/src:${PYTHONPATH:-}
export MUJOCO_GL=${MUJOCO_GL:-egl}
mkdir -p "$out"
set -o pipefail
"$python" benchmarks/gpu/bench.py --out "$out/gpu.json" "$@" 2>&1 | tee "$out/gpu.log"
