"""Build a small MAESTRO-v3-layout folder from the ten MAESTRO performances inside miditok's sdist.

    python -m symbolic_music.maestro_sample [--out data/01_raw/maestro-v3.0.0] [--sdist PATH] [--force]

It lets anyone try ``kedro run --env=maestro`` without downloading MAESTRO.
miditok's source distribution ships ``tests/MIDIs_one_track/Maestro_1.mid`` … ``Maestro_10.mid``;
this command writes them as ``<out>/<year>/Maestro_N.midi`` plus ``<out>/maestro-v3.0.0.csv`` with
MAESTRO v3's columns, ``duration`` in seconds as symusic reads it (``Score(path).to("second").end()``).

- The sdist of the *installed* miditok version is fetched with ``pip download --no-binary miditok
  --no-deps`` into a temporary folder that is deleted afterwards (``--no-binary miditok`` rather than
  ``:all:``, which would also make pip build miditok's build backend from source). pip's own output
  is the progress report: the download is the only step that takes seconds; checking and writing
  the ten files takes a fraction of one. ``--sdist`` names an already-downloaded ``.tar.gz``
  instead; nothing is downloaded then.
- Every file must be readable by symusic and hold notes, or nothing is written.
- The folder is built next to ``--out`` and renamed into place, so an interrupted run leaves no
  half-written corpus. An existing non-empty ``--out`` is kept unless ``--force`` is given.
- Every failure the user can fix (no network, a missing or broken sdist, an unreadable file, an
  existing ``--out``) prints one ``error: …`` line and exits with status 2.

Which performances are these? miditok's repository holds no record: the files arrived already
named ``Maestro_N.mid`` in its first commit (0b178be, 2021-08-11) and were only moved since, and
their MIDI carries no title (no marker, text or lyric events). They were identified against
MAESTRO v3's metadata (``maestro-v3.0.0.csv``, 1,276 rows, as copied into the public repository
alvaro-lg/TFG; v2's 1,282 rows give the same matches) from three independent clues:

1. Duration: MAESTRO's ``duration`` agrees with the symusic end time to within 0.1–2.2 s
   (Δ below: MAESTRO minus symusic; MAESTRO's durations are not the MIDI end times).
2. Music: the key of the pitch-class histogram (Krumhansl profiles), the final chord and the
   opening notes, checked against the candidate pieces.
3. Recording: all ten have MAESTRO's 384 ticks per quarter and 120 bpm header. Maestro_6-9 carry a
   track name (``07/05  1~7``, ``07/01  4~5``, ``07/02  1~3`` twice) whose count of items matches
   the 2014 session in the MAESTRO file name (7 players in ``04-07-08-10-12-15-17_R2``, 2 in
   ``14-15_R1``, 3 in ``16-18_R1``); Maestro_8 and 9 share a track name and a session.

- Maestro_1: Chopin, Nocturne in B Major, Op. 9, No. 3 (2009, test), Δ -2.2 s. B major, ends softly
  on B; an F#4 pick-up, then D#5-D5-D#5 over a B2 pedal. The 2014 take is +3.8 s; the only B major
  rows nearer are Bach preludes and fugues, and the file has no fugue.
- Maestro_2: Liszt, Dante Sonata (2009, train), Δ -0.2 s. Opens with A-Eb tritone octaves, ends in
  D major.
- Maestro_3: Schubert, Sonata in B-flat Major, D. 962 (2009, train), Δ -1.0 s. Bb major with a Bb
  minor trio: D. 960's scherzo (MAESTRO numbers the four movements of D. 960 "D. 960" to "D. 963").
- Maestro_4: Schubert, Sonata in B-flat Major, D. 963 (2009, train), Δ -0.9 s. A bare G octave,
  then G7 to C minor, ending on Bb: D. 960's finale, same session as Maestro_3. The 2004 Chopin
  Ballade No. 1 at +0.1 s does not fit: it ends in G minor, this file on Bb octaves.
- Maestro_5: Beethoven, Sonata No. 21 in  C Major, Op. 53 (2009, train), Δ -1.3 s, the only row
  within 2 s. Repeated low C major chords.
- Maestro_6: Schubert, Sonata in A Major, D. 959 (Complete) (2014, train), Δ -0.6 s, the only row
  within 2 s. A major.
- Maestro_7: Schumann, Symphonic Etudes, Op. 13 (2014, train), Δ -0.2 s, the only row within 2 s.
  C# minor, ends in C# major.
- Maestro_8: Beethoven, Sonata No. 11 in E-flat Major, Op. 22 (Complete) (2014, validation),
  Δ -0.5 s, the only row within 2 s. Bb major: Op. 22 is in B-flat, MAESTRO's title is wrong.
- Maestro_9: Beethoven, Sonata No. 28 in A Major, Op. 101 (Complete) (2014, train), Δ -1.3 s, the
  only row within 2 s. Opens on E major, ends in A major.
- Maestro_10: Giuseppe Verdi / Franz Liszt, Rigoletto Parap. (2006, train), Δ -0.3 s. Db major,
  octave turn figures between pauses, a loud ending; the two nearer rows do not fit (Chopin's
  Polonaise in E-flat minor ends in minor, his Nocturne in Db softly). The year is a guess: the 2008 and 2017 Rigoletto
  rows (Δ -2.4 and -2.2 s, composer "Franz Liszt") fit as well. Its pedal data (one soft-pedal
  event) is unlike the 2009 and 2014 files.

Composer and title are MAESTRO's own strings, errors included, so the sample's labels agree with
the full dataset. A file whose bytes differ from the ones identified here (another miditok
release, a test's fake sdist) is not guessed: it gets the composer ``UNKNOWN_COMPOSER``, its file
name as title and year ``UNKNOWN_YEAR``. Composer conditioning then has a single class.

Splits: the sample is a small corpus of its own, 6 train / 2 validation / 2 test. MAESTRO v3's
own split (``maestro_split``, 8 / 1 / 1 here) would leave one validation and one test piece: one
piece is no ceiling to measure against and gives no interval over pieces, and its test piece
(Chopin) has no composer in train. So the two held-out pieces of each split are a Schubert and a
Beethoven movement (Maestro_3 and Maestro_8 for validation, Maestro_4 and Maestro_9 for test),
composers that train also holds; Maestro_1 (MAESTRO's test piece) trains.
Unidentified files are split by their position in numeric order along ``FALLBACK_SPLIT_CYCLE``
(3 train, 1 validation, 1 test per five files, so ten files give 6 / 2 / 2).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd
from symusic import Score

from symbolic_music.music.corpus import MAESTRO_COLUMNS

DEFAULT_OUT = Path("data/01_raw/maestro-v3.0.0")
CSV_NAME = "maestro-v3.0.0.csv"
SAMPLE_MEMBER = re.compile(r"^[^/]+/tests/MIDIs_one_track/(Maestro_(\d+))\.mid$")
HASH_CHARS = 16  # a 64-bit sha256 prefix: tells the files apart and notices a changed file
UNKNOWN_COMPOSER = "Unknown (miditok test file)"
UNKNOWN_YEAR = 0
FALLBACK_SPLIT_CYCLE = ("train", "train", "train", "validation", "test")
EXIT_USER_ERROR = 2


@dataclass(frozen=True)
class Performance:
    """One identified file: MAESTRO v3's labels for it and the file it matches there."""

    sha256: str  # first HASH_CHARS hex digits of the miditok file's sha256
    composer: str
    title: str
    year: int
    split: str  # the sample's split (see the module docstring)
    maestro_split: str  # MAESTRO v3's own split, for provenance only
    maestro_filename: str  # MAESTRO v3's midi_filename, for provenance only


