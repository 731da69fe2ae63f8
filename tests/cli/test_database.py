"""`tonalite db upgrade`: a fresh data directory gets its SQLite database at the latest schema."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.cli.support import run_tonalite
from tonalite.cli import app
from tonalite.store.migrate import is_current


def test_db_upgrade_creates_the_data_directory_and_a_current_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "var"
    url = f"sqlite:///{data_dir / 'tonalite.db'}"
    assert not is_current(url)

    done = run_tonalite("db", "upgrade", "--data-dir", str(data_dir))

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"The database {url} is at the latest schema.\n"
    assert is_current(url)
    listed = CliRunner().invoke(app, ["line", "list", "--data-dir", str(data_dir)])
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.split() == ["NUMBER", "SIP", "USERNAME", "NAME", "BILLING", "GROUP"]


def test_db_upgrade_reads_the_environment_and_can_run_again(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    for _ in range(2):
        done = run_tonalite("db", "upgrade", env={"TONALITE_DATA_DIR": str(data_dir)})
        assert done.returncode == 0, done.stderr
    assert is_current(f"sqlite:///{data_dir / 'tonalite.db'}")
