"""generation node: every generated file as audio (``music.audio``)."""

from __future__ import annotations

import logging

from symusic import Score

from symbolic_music.music.audio import find_soundfont, score_audio, validate_audio_settings
from symbolic_music.parallel import parallel_map

log = logging.getLogger(__name__)


def render_audio(generated_midi: dict[str, Score], params: dict) -> dict[str, bytes]:
    """Generated MIDI → ``{name: encoded audio bytes}`` (``generation.audio``): rendered with a
    SoundFont, brought to one loudness and encoded (OGG Vorbis by default); see ``music.audio``.
    ``{}`` and a log line when ``generation.audio.enabled`` is false. A missing SoundFont is an
    error naming ``generation.audio.soundfont``, raised before any rendering. Files are rendered
    in ``generation.audio.num_workers`` processes."""
    settings = params["audio"]
    if not settings["enabled"]:
        log.info("Audio rendering is off (generation.audio.enabled: false)")
        return {}
    validate_audio_settings(settings)
    soundfont = find_soundfont(settings["soundfont"])
    clips = parallel_map(score_audio, generated_midi.values(), settings["num_workers"], desc="render audio", unit="file",
                         shared={"soundfont": soundfont, "settings": settings})
    return dict(zip(generated_midi, clips))
