"""Lazy package exports (PEP 562): a subpackage names its entry points without importing them.

`from dnadx.cnv import run_cnv` then imports `dnadx.cnv.call` only on that first use, so importing one
module of a stage (e.g. `dnadx.count.bam` on the pandas-free counting path) never pulls in the rest.
"""

from __future__ import annotations

import importlib
from typing import Callable


def exports(package: str, table: str) -> tuple[Callable[[str], object], list[str]]:
    """A module ``__getattr__`` and ``__all__`` for ``package`` from ``table``.

    Parameters
    ----------
    package : the package's ``__name__``.
    table : ``"submodule: name name; submodule: name"``: each exported name and the submodule
        (relative to ``package``) that defines it.

    Returns
    -------
    (__getattr__, __all__): ``__getattr__(name)`` imports ``package.<submodule>`` and returns its ``name``.
    """
    names: dict[str, str] = {}
    for part in table.split(";"):
        module, listed = part.split(":")
        names.update(dict.fromkeys(listed.split(), module.strip()))

    def __getattr__(attr: str):
        if attr not in names:
            raise AttributeError(f"module {package!r} has no attribute {attr!r}")
        return getattr(importlib.import_module(f"{package}.{names[attr]}"), attr)
    return __getattr__, sorted(names)
