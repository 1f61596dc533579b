"""`dnadx` command line: one subcommand per stage, plus `run`.

Each `dnadx/cli/<stage>.py` defines ``register(subparsers)``; this module only wires them,
and turns typed errors into one message on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from dnadx import __version__
from dnadx.core.errors import DnadxError

# Order shown in `dnadx --help`.
COMMANDS = ("count", "pon", "cnv", "score", "train", "cluster", "variants", "report", "run", "simulate",
            "reference")


class _Version(argparse.Action):
    """`dnadx --version`: the version on stdout (scripts and the Nextflow modules read it) and, on stderr,
    the reference bundle in use and where it was found."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the version (stdout) and the reference bundle in use (stderr), then exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from dnadx.core.builds import bundle_source
        d, source = bundle_source()
        state = "" if (d / "MANIFEST.tsv").exists() else ", not found"
        print(f"dnadx {__version__}")
        print(f"reference bundle: {d} ({source}{state}; `dnadx reference` checks it)", file=sys.stderr)
        parser.exit()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The `dnadx` parser with every built stage, or just ``only`` (a name in COMMANDS).

    ``main`` passes ``only`` when the command line names a stage, so `dnadx count ...` does not
    import the modelling stack (scipy, scikit-learn, matplotlib) of the other stages: about
    1-2 s per call (issue 2).
    """
    parser = argparse.ArgumentParser(
        prog="dnadx",
        description="Liquid-biopsy low-pass WGS: copy number, tumour fraction, DNADX scores, "
                    "HER2 predictions and resistance annotation for plasma BAMs.",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in (only,) if only else COMMANDS:
        try:
            mod = importlib.import_module(f"dnadx.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"dnadx.cli.{name}":
                raise
            continue  # stage not built yet
        mod.register(sub)
    return parser


def execute_step(argv: list[str]) -> tuple[int, str]:
    """Run one `dnadx <stage>` command line: (exit code, the error message or "").

    `main` and the `dnadx run` workers both call it; the runner (`dnadx.pipeline.run_steps`) is handed
    it, so it never imports the CLI. Only the named stage's parser is built (see `build_parser`).
    """
    args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    try:
        return int(args.func(args) or 0), ""
    except DnadxError as exc:  # the message names the file/row and the fix
        return exc.exit_code, str(exc)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        code, message = execute_step(argv)
    except KeyboardInterrupt:
        print(f"dnadx {argv[0]}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141
    if message:
        print(f"dnadx {argv[0]}: error: {message}", file=sys.stderr)
    return code
