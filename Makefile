# hashpivot: `make demo` runs a simulated site under the controller; `make test` installs and tests.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_STAMP := $(VENV)/.apt-installed
# Debian packages the tests start for real: promtool (prometheus), a Slurm cluster
# (slurmctld, slurmd, munge), an MQTT broker (mosquitto, with mosquitto_passwd), a headless
# browser for the operator page (chromium, chromium-driver), systemd-analyze for the shipped
# units (systemd), curl for the README's API examples.
APT_PACKAGES := prometheus slurm-wlm munge mosquitto chromium chromium-driver systemd curl

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

# tests/test_architecture.py: no import cycle, and the policy loads no I/O (import-linter
# cannot check either).
lint: $(STAMP)
	$(BIN)/ruff check controller drivers simulators tests bench deploy
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_architecture.py

test: $(APT_STAMP) lint
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/hashpivot demo

# Each benchmark writes bench/results/<name>.{json,md}; report.py joins them into RESULTS.md.
# bench.machine first: the machine-speed reference that RESULTS.md scales the absolute
# figures by is measured in the same run. BENCH=sweep,policy runs only those.
# (bench.gpu_read_path needs a real GPU node: it runs on the device machine, not here.)
BENCHES := machine sweep sweep_mixed policy gpu_sweep curtail restart backtest web mqtt
BENCH ?= $(subst $(eval) ,$(comma),$(BENCHES))
comma := ,
bench: $(STAMP)
	@for b in $(subst $(comma), ,$(BENCH)); do case $$b in \
	  machine) $(BIN)/python -m bench.machine ;; \
	  sweep) $(BIN)/python -m bench.sweep --devices 1000 ;; \
	  sweep_mixed) $(BIN)/python -m bench.sweep --devices 1000 --mixed ;; \
	  policy) $(BIN)/python -m bench.policy ;; \
	  gpu_sweep) $(BIN)/python -m bench.gpu_sweep --nodes 500 ;; \
	  curtail) $(BIN)/python -m bench.curtail ;; \
	  restart) $(BIN)/python -m bench.restart ;; \
	  backtest) $(BIN)/python -m bench.backtest --devices 10000 100000 ;; \
	  web) $(BIN)/python -m bench.web --pages 10 --seconds 20 --rounds 2 ;; \
	  mqtt) $(BIN)/python -m bench.mqtt --devices 10000 --sweeps 3 ;; \
	  *) echo "unknown benchmark $$b (one of $(BENCHES))"; exit 2 ;; \
	esac || exit $$?; done
	$(BIN)/python -m bench.report

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
