"""transformer_model nodes: token JSON + tokenizer in; GPT-2 checkpoint, history, metrics out."""

from __future__ import annotations

import copy
import logging

import matplotlib.pyplot as plt
import pandas as pd
from tqdm.auto import tqdm
from transformers import GPT2LMHeadModel

from symbolic_music.models.likelihood import model_nll, summarize_nll, unigram_nll
from symbolic_music.models.transformer import header_length, starting_model, train_transformer, validate_params
from symbolic_music.models.windows import piece_windows
from symbolic_music.music.plots import loss_curves
from symbolic_music.music.tokens import augmented_scores, train_bpe
from symbolic_music.music.vocabulary import OTHER_COMPOSER, Vocabulary

log = logging.getLogger(__name__)


def _train_composers(pieces: pd.DataFrame, params: dict) -> list[str]:
    """The ``top_k`` most frequent train composers, then ``other``."""
    counts = pieces.loc[pieces["split"] == "train", "composer"].value_counts()
    return [*counts.index[: params["composer_tokens"]["top_k"]], OTHER_COMPOSER]


def inherited_vocabulary(tokenizer: Vocabulary, init_tokenizer: Vocabulary, pieces: pd.DataFrame, params: dict) -> Vocabulary:
    """The vocabulary of the checkpoint fine-tuning starts from, with a composer token appended
    for each new train composer (``add_composers``: no id moves; BPE is inherited, not retrained).

    ``ValueError`` when the corpus was tokenized differently from the checkpoint's data (another
    miditok vocabulary: ``data_engineering.tokenizer`` or ``data_engineering.pedal`` differ), or
    when the checkpoint has composer tokens and ``composer_tokens.enabled`` is false.
    """
    base, inherited = tokenizer.tokenizer.vocab, init_tokenizer.tokenizer.vocab
    if tokenizer.pedal != init_tokenizer.pedal:
        raise ValueError(f"transformer_model.init_from: the checkpoint was trained with data_engineering.pedal "
                         f"{init_tokenizer.pedal!r}, this corpus is prepared with {tokenizer.pedal!r}; use the checkpoint's")
    if base != inherited:
        differ = sorted(set(base.items()) ^ set(inherited.items()))[:6]
        raise ValueError("transformer_model.init_from: the checkpoint's base tokens differ from this corpus's "
                         f"({len(inherited)} against {len(base)} tokens, e.g. {differ}); tokenize with the checkpoint's "
                         "data_engineering.tokenizer settings")
    vocabulary = copy.deepcopy(init_tokenizer)
    if params["composer_tokens"]["enabled"]:
        vocabulary.add_composers(_train_composers(pieces, params))
    elif vocabulary.composers:
        raise ValueError("transformer_model.composer_tokens.enabled is false, but the checkpoint of init_from was trained with "
                         f"composer tokens ({list(vocabulary.composers)}); enable them to fine-tune it")
    log.info("Fine-tuning vocabulary: %d ids inherited, %d composer tokens appended", len(init_tokenizer), len(vocabulary) - len(init_tokenizer))
    return vocabulary


def prepare_transformer_tokenizer(
    tokenizer: Vocabulary, pieces: pd.DataFrame, train_tokens: dict[str, list[int]], init_tokenizer: Vocabulary | None, params: dict
) -> Vocabulary:
    """The data_engineering vocabulary → the model's: a copy of its miditok tokenizer, with BPE
    trained on the train split only when enabled, then one composer token for each of the
    ``top_k`` most frequent train composers plus ``other`` (ids after miditok's, see
    ``music.vocabulary``). When fine-tuning (``init_tokenizer``, the checkpoint's vocabulary),
    that vocabulary with the new composers appended instead (``inherited_vocabulary``)."""
    validate_params(params)
    if init_tokenizer is not None:
        return inherited_vocabulary(tokenizer, init_tokenizer, pieces, params)
    model_tokenizer = copy.deepcopy(tokenizer.tokenizer)
    if params["bpe"]["enabled"]:
        scores = [tokenizer.decode(ids) for ids in tqdm(train_tokens.values(), desc="decode for BPE", unit="piece")]
        train_bpe(model_tokenizer, scores, params["bpe"]["vocab_size"])
        log.info("Trained BPE: %d tokens", len(model_tokenizer))
    vocabulary = Vocabulary(model_tokenizer, pedal=tokenizer.pedal)
    if params["composer_tokens"]["enabled"]:
        vocabulary.add_composers(_train_composers(pieces, params))
    return vocabulary


