"""CLI surface: version, help for every stage, `python -m dnadx`."""

from __future__ import annotations

import pytest

from dnadx import __version__
from dnadx.cli import build_parser
from tests.helpers import run_proc


def test_version_via_module():
    r = run_proc("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"dnadx {__version__}"


def _commands():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)


@pytest.mark.parametrize("cmd", _commands())
def test_every_command_has_real_help(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([cmd, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert f"dnadx {cmd}" in out and len(out) > 300


def test_no_command_is_a_usage_error():
    r = run_proc()
    assert r.returncode == 2 and "usage" in r.stderr
