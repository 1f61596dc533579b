"""Background error model of the caller, learned from the batch normals (empirical Bayes).

Per site i and allele class a (each non-reference base, or 'indel') the error rate is
Beta(S m_ia, S (1 - m_ia)) with

    m_ia = (W mu_a + x_ia) / (W + n_ia)

x / n the error / total fragments summed over the normals at that site. What is learned:

* mu_a, the global rate of the class: the normals' pooled errors, themselves shrunk towards the
  default (DEFAULT_SNV_RATE per base, DEFAULT_INDEL_RATE) with GLOBAL_PRIOR_FRAGMENTS pseudo-fragments;
  sites where the normals show > 5% non-reference fragments (a germline allele, or a reference that
  is not theirs) are left out of this global fit (they keep their own, high, per-site rate);
* S, the between-site spread, by the method of moments for a beta-binomial over the sites the
  normals cover (E[n_i (r_i - mu)^2] = mu (1 - mu) (1 + (n_i - 1) / (S + 1))), clipped to
  [SPREAD_MIN, SPREAD_MAX]; W = S, so a site's rate is shrunk to mu_a by as many pseudo-fragments
  as the sites really vary (few or shallow normals: m ~ mu_a).

With fewer than MIN_SITES covered sites (or no normals) the defaults apply: mu = the default rates,
S = PRIOR_STRENGTH and W = MODEL_PRIOR_WEIGHT. `describe` states what was used and from how many
normals (written to `<prefix>.variants-qc.json`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Per-allele background rates after Q20 and fragment collapsing (Illumina substitution ~1e-3
# per base, a third per specific base; indels ~10x rarer); conservative defaults.
DEFAULT_SNV_RATE = 5e-4
DEFAULT_INDEL_RATE = 1e-4
# Default spread (pseudo-fragments): Beta(5, 9995) allows position-to-position overdispersion.
PRIOR_STRENGTH = 1e4
# Default weight (pseudo-fragments) of the global rate against a site's own errors in the normals.
MODEL_PRIOR_WEIGHT = 1000
GLOBAL_PRIOR_FRAGMENTS = 100_000
MIN_SITES = 200
MIN_SITE_DEPTH = 20
SPREAD_MIN, SPREAD_MAX = 100.0, 1e6
# A site whose normals show more than this share of non-reference fragments carries a real allele.
ERROR_SITE_MAX_SHARE = 0.05
ALLELE_CLASSES = ("A", "C", "G", "T", "indel")


@dataclass(frozen=True)
class Background:
    snv_rate: float = DEFAULT_SNV_RATE
    indel_rate: float = DEFAULT_INDEL_RATE
    spread: float = PRIOR_STRENGTH
    weight: float = MODEL_PRIOR_WEIGHT
    normals: int = 0
    sites: int = 0
    learned: bool = False
    allelic_sites: int = 0  # covered sites where the normals carry a real allele (left out of the fit)
    table: pd.DataFrame | None = None  # the error model indexed by (chrom, pos)


def _spread(x: np.ndarray, n: np.ndarray, mu: float) -> float | None:
    """Method-of-moments beta-binomial spread S over sites (x errors of n fragments); None if none."""
    ok = n >= MIN_SITE_DEPTH
    if ok.sum() < MIN_SITES or mu <= 0:
        return None
    x, n = x[ok], n[ok]
    r = x / n
    rho = (np.mean(n * (r - mu) ** 2) / (mu * (1 - mu)) - 1) / max(np.mean(n) - 1, 1e-9)
    return SPREAD_MAX if rho <= 0 else float(np.clip(1 / rho - 1, SPREAD_MIN, SPREAD_MAX))


def fit(model: pd.DataFrame | None, snv_rate: float = DEFAULT_SNV_RATE,
        indel_rate: float = DEFAULT_INDEL_RATE) -> Background:
    """The background of a batch from its error model (None: the defaults)."""
    if model is None or not len(model):
        return Background(snv_rate, indel_rate)
    n = model["depth"].to_numpy(dtype=float)
    snv_x = model[["A", "C", "G", "T"]].to_numpy(dtype=float).sum(axis=1) / 3  # per specific base
    ind_x = model["indel"].to_numpy(dtype=float)
    # sites where the normals carry a real allele (germline polymorphism, or a reference that is not
    # theirs) are kept per site but left out of the global fit, which is about sequencing errors
    alt_share = (3 * snv_x + ind_x) / np.maximum(n, 1)
    err = alt_share <= ERROR_SITE_MAX_SHARE
    w0 = GLOBAL_PRIOR_FRAGMENTS
    mu_snv = (w0 * snv_rate + snv_x[err].sum()) / (w0 + n[err].sum())
    mu_ind = (w0 * indel_rate + ind_x[err].sum()) / (w0 + n[err].sum())
    spread = _spread(snv_x[err], n[err], mu_snv)
    table = model.set_index(["chrom", "pos"])
    normals = int(model["samples"].max()) if "samples" in model else 0
    covered = n >= MIN_SITE_DEPTH
    sites, allelic = int(covered.sum()), int((covered & ~err).sum())
    if spread is None:
        return Background(snv_rate, indel_rate, normals=normals, sites=sites, allelic_sites=allelic, table=table)
    return Background(mu_snv, mu_ind, spread, spread, normals, sites, True, allelic, table)


def beta(bg: Background, chrom, pos, cls) -> tuple[np.ndarray, np.ndarray]:
    """Beta(a, b) of the background rate of each (chrom, pos, allele class); class 'snv' = any base."""
    cls = np.asarray(cls)
    mean = np.where(cls == "indel", bg.indel_rate, bg.snv_rate).astype(float)
    if bg.table is not None and len(cls):
        key = pd.MultiIndex.from_arrays([np.asarray(chrom), np.asarray(pos)])
        found = key.isin(bg.table.index)
        if found.any():
            sub = bg.table.reindex(key[found])
            cols = {c: sub[c].to_numpy(dtype=float) for c in ALLELE_CLASSES}
            snv = sum(cols[c] for c in "ACGT") / 3
            x = np.array([snv[j] if c == "snv" else cols[c][j] for j, c in enumerate(cls[found])])
            nn = sub["depth"].to_numpy(dtype=float)
            mean[found] = (bg.weight * mean[found] + x) / (bg.weight + nn)
    return bg.spread * mean, bg.spread * (1 - mean)


def describe(bg: Background) -> dict:
    """What the background is and where it came from (for the QC json)."""
    return {"learned_from_normals": bg.learned, "normals": bg.normals, "sites_covered": bg.sites,
            "sites_with_an_allele_in_the_normals": bg.allelic_sites,
            "snv_rate_per_base": bg.snv_rate, "indel_rate": bg.indel_rate, "spread": bg.spread,
            "site_weight": bg.weight,
            "note": ("global rates and between-site spread fitted to the normals (method of moments), each site "
                     "shrunk to them" if bg.learned else
                     f"defaults (fewer than {MIN_SITES} sites with >= {MIN_SITE_DEPTH} fragments in the normals)"
                     if bg.normals else "defaults (no error model)")}
