"""Lazy package exports (PEP 562): a subpackage names its entry points without importing them.

`from dnadx.cnv import run_cnv` then imports `dnadx.cnv.call` only on that first use, so importing one
module of a stage (e.g. `dnadx.count.bam` on the pandas-free counting path) never pulls in the rest.
"""

from __future__ import annotations

import importlib
from typing import Callable


def exports(package: str, names: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` giving ``names[attr]``'s attribute ``attr`` of submodule ``package.<module>``.

    Parameters
    ----------
    package : the package's ``__name__``.
    names : exported name -> the submodule (relative to ``package``) that defines it.
    """
    def __getattr__(attr: str):
        if attr not in names:
            raise AttributeError(f"module {package!r} has no attribute {attr!r}")
        return getattr(importlib.import_module(f"{package}.{names[attr]}"), attr)
    return __getattr__
