"""`dnadx train`: byte-for-byte reproduction of a shipped model and clear argument errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli, run_proc

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT.parent / "shared" / "dnadx-training"
SHIPPED = ROOT / "reference" / "models"


@pytest.mark.skipif(not TRAINING.exists(), reason=f"DNADX training folder not present at {TRAINING}")
def test_train_reproduces_a_shipped_model_byte_for_byte(tmp_path):
    # rppa_her2 trains in a few seconds; `dnadx train` without --models reproduces all of them
    # (benchmarks/models.md records the full run).
    assert run_cli("train", "--training-dir", TRAINING, "--outdir", tmp_path, "--models", "rppa_her2") == 0
    for name in ("rppa_her2.coef.tsv", "rppa_her2.model.json"):
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name


def test_train_rejects_unknown_model(tmp_path):
    r = run_proc("train", "--training-dir", tmp_path, "--outdir", tmp_path / "o", "--models", "her3_status")
    assert r.returncode == 2 and "unknown model(s) her3_status" in r.stderr and "Traceback" not in r.stderr


def test_train_names_the_missing_training_file(tmp_path):
    r = run_proc("train", "--training-dir", tmp_path, "--outdir", tmp_path / "o", "--models", "her2_status")
    assert r.returncode == 2 and "segments.tsv: training file missing" in r.stderr
