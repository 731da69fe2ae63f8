"""`tonalite demo`: idempotent, with new working passwords on every run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.conftest import Tonalite
from tests.cli.support import field_blocks, run_tonalite
from tonalite.app import Platform
from tonalite.services.errors import AuthenticationFailed
from tonalite.sip.auth import DigestAlgorithm, digest_ha1


def _demo_json(url: str) -> dict[str, Any]:
    done = run_tonalite("demo", "--json", "--database-url", url)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # the whole of stdout is one JSON object
    assert isinstance(document, dict)
    return document


def _sip_password_matches(platform: Platform, username: str, password: str) -> bool:
    line = next(line for line in platform.services.lines.list_all() if line.sip_username == username)
    return line.ha1_md5 == digest_ha1(
        DigestAlgorithm.MD5, username, line.sip_realm, password
    ) and line.ha1_sha256 == digest_ha1(DigestAlgorithm.SHA256, username, line.sip_realm, password)


def test_demo_json_twice_keeps_the_objects_and_renews_the_passwords(sqlite_url: str, platform: Platform) -> None:
    first = _demo_json(sqlite_url)
    second = _demo_json(sqlite_url)

    assert set(first) == {"panel", "billing_group", "lines", "aliases"}
    assert second["billing_group"] == first["billing_group"]
    assert second["aliases"] == first["aliases"] == ["+33999001001", "+33999001002"]
    assert [(line["number"], line["username"]) for line in second["lines"]] == [
        ("+33199001001", "0033199001001"),
        ("+33199001002", "0033199001002"),
        ("+33199001003", "0033199001003"),
    ]
    assert [(line["number"], line["username"]) for line in first["lines"]] == [
        (line["number"], line["username"]) for line in second["lines"]
    ]
    assert second["panel"]["url"] == "http://127.0.0.1:8080/"
    assert second["panel"]["login"] == "demo"

    accounts = platform.services.accounts
    assert accounts.authenticate("demo", second["panel"]["password"]).login == "demo"
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("demo", first["panel"]["password"])
    for old, new in zip(first["lines"], second["lines"], strict=True):
        assert new["domain"] == "localhost"
        assert new["password"] != old["password"]
        assert _sip_password_matches(platform, new["username"], new["password"])
        assert not _sip_password_matches(platform, old["username"], old["password"])
    assert len(platform.services.lines.list_all()) == 3


def test_demo_prints_the_panel_and_each_line_in_national_format(tonalite: Tonalite, platform: Platform) -> None:
    result = tonalite("demo")

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    panel, *lines, aliases = field_blocks(result.stdout)
    assert panel["control panel"] == "http://127.0.0.1:8080/"
    assert panel["login"] == "demo"
    assert platform.services.accounts.authenticate("demo", panel["password"]).login == "demo"
    assert [line["number"] for line in lines] == ["01 99 00 10 01", "01 99 00 10 02", "01 99 00 10 03"]
    for line in lines:
        assert line["SIP domain"] == "localhost"
        assert _sip_password_matches(platform, line["SIP username"], line["SIP password"])
    assert aliases == {"alias numbers": "09 99 00 10 01, 09 99 00 10 02"}
