# Two commands set everything up on a fresh machine:
#   make run   -> creates .venv, installs, runs the whole default pipeline (embedded corpus, CPU)
#   make test  -> creates .venv, installs, runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is installed first with an exact pin so pip takes the CPU build instead of a multi-GB CUDA one.
TORCH_PIN ?= torch==2.13.0
export KEDRO_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
APP_ARGS ?=

.PHONY: install run test bench viz app maestro-sample

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

# The web app on http://127.0.0.1:7860: generate music, and the blind listening test.
# Options: make app APP_ARGS="--port 8000 --env maestro" (--host 0.0.0.0 serves the network).
app: install
	$(BIN)/python -m symbolic_music.app $(APP_ARGS)

# Ten MAESTRO performances from miditok's sdist, in MAESTRO's layout, for `kedro run --env=maestro`.
maestro-sample: install
	$(BIN)/python -m symbolic_music.maestro_sample
