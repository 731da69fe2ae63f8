"""Headers keeps an index from name to values beside its fields: after any sequence of changes, lookups
through the index answer what a scan of the fields answers."""

from __future__ import annotations

import random

from tonalite.sip.message import Headers, canonical_name, split_list

NAMES = ["Via", "v", "VIA", "Contact", "m", "To", "Call-ID", "i", "X-Custom", "x-custom"]
VALUES = ["a", "b, c", "d", "<sip:e@f>, <sip:g@h>", ""]


def _scanned(headers: Headers, name: str) -> list[str]:
    """The values of `name` found by walking the fields (the index is not used)."""
    key = canonical_name(name).lower()
    return [value for field_name, value in headers if canonical_name(field_name).lower() == key]


def test_lookups_match_the_fields_after_random_changes() -> None:
    chooser = random.Random(3261)
    for _ in range(300):
        headers = Headers([(chooser.choice(NAMES), chooser.choice(VALUES)) for _ in range(chooser.randrange(4))])
        for _ in range(12):
            name, value = chooser.choice(NAMES), chooser.choice(VALUES)
            action = chooser.randrange(8)
            if action == 0:
                headers.add(name, value)
            elif action == 1:
                headers.prepend(name, value)
            elif action == 2:
                headers.set(name, value)
            elif action == 3:
                headers.remove(name)
            elif action in (4, 5):
                before = _scanned(headers, name)
                headers.replace_first_value(name, "z")
                first = ["z", *split_list(before[0])[1:]] if before else []
                assert _scanned(headers, name) == ([", ".join(first), *before[1:]] if before else [])
            elif action == 6:
                headers.drop_index()  # rebuilt by the next lookup
            else:
                headers.get(name)  # builds the index, so later changes must keep it right
            for probe in NAMES:
                scanned = _scanned(headers, probe)
                assert headers.get(probe) == (scanned[0] if scanned else None)
                assert headers.count(probe) == len(scanned)
