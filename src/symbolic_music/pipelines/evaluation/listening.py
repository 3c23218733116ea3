"""evaluation: the blind listening test's ratings (written by the app) → a table per system."""

from __future__ import annotations

import logging

import pandas as pd

from symbolic_music.music.listening import listening_counts, listening_table, parse_ratings

log = logging.getLogger(__name__)


def summarize_listening(ratings: str) -> tuple[pd.DataFrame, dict]:
    """The ratings file's text → (``listening_summary``: one row per system, see
    ``music.listening.listening_table``; ``listening_metrics``: the counts of
    ``music.listening.listening_counts``). An empty or missing file gives an empty table."""
    records, skipped = parse_ratings(ratings)
    if skipped:
        log.warning("listening_ratings: skipped %d half-written or unreadable lines", skipped)
    counts = listening_counts(records, skipped)
    if counts["synthetic_records"]:
        log.warning("listening_ratings holds %d synthetic (test) records", counts["synthetic_records"])
    return listening_table(records), counts