AUGMENTED = "@"  # augmented copies of a train piece are keyed "<piece_id>@<change>"


def original_sequences(sequences: dict[str, dict]) -> dict[str, dict]:
    """The sequences of real pieces, without augmented copies."""
    return {key: sequence for key, sequence in sequences.items() if AUGMENTED not in key}


def encode_sequences(
    train_tokens: dict[str, list[int]],
    validation_tokens: dict[str, list[int]],
    test_tokens: dict[str, list[int]],
    tokenizer: Vocabulary,
    transformer_tokenizer: Vocabulary,
    pieces: pd.DataFrame,
    params: dict,
) -> tuple[dict, dict, dict, dict]:
    """Base token ids of each split → the model's sequences ``{id: {"header": [...], "ids": [...]}}``
    (BPE applied when trained; composer header when enabled), with augmented copies of train
    pieces (``<piece_id>@pitch+2``) when augmentation is on, and a report of tokens per note."""
    composer_of = dict(zip(pieces["piece_id"], pieces["composer"]))
    augmentation = params["augmentation"]
    pitch_range = tuple(tokenizer.tokenizer.config.pitch_range)

    def encode_split(tokens: dict[str, list[int]], augment: bool, desc: str) -> dict:
        sequences = {}
        for piece_id, ids in tqdm(tokens.items(), desc=desc, unit="piece"):
            header = transformer_tokenizer.composer_ids(composer_of.get(piece_id, OTHER_COMPOSER))
            sequences[piece_id] = {"header": header, "ids": transformer_tokenizer.convert(ids, tokenizer)}
            if augment:
                score = tokenizer.decode(ids)
                copies = augmented_scores(score, augmentation["pitch_offsets"], augmentation["velocity_offsets"], pitch_range)
                for name, copy_score in copies.items():
                    sequences[f"{piece_id}{AUGMENTED}{name}"] = {"header": header, "ids": transformer_tokenizer.encode(copy_score)}
        return sequences

    train = encode_split(train_tokens, augmentation["enabled"], "encode train")
    validation = encode_split(validation_tokens, False, "encode validation")
    test = encode_split(test_tokens, False, "encode test")
    train_notes = int(pieces.loc[pieces["split"] == "train", "num_notes"].sum())
    originals = list(original_sequences(train).values())
    report = {
        "bpe": transformer_tokenizer.tokenizer.is_trained,
        "vocab_size": len(transformer_tokenizer),
        "composer_tokens": transformer_tokenizer.composers,
        "train_tokens_per_note_base": sum(map(len, train_tokens.values())) / max(train_notes, 1),
        "train_tokens_per_note_model": sum(len(seq["ids"]) for seq in originals) / max(train_notes, 1),
        "augmented_train_sequences": len(train) - len(originals),
    }
    log.info("Tokens per note: %.3f base, %.3f model", report["train_tokens_per_note_base"], report["train_tokens_per_note_model"])
    return train, validation, test, report


def build_windows(sequences: dict[str, dict], vocabulary: Vocabulary, max_length: int, stride: int | None = None) -> list[list[int]]:
    """Model sequences → windows over every sequence (see ``piece_windows``), in order.
    ``stride=None`` gives non-overlapping windows, so each token is scored once."""
    windows = []
    for sequence in sequences.values():
        step = stride or max_length - 1 - len(sequence["header"])
        windows += piece_windows(sequence["ids"], max_length, step, vocabulary.bos_id, vocabulary.eos_id, sequence["header"])
    return windows


