# Two commands set everything up on a fresh machine:
#   make run   -> creates .venv, installs, runs the whole default pipeline (embedded corpus, CPU)
#   make test  -> creates .venv, installs, runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is installed first with an exact pin so pip takes the CPU build instead of a multi-GB CUDA one.
TORCH_PIN ?= torch==2.13.0
export KEDRO_DISABLE_TELEMETRY := 1

.PHONY: install run test bench viz clean-data maestro-sample

$(BIN)/kedro: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_PIN)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(BIN)/kedro

install: $(BIN)/kedro

run: install
	$(BIN)/kedro run

test: install
	$(BIN)/python -m pytest

bench: install
	for script in tests/benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

viz: install
	$(BIN)/kedro viz run

# Ten MAESTRO performances from miditok's sdist, in MAESTRO's layout, for `kedro run --env=maestro`.
maestro-sample: install
	$(BIN)/python -m symbolic_music.maestro_sample
