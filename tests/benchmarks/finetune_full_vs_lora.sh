#!/usr/bin/env bash
# Measurement: full fine-tuning against LoRA, onto a composer the base model never saw.
#
#   bash tests/benchmarks/finetune_full_vs_lora.sh            # HELD=palestrina by default
#
# 1. A base model on the embedded corpus without the held-out composer: a copy of conf/ (in a
#    temporary folder, passed with --conf-source) gets an environment `without_<HELD>` whose
#    raw_metadata lists every composer of conf/base/catalog.yml but HELD, in its own raw folder
#    and models folder (data/01_raw/music21_without_<HELD>, data/06_models/without_<HELD>).
# 2. The held-out composer's pieces, as the embedded corpus takes them (the base environment's
#    raw_metadata builds them), copied to data/01_raw/midi_folder/<HELD>/: the midi_folder
#    corpus. That folder must hold nothing else (move your own aside). Steps 1 and 2 are skipped
#    when their output exists.
# 3. `kedro run --env=midi_folder` per method of METHODS, from the base checkpoint (init_from as a
#    path), with transformer_model.finetune.method=<method> and FINETUNE_PARAMS, every pipeline (the
#    evaluation report's copying check reads the fine-tuned model's generated pieces).
# 4. Prints each run's validation/test bits/note, the starting checkpoint's on the same folder,
#    and the copying check of its generated set (memorization_summary.csv).
set -euo pipefail
cd "$(dirname "$0")/../.."
HELD=${HELD:-palestrina}
KEDRO=${KEDRO:-.venv/bin/kedro}
PYTHON=${PYTHON:-.venv/bin/python}
# CPU-sized: augmentation off for both (a run of minutes on 2 shared cores), 3 epochs at half the
# base learning rate for fine-tuning.
BASE_PARAMS=${BASE_PARAMS:-transformer_model.augmentation.enabled=false}
FINETUNE_PARAMS=${FINETUNE_PARAMS:-transformer_model.augmentation.enabled=false,transformer_model.training.num_train_epochs=3,transformer_model.training.learning_rate=5.0e-4,transformer_model.training.warmup_steps=0}
METHODS=${METHODS:-full lora}
ENV=without_$HELD
FOLDER=data/01_raw/midi_folder/$HELD
# fewer generated pieces, no audio: the copying check needs a few pieces per set, not the default 10
GENERATION_PARAMS=${GENERATION_PARAMS:-generation.num_samples=4,generation.continuation.num_pieces=2,generation.audio.enabled=false}
if [ -e data/01_raw/midi_folder ] && [ "$(ls data/01_raw/midi_folder)" != "$HELD" ]; then
  echo "data/01_raw/midi_folder holds other pieces than $HELD's: move it aside first" >&2; exit 1
fi

conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
cp -r conf/. "$conf"
mkdir "$conf/$ENV"
"$PYTHON" - "$conf" "$HELD" <<'EOF'
import sys
from pathlib import Path

import yaml

conf, held = Path(sys.argv[1]), sys.argv[2]
entry = yaml.safe_load((conf / "base" / "catalog.yml").read_text())["raw_metadata"]
assert held in entry["composers"], f"{held} is not a composer of conf/base/catalog.yml"
entry["composers"].pop(held)
(conf / f"without_{held}" / "catalog.yml").write_text(yaml.safe_dump({"raw_metadata": entry}))
(conf / f"without_{held}" / "globals.yml").write_text(yaml.safe_dump(
    {"raw_folder": f"data/01_raw/music21_without_{held}", "models_folder": f"data/06_models/without_{held}"}))
EOF

echo "== base model without $HELD"
if [ -e "data/06_models/$ENV/transformer" ]; then echo "(trained already: data/06_models/$ENV/transformer)"; else
"$KEDRO" run --conf-source="$conf" --env="$ENV" --pipelines=data_engineering,transformer_model --params="$BASE_PARAMS"
fi

echo "== $HELD's pieces as the midi_folder corpus"
[ -e "$FOLDER" ] || "$PYTHON" - "$HELD" "$FOLDER" <<'EOF'
import shutil
import sys
from pathlib import Path

sys.path.insert(0, "tests/benchmarks")
from _project import load_project

held, folder = sys.argv[1], Path(sys.argv[2])
catalog, _ = load_project("base")
table = catalog["raw_metadata"].load()  # builds the embedded corpus if it is not cached
root = Path(catalog["raw_metadata"]._describe()["path"])
files = [f for f in table["midi_filename"] if f.startswith(f"{held}/")]
folder.mkdir(parents=True)
for name in files:
    shutil.copy(root / name, folder / Path(name).name)
print(f"{len(files)} pieces of {held} in {folder}")
EOF

for method in $METHODS; do
  echo "== fine-tune: $method"
  "$KEDRO" run --env=midi_folder \
    --params="transformer_model.init_from=data/06_models/$ENV/transformer,transformer_model.finetune.method=$method,$FINETUNE_PARAMS,$GENERATION_PARAMS"
  "$PYTHON" - "$method" <<'EOF'
import json
import sys
from pathlib import Path

import pandas as pd


def latest(name: str) -> Path:
    folder = Path("data/08_reporting") / name
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))[-1] / name


metrics = json.loads(latest("transformer_metrics.json").read_text())
print(f"[{sys.argv[1]}] validation bits/note {metrics['transformer_validation']['bits_per_note']:.3f} "
      f"(starting checkpoint {metrics['starting_checkpoint']['validation']['bits_per_note']:.3f}), "
      f"test {metrics['transformer']['bits_per_note']:.3f} (starting {metrics['starting_checkpoint']['test']['bits_per_note']:.3f})")
with pd.option_context("display.width", 250, "display.max_columns", 30):
    print(pd.read_csv(latest("memorization_summary.csv")).to_string(index=False))
EOF
done
