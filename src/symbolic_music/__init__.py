"""symbolic-music: learn the distribution of piano music from MIDI and sample from it."""

__version__ = "0.1.0"
