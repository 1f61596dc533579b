"""`dnadx cluster`: reference groups and de novo consensus clusters for a batch of samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dnadx import consensus, groups, groups_io, io
from dnadx.cli.common import add_prefix, info, positive_int
from dnadx.errors import InputError


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
    raw, adj, ann = _read_batch(args.inputs, model.segment_ids)
    outputs = {f"{args.prefix}.{k}" for k in ("clusters.tsv", "clusters.json", "heatmap.png")}
    clash = [p for p in args.inputs if str(Path(p)) in {str(Path(o)) for o in outputs}]
    if clash:
        raise InputError(f"--prefix {args.prefix!r} would overwrite the input {clash[0]}; choose another prefix")
    tf = ann.set_index("sample")["tumor_fraction"]
    grp = groups.assign_groups(model, raw, adj, tf)
    clus = consensus.consensus_cluster(adj, k_max=args.k_max, n_resamples=args.resamples, seed=args.seed)
    table = grp.merge(ann, on="sample")
    table["cluster"] = pd.array(np.where(clus.labels > 0, clus.labels, np.nan), dtype="Int64")
    table["cluster_stability"] = clus.stability
    cols = ["sample", "group", "group_confidence", "cluster", "cluster_stability", "tumor_fraction", "erbb2_call",
            "signal_to_noise", "segment_noise", "erbb2_excess", *[f"p_{g}" for g in groups.PATTERN_GROUPS]]
    table = table[cols]
    io.write_tsv(table, f"{args.prefix}.clusters.tsv", float_format="%.4g")
    io.write_json(_evidence(model, clus, adj, table, args), f"{args.prefix}.clusters.json")
    if not args.no_heatmap:
        from dnadx.heatmap import heatmap_png

        groups_io.write_bytes(heatmap_png(adj, table), f"{args.prefix}.heatmap.png")
    info(f"dnadx cluster: {len(table)} samples; {clus.note}; groups: "
         + ", ".join(f"{g} {n}" for g, n in table["group"].value_counts().sort_index().items()))
    return 0


def _evidence(model, clus: consensus.Clustering, adj: pd.DataFrame, table: pd.DataFrame, args) -> dict:
    desc = consensus.describe_clusters(adj, clus.labels, region=model.arm) if clus.k else pd.DataFrame()
    clusters = []
    for c in range(1, clus.k + 1):
        members = table[table["cluster"] == c]
        clusters.append({
            "cluster": c, "n": len(members), "samples": members["sample"].tolist(),
            "mean_stability": float(members["cluster_stability"].mean()),
            "groups": members["group"].value_counts().sort_index().to_dict(),
            "distinctive_segments": desc[desc["cluster"] == c].drop(columns="cluster").to_dict("records"),
        })
    return {
        "n_samples": len(table), "k": clus.k, "note": clus.note,
        "k_selection": {"method": "consensus clustering (Ward on subsamples), k by PAC stability",
                        "pac_band": list(consensus.PAC_BAND), "pac_tolerance": consensus.PAC_TOLERANCE,
                        "resamples": args.resamples, "seed": args.seed, "n_features": len(clus.features),
                        "evidence": clus.evidence.to_dict("records")},
        "clusters": clusters,
        "group_model": {"trained_on": model.info.get("trained_on", ""), "c": model.info.get("c", ""),
                        "erbb2_excess": model.erbb2_excess, "quiet_amplitude": model.quiet_amplitude,
                        "min_tumour_fraction": groups.MIN_TUMOUR_FRACTION,
                        "reliable_tumour_fraction": groups.RELIABLE_TUMOUR_FRACTION,
                        "high_confidence": groups.HIGH_CONFIDENCE,
                        "defining_features": groups.defining_features(model, n=5).to_dict("records")},
    }
