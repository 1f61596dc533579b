"""`dnadx` command line: one subcommand per stage, plus `run`.

Each `dnadx/cli/<stage>.py` defines ``register(subparsers)``; this module only wires them,
and turns typed errors into one message on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from dnadx import __version__
from dnadx.errors import DnadxError

# Order shown in `dnadx --help`.
COMMANDS = ("count", "pon", "cnv", "score", "train", "cluster", "variants", "report", "run", "simulate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dnadx",
        description="Liquid-biopsy low-pass WGS: copy number, tumour fraction, DNADX scores, "
                    "HER2 predictions and resistance annotation for plasma BAMs.",
    )
    parser.add_argument("--version", action="version", version=f"dnadx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"dnadx.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"dnadx.cli.{name}":
                raise
            continue  # stage not built yet
        mod.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DnadxError as exc:
        print(f"dnadx {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"dnadx {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141
