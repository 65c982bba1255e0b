"""The README's "A week with pledgewatch" runs as written, on the quick-start data.

Each console block's commands run in order on a fresh copy of the example
config and its example feed, as Maria; their output is compared line by line
with what the README shows. Times and dates that depend on the day it runs
(timestamps, today's dates, seconds taken) are compared as placeholders, and
a line "..." ends the comparison of that command's output.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from pledgewatch.cli import main

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"


def session() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of the section, in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## A week with pledgewatch\n", 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            assert line.startswith("$ "), f"a console block starts with a command: {line!r}"
            command = line[2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + lines[i].strip()
            i += 1
            expected = []
            while i < len(lines) and not lines[i].startswith("$ "):
                expected.append(lines[i])
                i += 1
            steps.append((command, expected))
    return steps


_VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<time>"),
    (re.compile(r"\b20(?:2[5-9]|[3-9]\d)-\d\d-\d\d\b(?! *\|)"), "<date>"),
    (re.compile(r"\b\d+\.\ds\b"), "<seconds>"),
]


def normalised(line: str) -> str:
    for pattern, placeholder in _VOLATILE:
        line = pattern.sub(placeholder, line)
    return line.rstrip()


def test_the_readme_session_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.toml").write_text(
        (ROOT / "config.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    for name in ("PLEDGEWATCH_CONFIG", "PLEDGEWATCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLEDGEWATCH_USER", "maria")
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["init"]) == 0
    steps = session()
    assert len(steps) >= 6, "the section holds the week's commands"
    for command, expected in steps:
        args = shlex.split(command)
        assert args[0] == "pledgewatch", command
        capsys.readouterr()
        code = main(args[1:])
        out = capsys.readouterr()
        assert code == 0, f"{command}\n{out.err}"
        got = [normalised(line) for line in out.out.splitlines()]
        for n, want in enumerate(expected):
            if want.strip() == "...":
                break
            assert n < len(got), f"{command}: output ends before {want!r}"
            assert got[n] == normalised(want), f"{command}: line {n + 1}"
        else:
            assert len(got) == len(expected), f"{command}: more output than the README shows"


def test_the_readme_library_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The library\n", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    (tmp_path / "config.toml").write_text(
        '[database]\nurl = "sqlite:///pledgewatch.db"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLEDGEWATCH_DATABASE_URL", raising=False)
    assert main(["init"]) == 0
    capsys.readouterr()
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.split()
    assert printed[:2] == ["1", "0"], printed
