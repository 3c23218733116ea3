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

.PHONY: install run test bench viz app maestro-sample maestro-sample-run

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

# The whole run on that sample with the maestro model shrunk to CPU size (minutes, not days).
MAESTRO_CPU_PARAMS := transformer_model.model.n_layer=2,transformer_model.model.n_embd=128,transformer_model.model.n_head=4,transformer_model.model.n_positions=256,transformer_model.max_length=256,transformer_model.stride=254,transformer_model.composer_tokens.top_k=6,transformer_model.bpe.enabled=false,transformer_model.augmentation.enabled=true,transformer_model.training.num_train_epochs=2,transformer_model.training.per_device_train_batch_size=16,transformer_model.training.per_device_eval_batch_size=32,transformer_model.training.learning_rate=1e-3,transformer_model.training.warmup_steps=20,transformer_model.training.logging_steps=20,transformer_model.training.dataloader_num_workers=0
maestro-sample-run: install
	test -f data/01_raw/maestro-v3.0.0/maestro-v3.0.0.csv || $(BIN)/python -m symbolic_music.maestro_sample
	$(BIN)/kedro run --env=maestro --params="$(MAESTRO_CPU_PARAMS)"
