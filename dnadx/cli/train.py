"""`dnadx train`: re-create the shipped DNADX predictors from the training folder."""

from __future__ import annotations

from pathlib import Path

from dnadx.core import io, reference
from dnadx.scores import io as models_io, train
from dnadx.cli.common import info
from dnadx.core.errors import InputError
from dnadx.scores.model_card import index_table, render


def register(sub) -> None:
    p = sub.add_parser(
        "train", help="train the DNADX elastic-net predictors (TCGA) and validate them (METABRIC)",
        description="Train calibrated elastic-net models on TCGA BRCA segment scores (70/30 split, "
                    "seeded), validate on METABRIC held out, and write plain-text coefficient files, "
                    "models.tsv and MODEL_CARD.md to --outdir. Deterministic: the shipped "
                    "reference/models are reproduced byte-for-byte from the same training folder.")
    p.add_argument("--training-dir", required=True,
                   help="the DNADX training folder (her2/, subtype/, rppa/, mutation/, segments.tsv)")
    p.add_argument("--outdir", required=True, help="folder for the model files (e.g. reference/models)")
    p.add_argument("--models", help=f"comma-separated subset to train (default all: {', '.join(train.TASK_NAMES)})")
    p.set_defaults(func=run)


def run(args) -> int:
    names = args.models.split(",") if args.models else list(train.TASK_NAMES)
    unknown = [n for n in names if n not in train.TASK_NAMES]
    if unknown:
        raise InputError(f"--models: unknown model(s) {', '.join(unknown)}; choose from {', '.join(train.TASK_NAMES)}")
    if not Path(args.training_dir).is_dir():
        raise InputError(f"--training-dir {args.training_dir}: not a folder")
    segments = reference.segments()
    out = Path(args.outdir)
    trained, baseline = [], None
    for task in (t for t in train.TASKS if t.name in names):
        x, y, strata, metabric = models_io.load_task(args.training_dir, task, segments)
        model = train.fit_task(task, x, y, strata, segments, metabric)
        models_io.write_model(model, out)
        trained.append(model)
        if task.name == "her2_status":
            baseline = train.erbb2_baseline(x, y, strata, metabric)
        m = model.meta["metrics"]
        ext = f", METABRIC AUC {m['metabric']['auc']:.3f}" if "metabric" in m else ""
        info(f"dnadx train: {task.name}: {model.n_nonzero} terms, TCGA test AUC {m['tcga_test']['auc']:.3f}{ext}"
             f"{' (exploratory)' if model.exploratory else ''}")
    models_io.write_segment_ranges(models_io.segment_ranges(args.training_dir, segments), out)
    io.write_tsv(index_table(trained), out / "models.tsv")
    io.write_text(render(trained, training_dir_name=Path(args.training_dir).name, baseline=baseline),
                  out / "MODEL_CARD.md")
    info(f"dnadx train: wrote {len(trained)} models, models.tsv and MODEL_CARD.md to {out}")
    return 0
