"""Measurement: the three ``data_engineering.pedal`` modes on real performances, side by side.

Train one model per mode first, in the environment given (the MAESTRO sample, CPU-sized), e.g.

    python -m symbolic_music.maestro_sample --out data/01_raw/maestro-v3.0.0
    for mode in ignore tokens extend; do
      kedro run --env=maestro --pipelines=data_engineering,transformer_model --params="data_engineering.pedal=$mode,..."
    done
    python tests/benchmarks/compare_pedal_modes.py --env maestro --samples 8 --clips clips --clip-count 8

(the README's "The sustain pedal" gives the exact commands and the figures they gave).

For each mode, the latest ``transformer`` whose vocabulary was encoded under it (the vocabulary
records its mode) samples ``--samples`` pieces of ``--seconds`` from BOS with the ``balanced``
preset and the environment's sampler settings. Printed per mode: test bits/note (from the run's
``transformer_metrics``), the generated tokens' grammar-error share, and how the generated note
durations compare with the real test split's, both as sounding (the pedal applied:
``music.pedal.sustained``, what a listener hears) and as keys held: mean and median (s), the
Jensen-Shannon divergence (bits) of the duration histogram on evaluation's ``time_bins_seconds``,
and sounding polyphony (notes sounding at once, ``music.metrics.polyphony``). ``--clips DIR``
renders the first 20 s of ``--clip-count`` pieces per mode (2 by default) and of the real test piece (with and without its
pedal) to ``DIR/pedal_<mode>_<n>.ogg``, and prints each clip's share of near-silent 50 ms frames
and the spread of its frame levels (a sustained sound has few dips).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from _project import PROJECT_ROOT, load_project
from kedro.io.core import Version
from symusic import Score

from symbolic_music.datasets import HFCheckpointDataset, TokenizerDataset
from symbolic_music.models.sampler import Length, Request, piece_score, sample
from symbolic_music.music.audio import decode_audio, find_soundfont, score_audio
from symbolic_music.music.comparison import note_histograms
from symbolic_music.music.metrics import js_divergence, polyphony
from symbolic_music.music.notes import first_seconds, merged_piano_score, notes_table
from symbolic_music.music.pedal import PEDAL_MODES, SUSTAIN_PEDAL, sustained

CLIP_SECONDS = 20
FRAME_SECONDS = 0.05
SILENT_DBFS = -45.0  # a frame quieter than this (after loudness normalisation) is a gap


def latest_per_mode(catalog) -> dict[str, str]:
    """{pedal mode: the newest version of ``transformer_tokenizer`` encoded under it whose run also
    saved a ``transformer`` (a run stopped before training saved no model)}."""
    folder = Path(str(catalog["transformer_tokenizer"]._filepath))
    models = Path(str(catalog["transformer"]._filepath))
    found = {}
    for version in sorted((p.name for p in folder.iterdir() if not p.name.startswith(".")), reverse=True):
        if not (folder / version / folder.name).exists() or not (models / version / models.name).exists():
            continue
        vocabulary = TokenizerDataset(filepath=str(folder), version=Version(version, None)).load()
        found.setdefault(vocabulary.pedal, version)
    return found


def duration_figures(generated: pd.DataFrame, real: pd.DataFrame, bins: list[float]) -> dict:
    histogram = lambda notes: note_histograms(notes.assign(piece_id=0), bins)["duration"]  # noqa: E731
    return {"mean_s": generated["duration"].mean(), "median_s": generated["duration"].median(),
            "js_vs_real": js_divergence(histogram(generated), histogram(real)),
            "polyphony": np.nanmean([polyphony(t["start"].to_numpy(), t["end"].to_numpy(), FRAME_SECONDS)
                                     for _, t in generated.groupby("piece_id")])}


def clip_figures(data: bytes) -> dict:
    audio, rate = decode_audio(data)
    mono = audio.mean(axis=1)
    frames = mono[: len(mono) // int(rate * FRAME_SECONDS) * int(rate * FRAME_SECONDS)].reshape(-1, int(rate * FRAME_SECONDS))
    level = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9)
    return {"silent_share": float((level < SILENT_DBFS).mean()), "level_p10_to_p90_db": float(np.percentile(level, 90) - np.percentile(level, 10))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="maestro")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clips", type=Path, default=None, help="folder for the OGG clips (none: no audio)")
    parser.add_argument("--clip-count", type=int, default=2, help="pieces rendered per mode")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    catalog, params = load_project(args.env)
    generation, bins = params["generation"], params["evaluation"]["time_bins_seconds"]
    raw = pd.read_csv(Path(PROJECT_ROOT) / params["data_engineering"]["raw_folder"] / "maestro-v3.0.0.csv")
    tests = [merged_piano_score(Score(str(Path(PROJECT_ROOT) / params["data_engineering"]["raw_folder"] / f)))
             for f in raw.loc[raw["split"] == "test", "midi_filename"]]
    real = {"sounding": pd.concat([notes_table(sustained(s)).assign(piece_id=i) for i, s in enumerate(tests)]),
            "keys": pd.concat([notes_table(s).assign(piece_id=i) for i, s in enumerate(tests)])}
    soundfont = find_soundfont(generation["audio"]["soundfont"])
    rows, clips = [], []
    if args.clips:
        args.clips.mkdir(parents=True, exist_ok=True)
        for name, score in (("real_test", tests[0]), ("real_test_no_pedal", _without_pedal(tests[0]))):
            data = score_audio(first_seconds(score, CLIP_SECONDS), soundfont, generation["audio"])
            (args.clips / f"pedal_{name}.ogg").write_bytes(data)
            clips.append({"clip": f"pedal_{name}.ogg", **clip_figures(data)})
    rows.append({"mode": "real test", **{f"{kind}_{k}": v for kind in real for k, v in duration_figures(real[kind], real[kind], bins).items()}})
    models = Path(str(catalog["transformer"]._filepath))
    metrics_folder = Path(str(catalog["transformer_metrics"]._filepath))
    for mode, version in sorted(latest_per_mode(catalog).items(), key=lambda item: PEDAL_MODES.index(item[0])):
        vocabulary = TokenizerDataset(filepath=str(Path(str(catalog["transformer_tokenizer"]._filepath))), version=Version(version, None)).load()
        model = HFCheckpointDataset(filepath=str(models), version=Version(version, None)).load().eval()
        metrics = pd.read_json(metrics_folder / version / metrics_folder.name, typ="series")
        requests = [Request([], None, generation["seed"] + i) for i in range(args.samples)]
        pieces = sample(model, vocabulary, requests, generation["presets"]["balanced"], Length(seconds=args.seconds), generation["sampler"])
        scores = [piece_score(vocabulary, piece) for piece in pieces]
        generated = {"sounding": pd.concat([notes_table(sustained(s)).assign(piece_id=i) for i, s in enumerate(scores)]),
                     "keys": pd.concat([notes_table(s).assign(piece_id=i) for i, s in enumerate(scores)])}
        row = {"mode": mode, "version": version, "test_bits_per_note": metrics["transformer"]["bits_per_note"],
               "grammar_error_share": float(np.mean([vocabulary.grammar_error_share(p.tokens) for p in pieces])),
               "pedal_presses_per_piece": float(np.mean([len(s.tracks[0].pedals) if s.tracks else 0 for s in scores]))}
        for kind in generated:
            row.update({f"{kind}_{k}": v for k, v in duration_figures(generated[kind], real[kind], bins).items()})
        rows.append(row)
        if args.clips:
            for index, score in enumerate(scores[: args.clip_count]):
                data = score_audio(first_seconds(score, CLIP_SECONDS), soundfont, generation["audio"])
                (args.clips / f"pedal_{mode}_{index}.ogg").write_bytes(data)
                clips.append({"clip": f"pedal_{mode}_{index}.ogg", **clip_figures(data)})
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.float_format", "{:.3f}".format):
        print(pd.DataFrame(rows).set_index("mode").T.to_string())
        if clips:
            table = pd.DataFrame(clips).set_index("clip")
            print(table.to_string())
            print(table.groupby(table.index.str.replace(r"_\d+\.ogg$", "", regex=True)).mean().to_string())


def _without_pedal(score: Score) -> Score:
    dry = score.copy()
    for track in dry.tracks:
        track.pedals = type(track.pedals)()
        track.controls = type(track.controls)([c for c in track.controls if c.number != SUSTAIN_PEDAL])
    return dry


if __name__ == "__main__":
    main()
