"""The `cluster` stage: reference groups + de novo consensus clusters for a batch (tables in, tables out).

`dnadx cluster` and the embedded runner both call :func:`run_cluster`; reading the
`<id>.dnadx.tsv` / json files and writing the outputs stays in the callers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dnadx.groups import consensus, model as groups

TABLE_COLUMNS = ("sample", "group", "group_confidence", "cluster", "cluster_stability", "tumor_fraction",
                 "erbb2_call", "signal_to_noise", "segment_noise", "erbb2_excess",
                 *[f"p_{g}" for g in groups.PATTERN_GROUPS])


@dataclass(frozen=True)
class ClusterResult:
    table: pd.DataFrame     # one row per sample: TABLE_COLUMNS (`cohort.clusters.tsv`)
    evidence: dict          # k selection, cluster descriptions, model settings (`cohort.clusters.json`)
    clustering: consensus.Clustering
    scores: pd.DataFrame    # the adjusted scores clustered (samples x segments, chrY left out)


def run_cluster(raw: pd.DataFrame, adjusted: pd.DataFrame, annotation: pd.DataFrame, *, model: groups.GroupModel,
                seed: int = 1, n_resamples: int = consensus.N_RESAMPLES, k_max: int = consensus.K_MAX) -> ClusterResult:
    """Assign reference groups and consensus-cluster a batch.

    Parameters
    ----------
    raw, adjusted : samples x segments (model segment order) raw and adjusted DNADX scores.
    annotation : ``sample, tumor_fraction, erbb2_call`` per sample (NaN / ``unknown`` allowed).
    model : the reference group model.
    seed, n_resamples, k_max : consensus-clustering settings.
    """
    tf = annotation.set_index("sample")["tumor_fraction"]
    grp = groups.assign_groups(model, raw, adjusted, tf)
    # chrY carries no tumour signal in these (female) patients, only sex and coverage noise.
    scores = adjusted.loc[:, ~model.is_chr_y()]
    clus = consensus.consensus_cluster(scores, k_max=k_max, n_resamples=n_resamples, seed=seed)
    table = grp.merge(annotation[["sample", "tumor_fraction", "erbb2_call"]], on="sample", how="left")
    table["cluster"] = pd.array(np.where(clus.labels > 0, clus.labels, np.nan), dtype="Int64")
    table["cluster_stability"] = clus.stability
    table = table[list(TABLE_COLUMNS)]
    return ClusterResult(table, _evidence(model, clus, scores, table, seed=seed, n_resamples=n_resamples), clus, scores)


def _evidence(model, clus: consensus.Clustering, adjusted: pd.DataFrame, table: pd.DataFrame, *, seed: int,
              n_resamples: int) -> dict:
    region = tuple(a for a, y in zip(model.arm, model.is_chr_y()) if not y)
    filled = consensus.fill_missing(adjusted)
    desc = consensus.describe_clusters(filled, clus.labels, region=region) if clus.k else pd.DataFrame()
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
                        "resamples": n_resamples, "seed": seed, "n_features": len(clus.features),
                        "evidence": clus.evidence.to_dict("records")},
        "clusters": clusters,
        "group_model": {"trained_on": model.info.get("trained_on", ""), "c": model.info.get("c", ""),
                        "erbb2_excess": model.erbb2_excess, "quiet_amplitude": model.quiet_amplitude,
                        "min_tumour_fraction": groups.MIN_TUMOUR_FRACTION,
                        "reliable_tumour_fraction": groups.RELIABLE_TUMOUR_FRACTION,
                        "high_confidence": groups.HIGH_CONFIDENCE,
                        "defining_features": groups.defining_features(model, n=5).to_dict("records")},
    }
