"""Custom Kedro datasets: MIDI scores, the tokenizer, model checkpoints, the embedded corpus,
any folder of MIDI files, the token store (Parquet shards), the listening test's ratings file, and the checkpoint fine-tuning starts from."""

from symbolic_music.datasets.checkpoints import (
    HFCheckpointDataset,
    TorchCheckpointDataset,
)
from symbolic_music.datasets.init_from import InitCheckpointDataset
from symbolic_music.datasets.json_lines import JsonLinesDataset
from symbolic_music.datasets.midi import (
    AudioFolderDataset,
    MidiDataset,
    MidiFolderDataset,
)
from symbolic_music.datasets.midi_folder import MidiFolderCorpusDataset, MidiPartitionsDataset
from symbolic_music.datasets.music21_corpus import Music21CorpusDataset
from symbolic_music.datasets.token_shards import TokenShards, TokenShardsDataset
from symbolic_music.datasets.tokenizer import TokenizerDataset

__all__ = [
    "AudioFolderDataset",
    "HFCheckpointDataset",
    "InitCheckpointDataset",
    "JsonLinesDataset",
    "MidiDataset",
    "MidiFolderCorpusDataset",
    "MidiFolderDataset",
    "MidiPartitionsDataset",
    "Music21CorpusDataset",
    "TokenShards",
    "TokenShardsDataset",
    "TokenizerDataset",
    "TorchCheckpointDataset",
]
