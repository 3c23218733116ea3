"""generation node for the LSTM: Task 1 and Task 2 in the transformer's layout (``models.lstm`` samples)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from symusic import Score
from tqdm.auto import tqdm

from symbolic_music.models.lstm import load_lstm, note_features, notes_to_score, sample_notes
from symbolic_music.models.sampler import validate_generation_params


def generate_lstm_pieces(lstm: dict, notes: pd.DataFrame, params: dict, lstm_params: dict) -> tuple[dict[str, Score], dict]:
    """The LSTM in the transformer's layout, ``seconds`` of music each. Task 1: ``num_samples``
    pieces (``lstm/sample_NNN``) each seeded with the first ``seq_length`` notes of a train
    piece. Task 2: for the first ``continuation.num_pieces`` test pieces, the first
    ``seq_length`` notes are the prefix (``lstm_continuation/<piece>/{prefix,continuation,full,reference}``).
    The quality constraints come from ``generation.lstm.constraints``."""
    validate_generation_params(params)
    settings, timing_ranges = params["lstm"], lstm_params["timing"]
    model = load_lstm(lstm)
    seq_length = lstm_params["seq_length"]
    generator = torch.Generator().manual_seed(params["seed"])
    max_notes = int(params["seconds"] * settings["max_notes_per_second"])
    by_piece = {split: [g for _, g in notes[notes["split"] == split].groupby("piece_id", sort=False) if len(g) > seq_length] for split in ("train", "test")}
    pieces, manifest = {}, {"files": {}}

    def add(name: str, pitch: np.ndarray, timing: np.ndarray, prompt: str) -> None:
        score = notes_to_score(pitch, timing, timing_ranges, settings["velocity"])
        pieces[name] = score
        manifest["files"][name] = {"prompt": prompt, "temperature": settings["temperature"], "seed": params["seed"],
                                   "notes": int(score.note_num()), "seconds": round(float(score.to("second").end()), 3),
                                   **settings["constraints"]}

    def continue_seed(pitch: np.ndarray, timing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return sample_notes(model, pitch, timing, params["seconds"], timing_ranges, settings["temperature"], settings["constraints"],
                            generator, max_notes)

    for index in tqdm(range(params["num_samples"]), desc="LSTM task 1", unit="piece"):
        seed_piece = by_piece["train"][index % len(by_piece["train"])]
        new_pitch, new_timing = continue_seed(*note_features(seed_piece.iloc[:seq_length], timing_ranges))
        add(f"lstm/sample_{index:03d}", new_pitch, new_timing, f"first {seq_length} notes of train piece {seed_piece['piece_id'].iloc[0]}")
    for piece in tqdm(by_piece["test"][: params["continuation"]["num_pieces"]], desc="LSTM task 2", unit="piece"):
        pitch, timing = note_features(piece, timing_ranges)
        new_pitch, new_timing = continue_seed(pitch[:seq_length], timing[:seq_length])
        folder, prompt = f"lstm_continuation/{piece['piece_id'].iloc[0].replace('/', '__')}", f"first {seq_length} notes of the test piece"
        add(f"{folder}/prefix", pitch[:seq_length], timing[:seq_length], prompt)
        add(f"{folder}/continuation", new_pitch, new_timing, prompt)
        add(f"{folder}/full", np.concatenate([pitch[:seq_length], new_pitch]), np.concatenate([timing[:seq_length], new_timing]), prompt)
        onsets = piece["start"].to_numpy() - piece["start"].to_numpy()[seq_length]
        real = np.flatnonzero((onsets >= 0) & (onsets < params["seconds"]))
        if len(real):
            add(f"{folder}/reference", pitch[real], timing[real], prompt)
    return pieces, manifest
