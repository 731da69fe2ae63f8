"""Make the prompt files: `python -m tonalite.prompts.make [--output DIR] [--only ID ...]`.

Each text of `spoken_texts` is spoken by espeak-ng, then resampled by sox to 8 kHz mono 16-bit, trimmed of
silence and normalised to -3 dBFS; the beep and the hold music are synthesised by sox. Without dither
(`sox -D`), the same tools make the same bytes, so the committed files change only when a text does. Each
file is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tonalite.prompts import BEEP, HOLD_MUSIC, LANGUAGES, PROMPTS_DIR, spoken_texts

VOICES = {"fr": "fr-fr+f3", "en": "en-gb+f3"}
WORDS_PER_MINUTE = 150
_TO_TELEPHONY = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
_HOLD_CHORDS = (
    ("C4", "E4", "G4"),
    ("A3", "C4", "E4"),
    ("F3", "A3", "C4"),
    ("G3", "B3", "D4"),
    ("C4", "E4", "G4"),
    ("A3", "C4", "E4"),
    ("D4", "F4", "A4"),
    ("G3", "B3", "D4"),
)
_CHORD_SECONDS = 2
_TRIM_AND_NORMALISE = [
    *("silence", "1", "0.01", "0.1%", "reverse", "silence", "1", "0.01", "0.1%", "reverse"),
    *("norm", "-3", "pad", "0", "0.05"),
]
"""espeak-ng's silences cut at both ends (prompts are chained: "vous avez" "3" "nouveaux messages"), 50 ms kept
at the end."""


def speak(text: str, voice: str, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        spoken = Path(work) / "spoken.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(spoken), text],
            check=True,
            capture_output=True,
        )
        _into_place(["sox", "-D", str(spoken), *_TO_TELEPHONY], _TRIM_AND_NORMALISE, target, Path(work))


def make_beep(target: Path) -> None:
    """The tone before a recording: 880 Hz for 300 ms, away from the 1 kHz test tones a caller may send."""
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        _into_place(
            ["sox", "-D", "-n", *_TO_TELEPHONY],
            ["synth", "0.3", "sine", "880", "fade", "0.01", "0.3", "0.01", "norm", "-6"],
            target,
            Path(work),
        )


def make_hold_music(target: Path) -> None:
    """Plucked chords, two seconds each, looped by whoever plays them; quiet (-12 dBFS peak)."""
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        chords = []
        for index, notes in enumerate(_HOLD_CHORDS):
            chord = Path(work) / f"chord{index}.wav"
            generators = [word for note in notes for word in ("pluck", note)]
            plucked = ["-r", "48000", "-c", str(len(notes)), "-n", "-c", "1", "-b", "16", str(chord)]
            effects = ["synth", str(_CHORD_SECONDS), *generators, "remix", "-", "fade", "0", str(_CHORD_SECONDS), "0.2"]
            subprocess.run(["sox", "-D", *plucked, *effects], check=True, capture_output=True)
            chords.append(str(chord))
        _into_place(["sox", "-D", *chords, *_TO_TELEPHONY], ["norm", "-12"], target, Path(work))


def _into_place(command: list[str], effects: list[str], target: Path, work: Path) -> None:
    """Run sox `command`, writing to a temporary file then `effects`, and rename the result to `target`."""
    made = work / "made.wav"
    subprocess.run([*command, str(made), *effects], check=True, capture_output=True)
    os.replace(made, target)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=PROMPTS_DIR, help="where to write (default: the package)")
    parser.add_argument("--only", nargs="*", default=None, help="make these prompt ids only")
    args = parser.parse_args(argv)
    output: Path = args.output
    wanted = set(args.only) if args.only is not None else None
    for language in LANGUAGES:
        (output / language).mkdir(parents=True, exist_ok=True)
        for prompt_id, text in spoken_texts(language).items():
            if wanted is None or prompt_id in wanted:
                speak(text, VOICES[language], output / language / f"{prompt_id}.wav")
    if wanted is None:
        make_beep(output / BEEP.name)
        make_hold_music(output / HOLD_MUSIC.name)


if __name__ == "__main__":
    main()
