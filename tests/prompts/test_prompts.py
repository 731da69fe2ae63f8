"""The committed prompts: every one in both languages, in the telephony format, audible, and made by the
script in the repo (run again here, it gives the same bytes)."""

from __future__ import annotations

import tomllib
import wave
from pathlib import Path

import numpy as np
import pytest

from tonalite.prompts import BEEP, HOLD_MUSIC, LANGUAGES, PROMPTS_DIR, prompt_path, spoken_texts
from tonalite.prompts.make import main as make_prompts


def _samples(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2), path
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def test_every_sentence_exists_in_both_languages() -> None:
    catalogue = tomllib.loads((PROMPTS_DIR / "catalogue.toml").read_text("utf-8"))
    assert set(catalogue) == set(LANGUAGES)
    assert set(catalogue["fr"]) == set(catalogue["en"])
    assert set(spoken_texts("fr")) == set(spoken_texts("en"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_prompt_is_an_audible_8_khz_mono_file(language: str) -> None:
    for prompt_id, text in spoken_texts(language).items():
        samples = _samples(prompt_path(language, prompt_id))
        seconds = len(samples) / 8000
        assert 0.2 < seconds < 1.0 + 0.6 * len(text.split()), (prompt_id, seconds)  # 150 words a minute
        rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
        assert rms > 1000, (prompt_id, rms)  # speech normalised to -3 dBFS


def test_the_beep_and_the_hold_music() -> None:
    beep = _samples(BEEP)
    assert len(beep) == 2400
    spectrum = np.abs(np.fft.rfft(beep))
    assert np.argmax(spectrum) * 8000 / len(beep) == pytest.approx(880, abs=10)
    music = _samples(HOLD_MUSIC)
    assert len(music) == 16 * 8000
    assert 0 < np.abs(music).max() <= 32767 * 10 ** (-12 / 20) + 1


def test_an_unknown_prompt_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        prompt_path("fr", "no_such_prompt")
    with pytest.raises(KeyError):
        prompt_path("de", "goodbye")


def test_the_script_makes_the_committed_bytes(tmp_path: Path) -> None:
    make_prompts(["--output", str(tmp_path), "--only", "goodbye", "number_42", "voicemail_you_have"])
    for language in LANGUAGES:
        for prompt_id in ("goodbye", "number_42", "voicemail_you_have"):
            made = (tmp_path / language / f"{prompt_id}.wav").read_bytes()
            assert made == prompt_path(language, prompt_id).read_bytes(), (language, prompt_id)
    assert not list(tmp_path.rglob("*.tmp")) and not [
        p for p in tmp_path.rglob("*") if p.is_dir() and p.name.startswith("tmp")
    ]
