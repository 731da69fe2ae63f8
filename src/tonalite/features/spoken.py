"""What the platform says with figures in it, as prompt ids (tonalite.prompts): counts, and phone numbers
read the way people of the language read them."""

from __future__ import annotations

from tonalite.prompts import SPOKEN_NUMBERS
from tonalite.services.numbering import format_national
from tonalite.store.models import Language


def spoken_count(count: int) -> list[str]:
    """A count as one prompt (0 to 99), or figure by figure beyond."""
    if count in SPOKEN_NUMBERS:
        return [f"number_{count}"]
    return [f"number_{digit}" for digit in str(count)]


def spoken_phone_number(e164: str, language: Language) -> list[str]:
    """A French number in French in pairs, as the French read it ("09 99 00 12 34": zéro neuf,
    quatre-vingt-dix-neuf, zéro zéro, douze, trente-quatre); any other, or in English, figure by figure."""
    national = format_national(e164)
    groups = national.split()
    if language == Language.FR and national.startswith("0") and all(len(group) == 2 for group in groups):
        prompts: list[str] = []
        for pair in groups:
            prompts += [f"number_{digit}" for digit in pair] if pair.startswith("0") else [f"number_{int(pair)}"]
        return prompts
    return [f"number_{character}" for character in national if character.isdigit()]
