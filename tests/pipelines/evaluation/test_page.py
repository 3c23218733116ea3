"""report.html: self-contained, and it plays in a real (headless) browser without the network."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from kedro.io import DataCatalog, MemoryDataset

from symbolic_music.pipelines import evaluation
from tests.browser import chromium_page
from tests.conftest import make_score, run_pipeline
from tests.pipelines.evaluation.test_pipeline import METRICS, _random_pieces, _split_notes


@pytest.fixture(scope="module")
def page(params) -> str:
    notes = _split_notes({"test": [0, 1, 2, 3], "validation": [6, 7, 8]})
    generated = {f"unconditioned/balanced/sample_{i:03d}": make_score(20 + i) for i in range(3)}
    generated |= {"continuation/t__0/prefix": make_score(30, 8), "continuation/t__0/continuation": make_score(31, 40),
                  "continuation/t__0/reference": make_score(32, 40)}
    manifest = {"real_test": {"pieces": 4, "grammar_error_share": 0.0, "notes_per_token": 0.25},
                "files": {}, "sets": {"unconditioned/balanced": {"files": 3, "grammar_error_share": 0.3, "notes_per_token": 0.25}}}
    catalog = DataCatalog({"params:evaluation": MemoryDataset(params["evaluation"]), "params:generation": MemoryDataset(params["generation"])})
    inputs = {"generated_midi": generated, "baseline_midi": _random_pieces(notes, 3, 30.0), "notes": notes, "generation_manifest": manifest, "listening_ratings": "", **METRICS}
    return run_pipeline(evaluation.create_pipeline(), catalog, inputs)["evaluation_page"]


def test_the_page_is_self_contained(page):
    assert '<table id="ranking">' in page and "not music yet" in page
    sources = re.findall(r'src="([^"]+)"', page)
    assert sources and all(s.startswith("data:") for s in sources)
    assert not re.search(r"(?:href|src)=\"(?:https?:)?//", page)
    # real test + 5 sets (validation, generated, random, Task 2 continuation and reference), 2 clips each; one Task 2 row of 3
    assert page.count("<audio") == (1 + 5) * 2 + 3


def test_the_page_plays_in_a_browser_offline(page, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(page)
    with chromium_page() as browser:
        browser.goto(path.as_uri())
        browser.wait_for_function("Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1 || a.error)", timeout=60_000)
        audio = browser.evaluate("Array.from(document.querySelectorAll('audio')).map(a => ({error: a.error && a.error.code, duration: a.duration}))")
        tables = browser.evaluate("document.querySelectorAll('table#ranking tbody tr').length")
        browser.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        requests = browser.requests
    assert tables == 5 and len(audio) == 15
    assert all(a["error"] is None and a["duration"] > 0 for a in audio), audio
    assert all(url.startswith(("file:", "data:")) for url in requests), [u for u in requests if not u.startswith(("file:", "data:"))]
    assert (tmp_path / "report.png").stat().st_size > 10_000
    shutil.copy(tmp_path / "report.png", Path(__file__).parents[3] / "data" / "08_reporting" / "report_test_screenshot.png")
