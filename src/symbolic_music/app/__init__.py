"""The web app (``make app``): generate and continue music, and a blind listening test.

Layout and wiring are in ``main``; the callbacks are plain functions in ``generate_tab`` and
``listening_tab``. Sampling is ``models.sampler``'s, audio is ``music.audio``'s.
"""
