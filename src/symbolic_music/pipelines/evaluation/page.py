"""evaluation page node: ``report.html``, a listening page that needs no network.

Everything is embedded (plots and piano rolls as PNG, audio as OGG data URIs), so the file
plays offline and travels alone. The layout is ``report.html.j2`` beside this module.
"""

from __future__ import annotations

import base64
import io
from importlib import resources

import jinja2
import markupsafe
import matplotlib.pyplot as plt
import pandas as pd
from symusic import Score
from tqdm.auto import tqdm

from symbolic_music.music.audio import encode_audio, find_soundfont, normalize_loudness, render
from symbolic_music.music.notes import score_from_notes
from symbolic_music.music.plots import piano_roll_png
from symbolic_music.pipelines.evaluation.checks import confusion_figures, drift_figures
from symbolic_music.pipelines.evaluation.plots import plot_histograms, plot_ranking
from symbolic_music.pipelines.evaluation.report import (
    blanks,
    composer_lines,
    drift_lines,
    guard_lines,
    listening_lines,
    memorization_lines,
    reading,
    with_interval,
)

TEMPLATE = "report.html.j2"


def code_spans(text: str) -> markupsafe.Markup:
    """Markdown's `code` spans as HTML ``<code>``, everything else escaped."""
    parts = str(text).split("`")
    return markupsafe.Markup("").join(markupsafe.Markup("<code>{}</code>").format(p) if i % 2 else markupsafe.escape(p)
                                      for i, p in enumerate(parts))


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _figure_uri(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return _data_uri(buffer.getvalue(), "image/png")


class Clips:
    """Piano roll and audio of scores, as the page embeds them: mono OGG at the project's
    loudness, compressed harder than the generated audio files so that the page stays small."""

    def __init__(self, audio: dict, page: dict) -> None:
        self.audio, self.page = audio, page
        self.soundfont = find_soundfont(audio["soundfont"])

    def clip(self, score: Score, title: str) -> dict:
        samples = render(score, self.soundfont, self.audio["sample_rate"], self.audio["tail_seconds"])
        samples = normalize_loudness(samples.mean(axis=1, keepdims=True), self.audio["loudness_dbfs"], self.audio["peak_dbfs"])
        ogg = encode_audio(samples, self.audio["sample_rate"], "ogg", self.page["compression_level"])
        return {"title": title, "roll": _data_uri(piano_roll_png(score, width=6, height=2.2), "image/png"),
                "audio": _data_uri(ogg, "audio/ogg"), "seconds": round(len(samples) / self.audio["sample_rate"], 1)}


def _excerpt_score(notes: pd.DataFrame) -> Score:
    return score_from_notes(notes["pitch"], notes["start"], notes["duration"], notes["velocity"])


def system_clips(evaluation_pieces: pd.DataFrame, summary: pd.DataFrame, clips: Clips, per_system: int) -> list[dict]:
    """For the real test split and every set in the summary (ranking order): its first
    ``per_system`` excerpts with notes, as clips."""
    rows = []
    order = ["real/test", *summary["system"]]
    for system in tqdm(order, desc="page clips", unit="set"):
        excerpts = evaluation_pieces[evaluation_pieces["system"] == system]
        chosen = list(dict.fromkeys(excerpts["excerpt_id"]))[:per_system]
        rows.append({"system": system, "clips": [clips.clip(_excerpt_score(excerpts[excerpts["excerpt_id"] == e]), e) for e in chosen]})
    return rows


def task2_rows(generated_midi: dict[str, Score], clips: Clips, count: int) -> list[dict]:
    """The first ``count`` Task 2 prompts: prefix | generated continuation | real continuation."""
    folders = sorted({name.rsplit("/", 1)[0] for name in generated_midi if name.startswith("continuation/")})[:count]
    return [{"piece": folder.removeprefix("continuation/"),
             "clips": [clips.clip(generated_midi[f"{folder}/{part}"], part) for part in ("prefix", "continuation", "reference")
                       if f"{folder}/{part}" in generated_midi]} for folder in folders]


def ranking_table(summary: pd.DataFrame) -> list[dict]:
    """Rows of the ranking for the template: rank, set, counts, mean OA and JS with intervals."""
    table = pd.DataFrame({
        "rank": summary["rank"].map(lambda r: "" if pd.isna(r) else str(int(r))), "set": summary["system"],
        "pieces": summary["pieces"], "excerpts": summary["excerpts"], "mean OA": with_interval(summary, "mean_oa"),
        "JS of intervals": with_interval(summary, "js_interval"), "vs ceiling": summary.get("vs_ceiling", ""),
        "vs floor": summary.get("vs_floor", ""), "note": summary["note"],
    })
    return blanks(table, "–").to_dict(orient="records")


def write_report_page(
    evaluation_summary: pd.DataFrame, evaluation_metrics: dict, memorization_summary: pd.DataFrame, composer_accuracy: dict,
    drift_curves: pd.DataFrame, drift_verdicts: dict, listening_summary: pd.DataFrame, listening_metrics: dict,
    evaluation_pieces: pd.DataFrame, generated_midi: dict[str, Score], params: dict, generation_params: dict,
) -> str:
    """Summary, metrics and excerpts → ``report.html``: the guard's warnings, the ranking with its
    intervals and plots, a few excerpts of every set with piano roll and audio, Task 2 prompts
    side by side with the real continuation, and the real test excerpts for the ear."""
    page = params["page"]
    figures = {f"composer {name}": fig for name, fig in confusion_figures(composer_accuracy).items()}
    figures |= {f"drift {name}": fig for name, fig in drift_figures(drift_curves).items()}
    clips = Clips(generation_params["audio"], page)
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters["code"] = code_spans
    template = environment.from_string(resources.files(__package__).joinpath(TEMPLATE).read_text())
    fits = pd.DataFrame(evaluation_metrics["continuation_fit"])
    fit_rows = [] if fits.empty else pd.DataFrame({
        "task": fits["task"], "part": fits["part"], "pieces": fits["pieces"],
        **{f.replace("_", " "): with_interval(fits, f) for f in ("key_correlation", "density_log_ratio", "velocity_difference")},
    }).to_dict(orient="records")
    return template.render(
        warnings=[line.removeprefix("- ") for line in guard_lines(evaluation_metrics) if line.startswith("- ")],
        seconds=evaluation_metrics["excerpt_seconds"], reference=evaluation_metrics["reference"],
        ranking=ranking_table(evaluation_summary), reading=[line.removeprefix("- ") for line in reading(evaluation_summary, evaluation_metrics)],
        ranking_plot=_figure_uri(plot_ranking(evaluation_summary)),
        histogram_plot=_figure_uri(plot_histograms(evaluation_pieces, params)),
        systems=system_clips(evaluation_pieces, evaluation_summary, clips, page["clips_per_set"]),
        task2=task2_rows(generated_midi, clips, page["task2_rows"]), fits=fit_rows,
        likelihood=evaluation_metrics["likelihood"],
        memorization=blanks(memorization_summary.drop(columns=["max_copied_notes"])).to_dict(orient="records"),
        memorization_reading=[line.removeprefix("- ") for line in memorization_lines(memorization_summary)],
        composer_reading=[line.removeprefix("- ") for line in composer_lines(composer_accuracy)],
        drift_reading=[line.removeprefix("- ") for line in drift_lines(drift_verdicts)],
        listening_reading=[line.removeprefix("- ") for line in listening_lines(listening_summary, listening_metrics)],
        figures={name: _figure_uri(figure) for name, figure in figures.items()},
    )
