"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys

from dnadx.core import params


def _whole_number(text: str, minimum: int) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {v}")
    return v


def positive_int(text: str) -> int:
    return _whole_number(text, 1)


def nonneg_int(text: str) -> int:
    return _whole_number(text, 0)


def fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"must be within [0, 1], got {v}")
    return v


def add_prefix(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prefix", required=True, help="output path prefix; files are written as PREFIX.<kind>.<ext>")


def add_genome(p: argparse.ArgumentParser) -> None:
    p.add_argument("--genome", default=params.DEFAULT_GENOME, choices=params.GENOMES,
                   help=f"reference build of the bundle (default {params.DEFAULT_GENOME})")


def info(msg: str) -> None:
    print(msg, file=sys.stderr)