KNOWN_PERFORMANCES = {
    "Maestro_1": Performance("de94744a9c06c2c1", "Frédéric Chopin", "Nocturne in B Major, Op. 9, No. 3", 2009, "train", "test",
                             "2009/MIDI-Unprocessed_02_R1_2009_03-06_ORIG_MID--AUDIO_02_R1_2009_02_R1_2009_03_WAV.midi"),
    "Maestro_2": Performance("df1ffec3f938dcca", "Franz Liszt", "Dante Sonata", 2009, "train", "train",
                             "2009/MIDI-Unprocessed_05_R1_2009_01-02_ORIG_MID--AUDIO_05_R1_2009_05_R1_2009_02_WAV.midi"),
    "Maestro_3": Performance("cab488a8c7dec968", "Franz Schubert", "Sonata in B-flat Major, D. 962", 2009, "validation", "train",
                             "2009/MIDI-Unprocessed_10_R2_2009_01_ORIG_MID--AUDIO_10_R2_2009_10_R2_2009_03_WAV.midi"),
    "Maestro_4": Performance("2e96c191d000c379", "Franz Schubert", "Sonata in B-flat Major, D. 963", 2009, "test", "train",
                             "2009/MIDI-Unprocessed_10_R2_2009_01_ORIG_MID--AUDIO_10_R2_2009_10_R2_2009_04_WAV.midi"),
    "Maestro_5": Performance("8f3bd5b8a46fce76", "Ludwig van Beethoven", "Sonata No. 21 in  C Major, Op. 53", 2009, "train", "train",
                             "2009/MIDI-Unprocessed_11_R1_2009_01-05_ORIG_MID--AUDIO_11_R1_2009_11_R1_2009_01_WAV.midi"),
    "Maestro_6": Performance("7d80076155faf612", "Franz Schubert", "Sonata in A Major, D. 959 (Complete)", 2014, "train", "train",
                             "2014/MIDI-UNPROCESSED_04-07-08-10-12-15-17_R2_2014_MID--AUDIO_08_R2_2014_wav.midi"),
    "Maestro_7": Performance("e1665de32682a920", "Robert Schumann", "Symphonic Etudes, Op. 13", 2014, "train", "train",
                             "2014/MIDI-UNPROCESSED_14-15_R1_2014_MID--AUDIO_15_R1_2014_wav--6.midi"),
    "Maestro_8": Performance("050d43da091000ea", "Ludwig van Beethoven", "Sonata No. 11 in E-flat Major, Op. 22 (Complete)", 2014, "validation", "validation", "2014/MIDI-UNPROCESSED_16-18_R1_2014_MID--AUDIO_16_R1_2014_wav--2.midi"),
    "Maestro_9": Performance("306f3e8ca0aeb1d7", "Ludwig van Beethoven", "Sonata No. 28 in A Major, Op. 101 (Complete)", 2014, "test", "train", "2014/MIDI-UNPROCESSED_16-18_R1_2014_MID--AUDIO_18_R1_2014_wav--2.midi"),
    "Maestro_10": Performance("20e06e3e391c02fc", "Giuseppe Verdi / Franz Liszt", "Rigoletto Parap.", 2006, "train", "train",
                              "2006/MIDI-Unprocessed_15_R1_2006_01-05_ORIG_MID--AUDIO_15_R1_2006_04_Track04_wav.midi"),
}


