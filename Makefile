# hashpivot: `make demo` runs a simulated site under the controller; `make test` installs and tests.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_STAMP := $(VENV)/.apt-installed
# Debian packages the tests start for real: promtool (prometheus), a Slurm cluster
# (slurmctld, slurmd, munge), an MQTT broker (mosquitto, with mosquitto_passwd).
APT_PACKAGES := prometheus slurm-wlm munge mosquitto

.PHONY: demo test lint bench venv apt clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

venv: $(STAMP)

# Installs the system packages the tests need, when we may (root, or passwordless sudo).
$(APT_STAMP): $(STAMP)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
	    echo "Missing Debian packages:$$missing. Install them as root (apt-get install$$missing); tests that need them will be skipped."; exit 0; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@touch $@

apt: $(APT_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check controller drivers simulators tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(APT_STAMP) lint
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/hashpivot demo deploy/examples/hashpivot-small.yaml

# Each benchmark writes bench/results/<name>.{json,md}; report.py joins them into RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m bench.sweep --devices 1000
	$(BIN)/python -m bench.sweep --devices 1000 --mixed
	@if [ -f bench/policy.py ]; then $(BIN)/python -m bench.policy; fi
	$(BIN)/python -m bench.gpu_sweep --nodes 500
	$(BIN)/python -m bench.report

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
