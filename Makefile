# Quick start: `make train` (set up + train PPO on gymnax/CartPole-v1) and `make test` (set up + run the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup train test test-metaworld bench peers clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

train: setup
	$(BIN)/robojax train ppo --env gymnax/CartPole-v1

# The whole suite: the main environment, then MetaWorld's tests in their own environment.
# Tests run in parallel processes (pytest-xdist), one per core up to 4; work-stealing balances
# the few long tests against the many short ones; the 15 slowest are listed at the end.
# MetaWorld's tests ran just before in their own environment: not collected (skipped) again here.
test: setup test-metaworld
	$(BIN)/python -m pytest -q -n auto --maxprocesses=4 --dist worksteal --durations=15 --ignore=tests/test_metaworld.py

# MetaWorld pins mujoco==3.3.0 (Brax's mujoco-mjx needs another): it has a virtualenv of its own.
.venv-metaworld/.stamp: pyproject.toml
	$(PYTHON) -m venv .venv-metaworld
	.venv-metaworld/bin/python -m pip install --quiet -e ".[metaworld]"
	touch $@

test-metaworld: .venv-metaworld/.stamp
	.venv-metaworld/bin/python -m pytest -q tests/test_metaworld.py

# Peer libraries live in their own virtualenvs (rejax needs gymnax<1.0; SB3 needs torch).
.venv-rejax/.stamp:
	$(PYTHON) -m venv .venv-rejax
	.venv-rejax/bin/python -m pip install --quiet "jax[cpu]" rejax==0.1.3 "gymnax<1.0"
	touch $@

.venv-sb3/.stamp:
	$(PYTHON) -m venv .venv-sb3
	.venv-sb3/bin/python -m pip install --quiet torch==2.13.0
	.venv-sb3/bin/python -m pip install --quiet sbx-rl stable-baselines3 "gymnasium[mujoco]"
	touch $@

peers: .venv-rejax/.stamp .venv-sb3/.stamp

bench: setup peers
	$(BIN)/python benchmarks/ppo_cartpole.py --peer-python .venv-rejax/bin/python
	$(BIN)/python benchmarks/cold_start.py
	$(BIN)/python benchmarks/ppo_brax_ant.py
	$(BIN)/python benchmarks/sac_pendulum.py --peer-python .venv-sb3/bin/python
	$(BIN)/python benchmarks/sac_pendulum.py --fast
	$(BIN)/python benchmarks/sac_brax_scaling.py
	$(BIN)/python benchmarks/halfcheetah.py --peer-python .venv-sb3/bin/python
	$(BIN)/python benchmarks/halfcheetah_time_to_return.py --peer-python .venv-sb3/bin/python

clean:
	rm -rf $(VENV) .venv-rejax .venv-sb3 .venv-metaworld runs