class SampleError(Exception):
    """A failure the user can fix; ``main`` prints it on one line and exits with status 2."""


def download_sdist(version: str, folder: Path) -> Path:
    """Fetch miditok ``version``'s source distribution from the package index into ``folder``.

    pip's progress goes to stdout as it comes; its stderr is kept for the error message. Raises
    ``SampleError`` with pip's own last error line (no network, unknown version, …).
    """
    command = [sys.executable, "-m", "pip", "download", f"miditok=={version}",
               "--no-binary", "miditok", "--no-deps", "-d", str(folder)]
    result = subprocess.run(command, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR")]
        cause = (errors or lines or [f"pip exited with status {result.returncode}"])[-1]
        raise SampleError(f"could not download miditok=={version}'s sdist with pip: {cause}")
    found = sorted(folder.glob("miditok-*.tar.gz"))
    if len(found) != 1:
        raise SampleError(f"pip download left {len(found)} miditok .tar.gz files in {folder}, expected 1")
    return found[0]


def read_sample_files(sdist: Path) -> dict[str, bytes]:
    """The sdist's ``tests/MIDIs_one_track/Maestro_N.mid`` files as ``{"Maestro_N": bytes}``, in
    numeric order (Maestro_2 before Maestro_10). Raises ``SampleError`` if there are none."""
    try:
        with tarfile.open(sdist, "r:gz") as archive:
            found = {}
            for member in archive.getmembers():
                match = SAMPLE_MEMBER.match(member.name)
                if match and member.isfile():
                    found[match.group(1)] = (int(match.group(2)), archive.extractfile(member).read())
    except FileNotFoundError:
        raise SampleError(f"no sdist at {sdist}") from None
    except (tarfile.TarError, EOFError, OSError) as error:
        raise SampleError(f"{sdist} is not a readable .tar.gz: {error}") from None
    if not found:
        raise SampleError(f"{sdist} holds no tests/MIDIs_one_track/Maestro_*.mid files")
    return {stem: data for stem, (_, data) in sorted(found.items(), key=lambda item: item[1][0])}


def labels_of(stem: str, data: bytes, position: int) -> dict:
    """MAESTRO labels of one file: its identified performance if the bytes match, else the
    placeholder composer, its name as title, ``UNKNOWN_YEAR`` and the fallback split."""
    known = KNOWN_PERFORMANCES.get(stem)
    if known is not None and hashlib.sha256(data).hexdigest()[:HASH_CHARS] == known.sha256:
        return {"canonical_composer": known.composer, "canonical_title": known.title, "year": known.year, "split": known.split}
    split = FALLBACK_SPLIT_CYCLE[position % len(FALLBACK_SPLIT_CYCLE)]
    return {"canonical_composer": UNKNOWN_COMPOSER, "canonical_title": stem, "year": UNKNOWN_YEAR, "split": split}


def write_corpus(files: dict[str, bytes], root: Path) -> tuple[pd.DataFrame, list[int]]:
    """Write ``files`` as ``root/<year>/<name>.midi`` plus the metadata CSV.

    Returns the metadata table (MAESTRO v3 columns) and each file's note count. Raises
    ``SampleError`` naming the first file symusic cannot read or that holds no notes.
    """
    rows, note_counts = [], []
    for position, (stem, data) in enumerate(files.items()):
        labels = labels_of(stem, data, position)
        midi_filename = PurePosixPath(f"{labels['year']:04d}") / f"{stem}.midi"
        path = root / midi_filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        try:
            score = Score(str(path))
        except Exception as error:  # symusic raises RuntimeError/ValueError on a broken file
            raise SampleError(f"{stem}.mid: symusic cannot read it: {error}") from None
        if score.note_num() == 0:
            raise SampleError(f"{stem}.mid holds no notes")
        note_counts.append(score.note_num())
        rows.append({**labels, "midi_filename": str(midi_filename),
                     "audio_filename": str(midi_filename.with_suffix(".wav")),
                     "duration": float(score.to("second").end())})
    metadata = pd.DataFrame(rows)[MAESTRO_COLUMNS]
    metadata.to_csv(root / CSV_NAME, index=False)
    return metadata, note_counts


def check_target(out: Path, force: bool) -> None:
    """Raise ``SampleError`` unless ``out`` is absent, an empty folder, or ``force`` is set."""
    if out.exists() and not out.is_dir():
        raise SampleError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise SampleError(f"--out {out} already exists and is not empty; pass --force to replace it")


def publish(staging: Path, out: Path) -> None:
    """Move the finished ``staging`` folder to ``out``, replacing whatever ``out`` held."""
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex}")
    if out.exists():
        out.rename(old)
    try:
        staging.rename(out)
    except OSError:
        if old.exists():  # put the previous folder back rather than leave no --out at all
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def build_sample(sdist: Path, out: Path) -> tuple[pd.DataFrame, list[int]]:
    """Read ``sdist``, build the folder beside ``out`` and rename it into place."""
    files = read_sample_files(sdist)
    staging = out.with_name(f".{out.name}.partial-{uuid.uuid4().hex}")
    staging.mkdir(parents=True)  # unlike mkdtemp's 0700, the umask decides who may read it
    try:
        metadata, note_counts = write_corpus(files, staging)
        publish(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return metadata, note_counts


def summary(metadata: pd.DataFrame, note_counts: list[int]) -> str:
    """One line per performance (file, split, duration, notes, composer), then the totals."""
    lines = [
        f"  {PurePosixPath(row.midi_filename).stem:<11} {row.split:<10} {row.duration:8.1f} s {notes:6d} notes  {row.canonical_composer}"
        for row, notes in zip(metadata.itertuples(index=False), note_counts)
    ]
    counts = metadata["split"].value_counts()
    lines.append(f"  {len(metadata)} performances, {metadata['duration'].sum() / 60:.1f} min, {sum(note_counts)} notes; "
                 + ", ".join(f"{split} {counts.get(split, 0)}" for split in ("train", "validation", "test")))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder to create (default {DEFAULT_OUT})")
    parser.add_argument("--sdist", type=Path, help="an already-downloaded miditok-*.tar.gz (default: fetch it with pip)")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out")
    args = parser.parse_args(argv)
    try:
        check_target(args.out, args.force)
        if args.sdist is not None:
            metadata, note_counts = build_sample(args.sdist, args.out)
        else:
            version = importlib.metadata.version("miditok")
            with tempfile.TemporaryDirectory(prefix="miditok-sdist-") as folder:
                print(f"downloading miditok=={version}'s sdist with pip…", flush=True)
                metadata, note_counts = build_sample(download_sdist(version, Path(folder)), args.out)
    except SampleError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"wrote {args.out}/{CSV_NAME} and:\n{summary(metadata, note_counts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
