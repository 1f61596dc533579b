"""Session fixtures for the Nextflow-layer tests (see tests/nextflow/nftools.py)."""

from __future__ import annotations

import pytest

from tests.nextflow import nftools


@pytest.fixture(scope="session")
def nf_model() -> dict:
    """The parsed model of every .nf / .config of the pipeline (one JVM call)."""
    return nftools.model(*(nftools.REPO / p for p in nftools.NF_SOURCES))


@pytest.fixture(scope="session")
def processes(nf_model) -> dict:
    """Process name -> process model (plus the file it is defined in)."""
    out = {}
    for s in nf_model["scripts"]:
        for p in s["processes"]:
            assert p["name"] not in out, f"process {p['name']} defined twice"
            out[p["name"]] = dict(p, file=s["file"])
    return out
