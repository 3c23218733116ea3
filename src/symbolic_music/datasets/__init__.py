"""Custom Kedro datasets: MIDI scores, the tokenizer, model checkpoints, the embedded corpus and
the listening test's ratings file."""

from symbolic_music.datasets.checkpoints import (
    HFCheckpointDataset,
    TorchCheckpointDataset,
)
from symbolic_music.datasets.json_lines import JsonLinesDataset
from symbolic_music.datasets.midi import (
    AudioFolderDataset,
    MidiDataset,
    MidiFolderDataset,
)
from symbolic_music.datasets.music21_corpus import Music21CorpusDataset
from symbolic_music.datasets.tokenizer import TokenizerDataset

__all__ = [
    "AudioFolderDataset",
    "HFCheckpointDataset",
    "JsonLinesDataset",
    "MidiDataset",
    "MidiFolderDataset",
    "Music21CorpusDataset",
    "TokenizerDataset",
    "TorchCheckpointDataset",
]
