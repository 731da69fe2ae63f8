"""Help, usage errors and settings errors: readable help, and every failure one line on stderr."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from tests.cli.conftest import Tonalite
from tests.cli.support import TONALITE, assert_one_error, run_tonalite
from tonalite.cli import app

COMMANDS = [
    "serve",
    "db upgrade",
    "demo",
    "account create",
    "line create",
    "line list",
    "line password-reset",
    "number add",
    "trunk add",
    "trunk list",
    "trunk remove",
]


def _leaf(path: str) -> TyperCommand:
    command = get_command(app)
    for name in path.split():
        assert isinstance(command, TyperGroup)
        command = command.commands[name]
    assert isinstance(command, TyperCommand)
    return command


@pytest.mark.parametrize("entry_point", [[str(TONALITE)], [sys.executable, "-m", "tonalite"]])
def test_help_lists_every_command(entry_point: list[str]) -> None:
    done = run_tonalite("--help", entry_point=entry_point)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "tonalite [OPTIONS] COMMAND [ARGS]..." in done.stdout.splitlines()[0]
    listed = {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == {"serve", "db", "demo", "account", "line", "number", "trunk"}


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_documents_its_options(path: str) -> None:
    command = _leaf(path)
    assert command.help
    result = CliRunner().invoke(app, [*path.split(), "--help"])
    assert result.exit_code == 0
    for parameter in command.params:
        assert getattr(parameter, "help", None), f"{path}: {parameter.name} has no help"
        for flag in parameter.opts if parameter.param_type_name == "option" else []:
            assert flag in result.stdout
    assert "--database-url" in result.stdout
    assert "--data-dir" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["nonsense"], "No such command"),
        (["line"], "Missing command"),
        (["line", "create"], "Missing option '--billing-group'"),
        (["line", "create", "--billing-group", "first"], "--billing-group"),
        (["account", "create", "acme", "--company", "Acme", "--email", "a@acme.test", "--language", "de"], "de"),
        (["number", "add"], "Missing argument"),
    ],
)
def test_a_usage_error_is_one_line_with_a_pointer_to_help(args: list[str], fragment: str) -> None:
    line = assert_one_error(CliRunner().invoke(app, args), 2, fragment)
    assert line.endswith("--help')")
    assert "(see 'tonalite" in line


def test_a_bad_setting_in_the_environment_is_a_usage_error(tonalite: Tonalite) -> None:
    result = tonalite("line", "list", env={"TONALITE_RTP_PORTS": "30000-20000"})
    assert_one_error(result, 2, "rtp_ports", "30000-20000")


def test_settings_come_from_the_toml_file_named_by_tonalite_config(sqlite_url: str, tmp_path: Path) -> None:
    config = tmp_path / "tonalite.toml"
    config.write_text(f'database_url = "{sqlite_url}"\nsip_domain = "sip.example.test"\n')

    result = CliRunner().invoke(app, ["demo", "--json"], env={"TONALITE_CONFIG": str(config)})

    assert result.exit_code == 0, result.stderr
    assert '"domain": "sip.example.test"' in result.stdout


def test_a_malformed_toml_file_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "tonalite.toml"
    config.write_text("database_url = [\n")
    result = CliRunner().invoke(app, ["line", "list"], env={"TONALITE_CONFIG": str(config)})
    assert_one_error(result, 2, "TONALITE_CONFIG")


def test_a_malformed_database_url_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["line", "list", "--database-url", "postgresql://user:hunter2@db:port/x"])
    line = assert_one_error(result, 2, "database_url")
    assert "hunter2" not in line


def test_a_database_that_cannot_be_reached_is_one_line_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://user:hunter2@127.0.0.1:1/tonalite"
    line = assert_one_error(CliRunner().invoke(app, ["line", "list", "--database-url", url]), 1, "database")
    assert "hunter2" not in line


def test_a_database_that_is_not_migrated_is_refused_and_left_untouched(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    result = CliRunner().invoke(app, ["line", "list", "--data-dir", str(data_dir)])
    assert_one_error(result, 1, "tonalite db upgrade")
    assert not data_dir.exists()


def test_the_console_script_reports_errors_the_same_way(tmp_path: Path) -> None:
    done = run_tonalite("number", "add", "12", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == ["error: number: “12” is not a valid phone number."]
