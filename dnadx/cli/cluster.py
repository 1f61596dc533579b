"""`dnadx cluster`: reference groups and de novo consensus clusters for a batch of samples."""

from __future__ import annotations

import pandas as pd

from dnadx.groups import consensus, io as groups_io
from dnadx.core import io
from dnadx.cli.common import add_prefix, info, positive_int
from dnadx.groups.cluster import run_cluster
from dnadx.core.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "cluster", help="reference copy-number groups and de novo consensus clusters for a batch",
        description="Reads every <sample>.dnadx.tsv (and, beside it, <sample>.score.json or <sample>.cnv.json for "
                    "tumor_fraction and erbb2_call). Assigns each sample a reference copy-number pattern group "
                    "(ERBB2-amplified, basal-like, luminal-like, quiet; insufficient_tumour_fraction or "
                    "insufficient_information instead of a guess) that does not depend on the batch, and "
                    "consensus-clusters the batch's adjusted segment scores with k chosen by stability. Writes "
                    "PREFIX.clusters.tsv, PREFIX.clusters.json (k-selection evidence, cluster descriptions) and "
                    "PREFIX.heatmap.png.")
    p.add_argument("inputs", nargs="+", metavar="SAMPLE.dnadx.tsv", help="segment-score tables from `dnadx score`")
    add_prefix(p)
    p.add_argument("--seed", type=int, default=1, help="resampling seed (default 1)")
    p.add_argument("--resamples", type=positive_int, default=consensus.N_RESAMPLES,
                   help=f"consensus resamples per k (default {consensus.N_RESAMPLES})")
    p.add_argument("--k-max", type=positive_int, default=consensus.K_MAX,
                   help=f"largest number of clusters tried (default {consensus.K_MAX})")
    p.add_argument("--no-heatmap", action="store_true", help="skip PREFIX.heatmap.png")
    p.set_defaults(func=run)


def _read_batch(paths: list[str], segment_ids: tuple[str, ...]):
    ids = [groups_io.sample_id(p) for p in paths]
    dup = sorted({s for s in ids if ids.count(s) > 1})
    if dup:
        raise InputError(f"sample id(s) given more than once: {', '.join(dup)}; each <sample>.dnadx.tsv once")
    raw, adj, ann = {}, {}, []
    for sid, path in zip(ids, paths):
        tab = groups_io.read_dnadx_scores(path, segment_ids)
        raw[sid], adj[sid] = tab["score_raw"], tab["score_adjusted"]
        ann.append(dict(sample=sid, **groups_io.read_sample_annotation(path)))
    return pd.DataFrame(raw).T, pd.DataFrame(adj).T, pd.DataFrame(ann)


def run(args) -> int:
    model = groups_io.bundled_group_model()
    # Inputs end in .dnadx.tsv / .score.json / .cnv.json, so no output name can overwrite one.
    raw, adj, ann = _read_batch(args.inputs, model.segment_ids)
    res = run_cluster(raw, adj, ann, model=model, seed=args.seed, n_resamples=args.resamples, k_max=args.k_max)
    io.write_tsv(res.table, f"{args.prefix}.clusters.tsv", float_format="%.4g")
    io.write_json(res.evidence, f"{args.prefix}.clusters.json")
    if not args.no_heatmap:
        from dnadx.groups.heatmap import heatmap_png

        groups_io.write_bytes(heatmap_png(res.scores, res.table), f"{args.prefix}.heatmap.png")
    info(f"dnadx cluster: {len(res.table)} samples; {res.clustering.note}; groups: "
         + ", ".join(f"{g} {n}" for g, n in res.table["group"].value_counts().sort_index().items()))
    return 0
