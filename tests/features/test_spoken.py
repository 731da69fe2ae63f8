"""Figures as prompts: counts, and phone numbers read in pairs in French, figure by figure otherwise."""

from __future__ import annotations

import pytest

from tonalite.features.spoken import spoken_count, spoken_phone_number
from tonalite.prompts import prompt_path
from tonalite.store.models import Language


def _numbers(*values: int) -> list[str]:
    return [f"number_{value}" for value in values]


@pytest.mark.parametrize(
    ("count", "prompts"),
    [(0, _numbers(0)), (3, _numbers(3)), (42, _numbers(42)), (99, _numbers(99)), (100, _numbers(1, 0, 0))],
)
def test_counts(count: int, prompts: list[str]) -> None:
    assert spoken_count(count) == prompts


@pytest.mark.parametrize(
    ("number", "language", "prompts"),
    [
        ("+33999001234", Language.FR, _numbers(0, 9, 99, 0, 0, 12, 34)),
        ("+33140506070", Language.FR, _numbers(0, 1, 40, 50, 60, 70)),
        ("+33999001234", Language.EN, _numbers(0, 9, 9, 9, 0, 0, 1, 2, 3, 4)),
        ("+441632960961", Language.FR, _numbers(4, 4, 1, 6, 3, 2, 9, 6, 0, 9, 6, 1)),  # not French: figures
    ],
)
def test_phone_numbers(number: str, language: Language, prompts: list[str]) -> None:
    spoken = spoken_phone_number(number, language)
    assert spoken == prompts
    for prompt_id in spoken:
        assert prompt_path(language.value, prompt_id).exists()
