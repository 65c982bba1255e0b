"""Every command explains itself with an example; the module entry point runs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.main import get_command

from pledgewatch.cli import app


def _commands(group: object, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for name, command in getattr(group, "commands", {}).items():
        full = f"{prefix} {name}".strip()
        if getattr(command, "commands", None):
            found += _commands(command, full)
        else:
            found.append((full, command))
    return found


def test_every_command_has_help_with_an_example() -> None:
    commands = _commands(get_command(app))
    names = [name for name, _ in commands]
    assert "init" in names and "pledge add" in names
    missing = [name for name, cmd in commands if "Example:" not in (getattr(cmd, "help", "") or "")]
    assert missing == [], f"commands without an example in their help: {missing}"


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pledgewatch", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "pledge" in result.stdout


def test_usage_errors_are_one_line_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from pledgewatch.cli import main

    assert main(["pledge", "list", "--colour", "red"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no such option: --colour")
    assert 'see "pledgewatch pledge list --help"' in err
    assert len(err.strip().splitlines()) == 1
    assert main(["pledge", "show", "seven"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid value for 'pledge_id'")
