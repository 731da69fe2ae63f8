"""Phone numbers: parsed from what people type, stored in E.164, shown in national format."""

from __future__ import annotations

import phonenumbers

from tonalite.services.errors import InvalidInput

MAX_INPUT_LENGTH = 40
FRANCE_COUNTRY_CODE = 33


def parse_number(text: str, country: str = "FR", field: str | None = None) -> str:
    """E.164 for `+33 9 99 00 12 34`, `09 99 00 12 34`, `0033999001234` or `33999001234`."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > MAX_INPUT_LENGTH:
        raise InvalidInput("error.number_invalid", field, value=cleaned[:MAX_INPUT_LENGTH])
    if cleaned.isdigit() and not cleaned.startswith("0") and len(cleaned) > 10:
        cleaned = "+" + cleaned
    try:
        parsed = phonenumbers.parse(cleaned, country)
    except phonenumbers.NumberParseException:
        raise InvalidInput("error.number_invalid", field, value=cleaned) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidInput("error.number_invalid", field, value=cleaned)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_national(e164: str) -> str:
    """`+33999001234` -> `09 99 00 12 34`; a number of another country keeps its international form."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if parsed.country_code == FRANCE_COUNTRY_CODE:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
