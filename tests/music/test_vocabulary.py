"""``Vocabulary``: one explicit id space, and a file round trip that cannot shift an id."""

from __future__ import annotations

import copy
import json

import pytest
from kedro.io.core import DatasetError, Version

from symbolic_music.datasets import TokenizerDataset
from symbolic_music.music.tokens import build_tokenizer, train_bpe
from symbolic_music.music.vocabulary import Vocabulary
from tests.conftest import make_score


def _notes(score):
    return sorted((n.time, n.pitch, n.duration) for t in score.tracks for n in t.notes)


@pytest.fixture(scope="module")
def base(params) -> Vocabulary:
    return Vocabulary(build_tokenizer(params["data_engineering"]["tokenizer"]))


def _variants(base: Vocabulary) -> dict[str, Vocabulary]:
    """The base vocabulary, with composer tokens, and with BPE then composer tokens."""
    composers = Vocabulary(copy.deepcopy(base.tokenizer))
    composers.add_composers(["Ada", "Ben", "other"])
    trained = copy.deepcopy(base.tokenizer)
    train_bpe(trained, [make_score(seed, 120) for seed in range(6)], len(base) + 60)
    bpe = Vocabulary(trained)
    bpe.add_composers(["Ada", "other"])
    return {"base": base, "composers": composers, "bpe": bpe}


def test_composer_tokens_follow_the_music_tokens_and_never_move_them(base):
    vocabulary = _variants(base)["composers"]
    music = {t: i for t, i in vocabulary.token_ids().items() if not t.startswith("Composer_")}
    assert music == base.token_ids()
    assert sorted(vocabulary.composers.values()) == [len(base), len(base) + 1, len(base) + 2]
    before = vocabulary.token_ids()
    vocabulary.add_composers(["Cy", "Ada"])  # a fine-tune adds a composer; a known one is kept
    assert {t: vocabulary.token_ids()[t] for t in before} == before
    assert vocabulary.composers["Cy"] == len(base) + 3 and len(vocabulary) == len(base) + 4


@pytest.mark.parametrize("variant", ["base", "composers", "bpe"])
def test_a_saved_and_reloaded_vocabulary_has_the_same_ids_and_decodes_the_same(base, variant, tmp_path):
    vocabulary = _variants(base)[variant]
    TokenizerDataset(str(tmp_path / "t.json"), version=Version(None, None)).save(vocabulary)
    loaded = TokenizerDataset(str(tmp_path / "t.json"), version=Version(None, None)).load()
    assert loaded is not vocabulary
    assert loaded.token_ids() == vocabulary.token_ids()
    assert loaded.composers == vocabulary.composers
    if variant == "bpe":
        assert loaded.tokenizer._model.to_str() == vocabulary.tokenizer._model.to_str()
    score = make_score(11, 60)
    ids = vocabulary.encode(score)
    assert loaded.encode(score) == ids
    assert _notes(loaded.decode(loaded.header("Ada") + ids)) == _notes(vocabulary.decode(ids))
    assert loaded.grammar_error_share(ids) == 0.0


def test_a_file_whose_ids_would_shift_is_refused(base, tmp_path):
    dataset = TokenizerDataset(str(tmp_path / "t.json"))
    dataset.save(_variants(base)["composers"])
    content = json.loads((tmp_path / "t.json").read_text())
    content["config"]["special_tokens"].append("Extra_None")  # what the old add_to_vocab did: ids after it move
    (tmp_path / "t.json").write_text(json.dumps(content))
    with pytest.raises(DatasetError, match="t.json: token ids differ from those saved"):
        dataset.load()
    del content["symbolic_music"]
    (tmp_path / "t.json").write_text(json.dumps(content))
    with pytest.raises(DatasetError, match="no saved token ids"):
        dataset.load()


def test_convert_goes_through_token_strings_into_bpe(base):
    bpe = _variants(base)["bpe"]
    score = make_score(3, 80)
    base_ids = base.encode(score)
    converted = bpe.convert(base_ids, base)
    assert converted == bpe.encode(score) and len(converted) < len(base_ids)
    assert bpe.base_tokens(converted) == base.base_tokens(base_ids)
    assert base.convert(converted, bpe) == base_ids


def test_header_and_unknown_composers(base):
    vocabulary = _variants(base)["composers"]
    assert vocabulary.header("Ada") == [vocabulary.bos_id, vocabulary.composers["Ada"]]
    assert vocabulary.header("Nobody") == [vocabulary.bos_id, vocabulary.composers["other"]]
    assert base.header("Ada") == [base.bos_id]
    assert vocabulary.music_ids(vocabulary.header("Ada") + [5, vocabulary.eos_id]) == [5]


def test_grammar_errors_are_zero_on_real_tokens_and_counted_on_broken_ones(base):
    ids = base.encode(make_score(2, 60))
    assert base.grammar_error_share(ids) == 0.0
    pitch = next(i for t, i in base.token_ids().items() if t.startswith("Pitch_"))
    assert base.grammar_error_share([*ids[:10], pitch, pitch, pitch, *ids[10:]]) > 0


def test_the_timeline_agrees_with_the_decoded_score(base):
    """Seconds tracked token by token equal symusic's seconds of the decoded piece."""
    score = make_score(5, 80)
    score.tempos.append(type(score.tempos[0])(480 * 20, 90.0))  # a tempo change in bar 6
    ids = base.encode(score)
    timeline = base.timeline().feed_all(base.base_tokens(ids))
    decoded = base.decode(ids).to("second")
    assert timeline.end_seconds == pytest.approx(decoded.end(), abs=1e-3)
    assert timeline.bar + 1 == len([t for t in base.base_tokens(ids) if t == "Bar_None"])
