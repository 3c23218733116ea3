"""generation node for the LSTM: Task 1 and Task 2 in the transformer's layout (``models.lstm`` samples)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from symusic import Score
from tqdm.auto import tqdm

from symbolic_music.models.lstm import load_lstm, note_features, notes_to_score, sample_notes
from symbolic_music.models.sampler import validate_generation_params


def prompt_positions(start: np.ndarray, seq_length: int, seconds: float) -> list[int]:
    """Note indices where a piece (onsets ``start``, s) can be continued: a prompt of
    ``seq_length`` notes whose real continuation lasts at least ``seconds``, the first at note 0
    and each next one at the first note after the previous real continuation (none overlap)."""
    positions, index = [], 0
    while index + seq_length < len(start) and start[index + seq_length] + seconds <= start[-1]:
        positions.append(index)
        following = start[index + seq_length] + seconds
        index = int(np.searchsorted(start, following, side="left"))
    return positions


def generate_lstm_pieces(lstm: dict, notes: pd.DataFrame, params: dict, lstm_params: dict) -> tuple[dict[str, Score], dict]:
    """The LSTM in the transformer's layout, ``seconds`` of music each. Task 1: ``num_samples``
    pieces (``lstm/sample_NNN``) each seeded with the first ``seq_length`` notes of a train
    piece. Task 2: ``continuation.num_pieces`` prompts of ``seq_length`` notes from the test
    pieces in turn (each piece's first notes, then later ones where it is long enough; see
    ``prompt_positions``), continued for ``seconds``
    (``lstm_continuation/<piece>[@note<N>]/{prefix,continuation,full,reference}``). The quality
    constraints come from ``generation.lstm.constraints``."""
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
    positions = {id(piece): prompt_positions(piece["start"].to_numpy(), seq_length, params["seconds"]) for piece in by_piece["test"]}
    in_turn = [(piece, found[depth]) for depth in range(max(map(len, positions.values()), default=0))
               for piece in by_piece["test"] if depth < len(found := positions[id(piece)])]
    for piece, at in tqdm(in_turn[: params["continuation"]["num_pieces"]], desc="LSTM task 2", unit="prompt"):
        pitch, timing = note_features(piece, timing_ranges)
        prompt_notes = slice(at, at + seq_length)
        new_pitch, new_timing = continue_seed(pitch[prompt_notes], timing[prompt_notes])
        folder = f"lstm_continuation/{piece['piece_id'].iloc[0].replace('/', '__')}" + (f"@note{at}" if at else "")
        prompt = f"notes {at}-{at + seq_length} of the test piece"
        add(f"{folder}/prefix", pitch[prompt_notes], timing[prompt_notes], prompt)
        add(f"{folder}/continuation", new_pitch, new_timing, prompt)
        add(f"{folder}/full", np.concatenate([pitch[prompt_notes], new_pitch]), np.concatenate([timing[prompt_notes], new_timing]), prompt)
        onsets = piece["start"].to_numpy() - piece["start"].to_numpy()[at + seq_length]
        real = np.flatnonzero((onsets >= 0) & (onsets < params["seconds"]))
        add(f"{folder}/reference", pitch[real], timing[real], prompt)
    return pieces, manifest