def make_windows(
    train_sequences: dict[str, dict], validation_sequences: dict[str, dict], transformer_tokenizer: Vocabulary, params: dict
) -> tuple[list[list[int]], list[list[int]], dict]:
    """Model sequences → training windows (stride from parameters), validation windows (no
    overlap) and a count of the windows, with how many the augmented copies add."""
    validate_params(params)
    originals = original_sequences(train_sequences)
    train = build_windows(train_sequences, transformer_tokenizer, params["max_length"], params["stride"])
    validation = build_windows(validation_sequences, transformer_tokenizer, params["max_length"])
    original_count = len(build_windows(originals, transformer_tokenizer, params["max_length"], params["stride"]))
    report = {"train_windows": len(train), "windows_added_by_augmentation": len(train) - original_count, "validation_windows": len(validation)}
    log.info("Windows: %s", report)
    return train, validation, report


def train_transformer_model(
    train_windows: list[list[int]],
    validation_windows: list[list[int]],
    transformer_tokenizer: Vocabulary,
    init_transformer: GPT2LMHeadModel | None,
    params: dict,
) -> tuple[GPT2LMHeadModel, dict]:
    """Windows → (best GPT-2 on validation loss, training history), from scratch or fine-tuned
    from ``init_transformer``; see ``models.transformer``."""
    return train_transformer(train_windows, validation_windows, transformer_tokenizer, params, init_model=init_transformer)


def evaluate_transformer(
    model: GPT2LMHeadModel,
    train_sequences: dict[str, dict],
    validation_sequences: dict[str, dict],
    test_sequences: dict[str, dict],
    transformer_tokenizer: Vocabulary,
    notes: pd.DataFrame,
    sequence_report: dict,
    window_report: dict,
    init_transformer: GPT2LMHeadModel | None,
    params: dict,
) -> dict:
    """Model + test sequences → test NLL (nats/token, bits/token, bits/note) beside a unigram
    model of the same tokens fitted on train, and the model's validation bits/note. Bits per note
    = total NLL in bits ÷ notes, the unit comparable across tokenizers, BPE and models. Control
    tokens are given, not scored. When fine-tuned, ``starting_checkpoint`` holds the same
    figures of the checkpoint it started from (embeddings resized as training began) on this
    corpus: the "before" of fine-tuning."""
    length, context = params["max_length"], 1 + header_length(params)
    splits = {"validation": build_windows(validation_sequences, transformer_tokenizer, length),
              "test": build_windows(test_sequences, transformer_tokenizer, length)}
    train = build_windows(original_sequences(train_sequences), transformer_tokenizer, length)
    num_notes = {split: int((notes["split"] == split).sum()) for split in splits}
    batch_size = params["training"]["per_device_eval_batch_size"]

    def figures(scored: GPT2LMHeadModel, split: str) -> dict:
        return summarize_nll(*model_nll(scored, splits[split], transformer_tokenizer.pad_id, batch_size, context), num_notes[split])

    unigram_total, unigram_count = unigram_nll(train, splits["test"], len(transformer_tokenizer), context=context)
    metrics = {
        "transformer": figures(model, "test"),
        "transformer_validation": figures(model, "validation"),
        "unigram": summarize_nll(unigram_total, unigram_count, num_notes["test"]),
        "sequences": sequence_report,
        "windows": window_report,
    }
    if init_transformer is not None:
        start = starting_model(transformer_tokenizer, params, init_transformer)
        metrics["starting_checkpoint"] = {"test": figures(start, "test"), "validation": figures(start, "validation"),
                                          "method": params["finetune"]["method"]}
        log.info("Validation bits/note: %.3f at the start, %.3f fine-tuned", metrics["starting_checkpoint"]["validation"]["bits_per_note"],
                 metrics["transformer_validation"]["bits_per_note"])
    log.info("Test bits/note: transformer %.3f, unigram %.3f", metrics["transformer"]["bits_per_note"], metrics["unigram"]["bits_per_note"])
    return metrics


def plot_loss_curves(history: dict) -> plt.Figure:
    """Training history → train loss per step and validation loss per epoch (nats/token)."""
    return loss_curves(history, "Transformer loss", "cross-entropy (nats/token)")
