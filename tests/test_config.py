from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tonalite.calls.media_anchor import AnchorPolicy
from tonalite.config import ListenAddress, Settings
from tonalite.sip.transport import Transport


def test_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.sip_listen == [ListenAddress(Transport.UDP, "0.0.0.0", 5060)]
    assert settings.http_listen == ListenAddress(Transport.TCP, "127.0.0.1", 8080)
    assert settings.rtp_ports == (10000, 20000)
    assert settings.effective_database_url == "sqlite:///var/tonalite.db"
    assert settings.panel_url == "http://127.0.0.1:8080/"


def test_environment_lists_several_sip_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONALITE_SIP_LISTEN", "127.0.0.1:5070, tcp:127.0.0.1, tls:[::1]:5061")
    monkeypatch.setenv("TONALITE_TLS_CERTIFICATE", "/etc/tonalite/sip.pem")
    monkeypatch.setenv("TONALITE_RTP_PORTS", "20000-20100")
    monkeypatch.setenv("TONALITE_HTTP_LISTEN", "0.0.0.0:9000")
    settings = Settings()
    assert settings.sip_listen == [
        ListenAddress(Transport.UDP, "127.0.0.1", 5070),
        ListenAddress(Transport.TCP, "127.0.0.1", 5060),
        ListenAddress(Transport.TLS, "::1", 5061),
    ]
    assert settings.rtp_ports == (20000, 20100)
    assert settings.panel_url == "http://127.0.0.1:9000/"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sip_listen", "udp:127.0.0.1:99999"),
        ("sip_listen", "sctp:127.0.0.1:5060"),
        ("sip_listen", "127.0.0.1:port"),
        ("sip_listen", "[::1:5060"),
        ("rtp_ports", "20000"),
        ("rtp_ports", "30000-20000"),
        ("http_listen", ":8080"),
    ],
)
def test_malformed_values_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(**{field: value})


def test_toml_file_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "tonalite.toml"
    config.write_text('sip_domain = "sip.example.com"\ndata_dir = "/srv/tonalite"\n')
    monkeypatch.setenv("TONALITE_CONFIG", str(config))
    monkeypatch.setenv("TONALITE_DATA_DIR", "/data")
    settings = Settings()
    assert settings.sip_domain == "sip.example.com"
    assert settings.data_dir == Path("/data")


def test_a_tls_listener_needs_a_certificate(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="certificate"):
        Settings(sip_listen="tls:127.0.0.1:5061")
    assert Settings(sip_listen="tls:127.0.0.1:5061", tls_certificate=tmp_path / "cert.pem").sip_listen


def test_media_anchoring_is_auto_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).media_anchor is AnchorPolicy.AUTO
    monkeypatch.setenv("TONALITE_MEDIA_ANCHOR", "always")
    assert Settings().media_anchor is AnchorPolicy.ALWAYS
    with pytest.raises(ValidationError):
        Settings(media_anchor="sometimes")
