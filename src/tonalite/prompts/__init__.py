"""The voice prompts and the hold music Tonalite plays: 8 kHz mono 16-bit WAV files in this package, one
directory per language, made from `catalogue.toml` by `python -m tonalite.prompts.make` with espeak-ng and
sox (no third-party recording). Besides the catalogue's sentences, each language has the numbers 0 to 99
(`number_42`), the days (`day_0` is Monday) and the months (`month_1` is January), for what is spoken with
figures in it: "vous avez 3 nouveaux messages", a phone number, when a message came.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).parent
LANGUAGES = ("fr", "en")
BEEP = PROMPTS_DIR / "beep.wav"
HOLD_MUSIC = PROMPTS_DIR / "hold_music.wav"
SPOKEN_NUMBERS = range(100)

_DAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip


@cache
def spoken_texts(language: str) -> dict[str, str]:
    """Every prompt id of `language` and the text it speaks."""
    sentences: dict[str, str] = tomllib.loads((PROMPTS_DIR / "catalogue.toml").read_text("utf-8"))[language]
    return {
        **sentences,
        **{f"number_{number}": str(number) for number in SPOKEN_NUMBERS},
        **{f"day_{index}": day for index, day in enumerate(_DAYS[language])},
        **{f"month_{index}": month for index, month in enumerate(_MONTHS[language], start=1)},
    }


def prompt_path(language: str, prompt_id: str) -> Path:
    """The file of a prompt; KeyError for a language or an id that does not exist."""
    if language not in LANGUAGES or prompt_id not in spoken_texts(language):
        raise KeyError(f"no prompt {prompt_id!r} in {language!r}")
    return PROMPTS_DIR / language / f"{prompt_id}.wav"
