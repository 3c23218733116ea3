"""The app's layout, its loading from the catalog, and ``python -m symbolic_music.app``.

    python -m symbolic_music.app [--host 127.0.0.1] [--port 7860] [--env ENV] [--project PATH]

Loads the latest ``transformer`` and ``transformer_tokenizer`` (the Generate tab), the latest
``generated_midi``, ``test_tokens`` and ``tokenizer`` (the Listening test tab) and the
``listening_ratings`` dataset from the project's catalog, as ``python -m symbolic_music.generate``
does. Without a trained model or generated music the app still starts, and says which command
makes them. Gradio's analytics are off: the app makes no outbound request.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
from functools import partial
from pathlib import Path

from symbolic_music.app.generate_tab import NO_COMPOSER, NO_MODEL, Studio, composer_choices, continue_piece, generate_piece, preset_values
from symbolic_music.app.listening_tab import RATINGS, ListeningTest, excerpt_pool, next_pair, submit_rating
from symbolic_music.generate import load_project

log = logging.getLogger(__name__)
INTRO = ("# symbolic-music\nPiano music from a transformer trained on MIDI. **Generate** samples new music (or continues "
         "your MIDI file); the **Listening test** plays pairs of excerpts blind and records which one you find more musical.")
LISTENING_HELP = ("Each pair is a real excerpt against a generated one, or two generated excerpts, in random order. Listen to "
                  "both, pick the more musical one, and/or rate each from 1 (not music) to 5 (fully musical). Which is which "
                  "is never shown; it is saved with your judgement for the evaluation report.")


def validate_app_settings(settings: dict, presets: dict) -> None:
    """``ValueError`` naming the ``app`` parameter that cannot work."""
    for key in ("port", "max_upload_bytes", "max_prompt_seconds", "max_seconds", "default_seconds"):
        if settings[key] <= 0:
            raise ValueError(f"app.{key} must be positive, got {settings[key]}")
    if settings["default_seconds"] > settings["max_seconds"]:
        raise ValueError(f"app.default_seconds ({settings['default_seconds']}) exceeds app.max_seconds ({settings['max_seconds']})")
    if settings["default_preset"] not in presets:
        raise ValueError(f"app.default_preset {settings['default_preset']!r} is not one of generation.presets {list(presets)}")
    listening = settings["listening"]
    if listening["excerpt_seconds"] <= 0 or listening["real_pieces"] < 0 or not 0 <= listening["real_pair_share"] <= 1:
        raise ValueError("app.listening needs excerpt_seconds > 0, real_pieces >= 0 and real_pair_share in [0, 1], "
                         f"got {listening}")


def load_resources(project: Path, env: str | None, work_dir: Path) -> tuple[Studio, ListeningTest]:
    """The two tabs' inputs from the project's catalog (latest versions); files go under ``work_dir``."""
    catalog, params = load_project(project, env)
    settings, generation = params["app"], params["generation"]
    validate_app_settings(settings, generation["presets"])
    try:
        model, vocabulary, problem = catalog["transformer"].load(), catalog["transformer_tokenizer"].load(), None
    except Exception as error:  # DatasetError while nothing was trained
        model, vocabulary, problem = None, None, NO_MODEL.format(error=str(error).splitlines()[0])
    studio = Studio(model, vocabulary, generation, settings, work_dir / "generate", problem)
    listening = settings["listening"]
    generated, real = _load_or_none(catalog, "generated_midi") or {}, {}
    tokens, base = _load_or_none(catalog, "test_tokens"), _load_or_none(catalog, "tokenizer")
    if tokens and base is not None:
        real = {piece: base.decode(ids) for piece, ids in sorted(tokens.items())[: listening["real_pieces"]]}
    pool = excerpt_pool(generated, real, listening)
    test = ListeningTest(pool, catalog["listening_ratings"], listening, generation["audio"], work_dir / "listening",
                         random.Random(listening["seed"]))
    return studio, test


def _load_or_none(catalog, name: str):
    try:
        return catalog[name].load()
    except Exception as error:  # DatasetError while nothing was generated
        log.warning("%s is not available (%s)", name, str(error).splitlines()[0])
        return None


def build_app(studio: Studio, listening: ListeningTest):
    """The Gradio app: layout and wiring only; every callback is a function of ``generate_tab``
    or ``listening_tab`` bound to ``studio`` or ``listening``."""
    import gradio as gr

    presets, settings = studio.generation["presets"], studio.settings
    temperature, top_k, top_p, min_p = preset_values(studio, settings["default_preset"])
    with gr.Blocks(title="symbolic-music", analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Generate"):
            with gr.Row():
                with gr.Column():
                    composer = gr.Dropdown(composer_choices(studio), value=NO_COMPOSER, label="Composer")
                    preset = gr.Dropdown(list(presets), value=settings["default_preset"], label="Preset (sets the sliders)")
                    temperature = gr.Slider(0.05, 2.0, temperature, step=0.05, label="Temperature")
                    top_k = gr.Slider(0, 200, top_k, step=1, label="Top-k (0 = off)")
                    top_p = gr.Slider(0.05, 1.0, top_p, step=0.01, label="Top-p (1 = off)")
                    min_p = gr.Slider(0.0, 0.5, min_p, step=0.01, label="Min-p (0 = off)")
                    seed = gr.Number(studio.generation["seed"], precision=0, label="Seed")
                    seconds = gr.Slider(1, settings["max_seconds"], settings["default_seconds"], step=1, label="Seconds of new music")
                    upload = gr.File(label="MIDI file to continue (optional)", file_types=[".mid", ".midi"], type="filepath")
                    with gr.Row():
                        generate = gr.Button("Generate", variant="primary")
                        extend = gr.Button("Continue")
                with gr.Column():
                    message = gr.Markdown(studio.problem or "Choose settings and press **Generate**.")
                    roll = gr.Image(label="Piano roll", type="filepath", interactive=False)
                    audio = gr.Audio(label="Listen", type="filepath", interactive=False)
                    midi = gr.File(label="MIDI", interactive=False)
            last = gr.State(None)
            sliders, shown = [temperature, top_k, top_p, min_p], [message, roll, audio, midi, last]
            preset.change(partial(preset_values, studio), preset, sliders, api_name="preset")
            # one queue for both: one request at a time uses the model and pyplot (not thread-safe)
            generate.click(partial(generate_piece, studio), [composer, *sliders, seed, seconds, upload, last], shown, api_name="generate",
                           concurrency_id="model")
            extend.click(partial(continue_piece, studio), [last, *sliders, seed, seconds], shown, api_name="continue", concurrency_id="model")
        with gr.Tab("Listening test"):
            gr.Markdown(LISTENING_HELP)
            status = gr.Markdown(listening.problem or "Press **New pair** to start.")
            with gr.Row():
                audio_a, audio_b = gr.Audio(label="A", type="filepath", interactive=False), gr.Audio(label="B", type="filepath", interactive=False)
            preferred = gr.Radio(["A", "B"], label="Which is more musical?")
            with gr.Row():
                rating_a, rating_b = gr.Radio(list(RATINGS), label="Rate A (1-5)"), gr.Radio(list(RATINGS), label="Rate B (1-5)")
            with gr.Row():
                new_pair = gr.Button("New pair")
                submit = gr.Button("Submit", variant="primary")
            pair = gr.State(None)
            shown = [status, audio_a, audio_b, preferred, rating_a, rating_b, pair]
            new_pair.click(partial(next_pair, listening), pair, shown, api_name="next_pair", concurrency_limit=None)
            submit.click(partial(submit_rating, listening), [preferred, rating_a, rating_b, pair], shown, api_name="submit",
                         concurrency_limit=None)
    return demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="address to bind (default: app.host, 127.0.0.1); 0.0.0.0 serves the network")
    parser.add_argument("--port", type=int, default=None, help="port (default: app.port)")
    parser.add_argument("--env", default=None, help="Kedro environment whose catalog holds the model (default: as kedro run)")
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="project root (default: current folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    with tempfile.TemporaryDirectory(prefix="symbolic_music_app_") as work_dir:
        try:
            studio, listening = load_resources(args.project, args.env, Path(work_dir))
        except Exception as error:  # not a project, or a bad app parameter
            print(f"error: cannot start the app from '{args.project}': {error}", file=sys.stderr)
            return 2
        host, port = args.host or studio.settings["host"], args.port or studio.settings["port"]
        build_app(studio, listening).launch(server_name=host, server_port=port, max_file_size=studio.settings["max_upload_bytes"])
    return 0
