"""The French and English catalogues hold the same messages, and every message the panel asks for exists."""

from __future__ import annotations

import re
import string
from importlib.resources import files

from tonalite.i18n import catalogue
from tonalite.panel.paths import LineTab
from tonalite.services.line_options import EDITABLE, FLAGS, FORWARDS
from tonalite.services.voicemail import GREETING_SOUNDS
from tonalite.store.models import (
    ChangeOrigin,
    FeatureType,
    ForwardNature,
    GreetingType,
    Language,
    MessageFolder,
    ScreenDirection,
    ScreenListKind,
)

LITERAL_KEY = re.compile(r"""\bt\(\s*["']([A-Za-z_.]+)["']\s*[,)]""")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_french_and_english_have_the_same_keys_and_placeholders() -> None:
    french, english = catalogue(Language.FR), catalogue(Language.EN)
    assert sorted(french) == sorted(english)
    for key, text in french.items():
        assert _placeholders(text) == _placeholders(english[key]), key
        assert text.strip() and english[key].strip(), key


def test_every_message_the_panel_uses_exists() -> None:
    templates = files("tonalite.panel") / "templates"
    used = {
        key
        for template in templates.iterdir()
        if template.name.endswith(".html")
        for key in LITERAL_KEY.findall(template.read_text(encoding="utf-8"))
    }
    used |= {f"line.tab.{tab.value}" for tab in LineTab}
    used |= {
        f"line.coming.{tab.value}"
        for tab in LineTab
        if tab not in (LineTab.DASHBOARD, LineTab.CALLS, LineTab.VOICEMAIL)
    }
    used |= {f"option.{name}" for name in EDITABLE}
    used |= {f"calls.forward_hint.{name}" for name in FORWARDS} | {f"calls.flag_hint.{name}" for name in FLAGS}
    used |= {f"calls.nature_value.{nature.value}" for nature in ForwardNature}
    used |= {f"calls.origin.{origin.value}" for origin in ChangeOrigin}
    used |= {f"calls.value.{value}" for value in ("true", "false", "empty")}
    used |= {f"calls.screen.direction.{direction.value}" for direction in ScreenDirection}
    used |= {f"calls.screen.kind.{kind.value}" for kind in ScreenListKind}
    used |= {
        "error.screen_prefix_invalid",
        "error.screen_list_full",
        "error.screen_entry_repeated",
        "error.lines_count",
    }
    used |= {f"voicemail.folder.{folder.value}" for folder in MessageFolder}
    used |= {f"voicemail.greeting_type.{kind.value}" for kind in GreetingType}
    used |= {f"voicemail.greeting_hint.{kind.value}" for kind in GREETING_SOUNDS}
    used |= {"error.greeting_file_missing", "error.audio_unavailable"}
    used |= {f"feature_type.{feature.value}" for feature in FeatureType}
    used |= {f"language.{language.value}" for language in Language}
    used |= {"page.not_found_title", "page.not_found_text", "page.refused_title", "error.csrf"}
    assert len(used) > 40
    assert used - set(catalogue(Language.FR)) == set()
