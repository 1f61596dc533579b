"""Calling SNVs/indels from a fragment pileup against a background error model.

Model, per position i and allele class a (each of the three non-reference bases, or 'indel'):
  background rate   e_ia ~ Beta(S m_ia, S (1 - m_ia)),  m_ia = (W mu_a + x_ia) / (W + n_ia)
  (dnadx.variants.background: mu_a, S and W learned from the normals of the error model when they
  cover enough sites, else defaults; x_ia / n_ia error / total fragments summed over the normals)
  test              p = P(X >= k | n, alpha, beta),  X ~ BetaBinomial  (k alt fragments of depth n)
  correction        Bonferroni over the family: every allele class of every target position
                    (m = 5 x positions: 4 bases + indel), and separately the listed hotspot alleles (prior
                    knowledge, a family of their own, as hotspot-aware ctDNA callers do; m = number of
                    listed alleles, matched by allele, not position)
  call              p * m < ALPHA, k >= MIN_ALT_FRAGMENTS and no artefact filter (FILTERS: strand bias,
                    read position, base quality, mismatches)
  detection limit   LoD95(n) = smallest VAF f with P(Bin(n, f) >= k_crit(n)) >= 0.95, where
                    k_crit(n) is the smallest k significant at depth n
  assessable        LoD95 <= MAX_ASSESSABLE_LOD (0.5): a clonal heterozygous variant of a pure
                    tumour would be seen; otherwise 'not_assessable' (never 'wild type').
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln
from scipy.stats import binom, fisher_exact

from dnadx.variants import background
from dnadx.variants.background import ALLELE_CLASSES, DEFAULT_INDEL_RATE, DEFAULT_SNV_RATE
from dnadx.variants.evidence import hotspot_alleles

ALPHA = 0.05
MIN_ALT_FRAGMENTS = 3
MAX_ASSESSABLE_LOD = 0.5
# With a tumour fraction: 'not_detected' needs this probability of seeing a clonal heterozygous mutation.
DETECTION_MIN_PROBABILITY = 0.8
# Artefact filters (named VCF FILTERs, counted in the QC json) need this many alt reads to judge.
MIN_READS_FOR_FILTERS = 4
# strand_bias: GATK's hard-filter thresholds for SNVs, FS (Phred-scaled Fisher exact p of the
# ref/alt x forward/reverse table) > 60 or SOR (symmetric odds ratio) > 3.
STRAND_FS_MAX = 60.0
STRAND_SOR_MAX = 3.0
# read_position: median distance of the alt base from the nearer read end below this (end-repair
# and adapter artefacts sit in the last bases of reads; Mutect2's median read-position filter).
MIN_MEDIAN_READ_POSITION = 5
# base_quality: median base quality of the alt bases below this (bases < --min-baseq never count).
MIN_MEDIAN_ALT_BASEQ = 25
HIGH_MISMATCH_MAX_SHARE = 0.5
FILTERS = {  # name -> VCF header description
    "not_significant": "Adjusted p-value >= alpha",
    "low_alt": "Fewer alt fragments than the minimum (3)",
    "strand_bias": f"Strand bias: FS > {STRAND_FS_MAX:g} or SOR > {STRAND_SOR_MAX:g} (GATK definitions)",
    "read_position": f"Median distance of the alt base from the nearer read end < {MIN_MEDIAN_READ_POSITION}",
    "base_quality": f"Median alt base quality < {MIN_MEDIAN_ALT_BASEQ}",
    "mismatch": "Most alt fragments from reads with many other mismatches",
}
# Gene status: 'not_detected' needs this share of coding positions assessable.
GENE_MIN_ASSESSABLE_SHARE = 0.8
ERROR_MODEL_COLUMNS = ("chrom", "pos", "depth", "samples") + ALLELE_CLASSES


@dataclass(frozen=True)
class CallOptions:
    alpha: float = ALPHA
    min_alt_fragments: int = MIN_ALT_FRAGMENTS
    snv_rate: float = DEFAULT_SNV_RATE
    indel_rate: float = DEFAULT_INDEL_RATE


def allele_class(allele: str) -> str:
    return "indel" if allele[0] in "+-" else allele


def build_error_model(pileups: list[tuple[pd.DataFrame, pd.DataFrame]]) -> pd.DataFrame:
    """Sum error fragments per position and allele class over normal samples' (depth, alleles)."""
    frames = []
    for depth, alleles in pileups:
        d = depth[["chrom", "pos", "depth"]].copy()
        for a in ALLELE_CLASSES:
            d[a] = 0
        if len(alleles):
            cls = alleles.assign(cls=alleles["allele"].map(allele_class))
            wide = cls.pivot_table(index=["chrom", "pos"], columns="cls", values="alt_fragments", aggfunc="sum")
            d = d.set_index(["chrom", "pos"])
            for a in wide.columns:
                d.loc[wide.index, a] = wide[a].fillna(0).astype(np.int64)
            d = d.reset_index()
        frames.append(d.assign(samples=1))
    model = pd.concat(frames).groupby(["chrom", "pos"], sort=True, as_index=False).sum()
    return model[list(ERROR_MODEL_COLUMNS)]


def _tails(n: np.ndarray, a: np.ndarray, b: np.ndarray, kmax: int) -> np.ndarray:
    """P(X >= k) for k = 1..kmax, X ~ BetaBinomial(n, a, b); rows = inputs (log-space pmf, summed)."""
    # pmf up to kmax + 300: the tail beyond is negligible at background rates (mean << 300)
    top = int(min(max(n.max(initial=0), kmax), kmax + 300))
    j = np.arange(top + 1)[None, :]
    n_, a_, b_ = n[:, None].astype(float), a[:, None], b[:, None]
    valid = j <= n_
    jj = np.minimum(j, n_)
    logpmf = (gammaln(n_ + 1) - gammaln(jj + 1) - gammaln(n_ - jj + 1)
              + betaln(jj + a_, n_ - jj + b_) - betaln(a_, b_))
    pmf = np.where(valid, np.exp(logpmf), 0.0)
    below = np.cumsum(pmf, axis=1)[:, :kmax]  # P(X <= k-1), k = 1..kmax
    # upper tails summed from the top where they are tiny (no 1 - cdf cancellation)
    upper = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1][:, 1:kmax + 1]
    if upper.shape[1] < kmax:
        upper = np.pad(upper, ((0, 0), (0, kmax - upper.shape[1])))
        below = np.pad(below, ((0, 0), (0, kmax - below.shape[1])), constant_values=1.0)
    return np.where(below > 0.5, upper, 1 - below)


def upper_tail(k: np.ndarray, n: np.ndarray, a: np.ndarray, b: np.ndarray, span: int = 300) -> np.ndarray:
    """P(X >= k), X ~ BetaBinomial(n, a, b), summed over k..k+span in log space (exact in the tail,
    where scipy's 1 - cdf cancels to 0 below ~1e-16)."""
    k, n = np.asarray(k, float)[:, None], np.asarray(n, float)[:, None]
    a, b = np.asarray(a, float)[:, None], np.asarray(b, float)[:, None]
    j = k + np.arange(span + 1)[None, :]
    jj = np.minimum(j, n)
    logpmf = (gammaln(n + 1) - gammaln(jj + 1) - gammaln(n - jj + 1)
              + betaln(jj + a, n - jj + b) - betaln(a, b))
    return np.minimum(np.where(j <= n, np.exp(logpmf), 0.0).sum(axis=1), 1.0)


def critical_k(n: np.ndarray, a: np.ndarray, b: np.ndarray, m: int, opt: CallOptions) -> np.ndarray:
    """Smallest alt count significant after Bonferroni over ``m`` tests (>= min_alt_fragments)."""
    n = np.asarray(n, dtype=np.int64)
    kmax = 200
    key = np.stack([n, np.asarray(a, float), np.asarray(b, float)], axis=1)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    un = uniq[:, 0].astype(np.int64)
    sf = _tails(un, uniq[:, 1], uniq[:, 2], kmax) * m
    ks = np.arange(1, kmax + 1)
    sig = (sf < opt.alpha) & (ks[None, :] <= un[:, None])
    k = np.where(sig.any(axis=1), ks[np.argmax(sig, axis=1)], np.iinfo(np.int64).max)
    return np.maximum(k, opt.min_alt_fragments)[inv.ravel()]


def lod95(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Smallest VAF detected with 95% probability at depth n given critical count k (inf if none)."""
    grid = np.concatenate([np.arange(0.001, 0.1, 0.001), np.arange(0.1, 1.0001, 0.005)])
    n = np.asarray(n, dtype=np.int64)
    out = np.full(len(n), np.inf)
    ok = k <= n
    if ok.any():
        power = binom.sf(k[ok, None] - 1, n[ok, None], grid[None, :])
        hit = power >= 0.95
        out[ok] = np.where(hit.any(axis=1), grid[np.argmax(hit, axis=1)], np.inf)
    return out


def clonal_het_vaf(p: float | None, copy_number: float = 2.0) -> float | None:
    """VAF of a clonal heterozygous tumour mutation (one mutant copy of ``copy_number``) at tumour
    fraction p: p / (2 (1 - p) + p c). None without a tumour fraction."""
    if p is None or not np.isfinite(p):
        return None
    return float(p / (2 * (1 - p) + p * copy_number)) if p > 0 else 0.0


def fit_background(model, opt: CallOptions = None) -> background.Background:
    """The background of ``model``: a fitted Background as is, an error-model table fitted, None the defaults."""
    if isinstance(model, background.Background):
        return model
    opt = opt or CallOptions()
    return background.fit(model, opt.snv_rate, opt.indel_rate)


def position_limits(depth: pd.DataFrame, model, m: int, opt: CallOptions,
                    clonal_vaf: float | None = None) -> pd.DataFrame:
    """Critical alt count and LoD95 per position for an SNV (the most common class).

    Without ``clonal_vaf`` a position is assessable when LoD95 <= MAX_ASSESSABLE_LOD (a clonal het
    mutation of a pure tumour would be seen). With it (the expected VAF of a clonal heterozygous
    mutation at the sample's tumour fraction, `clonal_het_vaf`), ``p_detect`` = P(Binomial(depth,
    clonal_vaf) >= k_crit) and a position is assessable when p_detect >= DETECTION_MIN_PROBABILITY.
    """
    # the normals' SNV errors averaged over the three bases
    a, b = background.beta(fit_background(model, opt), depth["chrom"], depth["pos"], ["snv"] * len(depth))
    k = critical_k(depth["depth"].to_numpy(), a, b, m, opt)
    out = depth.assign(k_crit=k, lod95=lod95(depth["depth"].to_numpy(), k))
    if clonal_vaf is None:
        return out.assign(p_detect=np.nan, assessable=out["lod95"] <= MAX_ASSESSABLE_LOD)
    n = out["depth"].to_numpy(dtype=np.int64)
    kk = np.minimum(np.asarray(k, dtype=np.int64), n + 1)  # k_crit above the depth: never detected
    p_detect = np.where(k <= n, binom.sf(kk - 1, n, clonal_vaf), 0.0) if clonal_vaf > 0 else np.zeros(len(n))
    return out.assign(p_detect=p_detect, assessable=p_detect >= DETECTION_MIN_PROBABILITY)


def score_alleles(depth: pd.DataFrame, alleles: pd.DataFrame, hotspots: pd.DataFrame, model,
                 opt: CallOptions = CallOptions()) -> pd.DataFrame:
    """p-values, Bonferroni-adjusted p-values, filters and the call for every observed alt allele."""
    if not len(alleles):
        return alleles.assign(depth=[], ref_fragments=[], vaf=[], p_value=[], p_adjusted=[], family=[], fs=[], sor=[], filters=[],
                              called=[])
    d = alleles.merge(depth[["chrom", "pos", "depth", "ref_fragments"]], on=["chrom", "pos"], how="left")
    cls = d["allele"].map(allele_class).to_numpy()
    a, b = background.beta(fit_background(model, opt), d["chrom"], d["pos"], cls)
    k = d["alt_fragments"].to_numpy()
    n = np.maximum(d["depth"].to_numpy(), k)
    p = np.where(k > 0, upper_tail(k, n, a, b), 1.0)
    # the hotspot family holds the listed alleles only (another base at a hotspot position is a target test)
    hot = hotspot_alleles(hotspots) if len(hotspots) else set()
    is_hot = np.array([(c, int(x), a) in hot for c, x, a in zip(d["chrom"], d["pos"], d["allele"])], dtype=bool)
    m_all = len(ALLELE_CLASSES) * max(len(depth), 1)
    m_hot = max(len(hot), 1)
    padj = np.minimum(np.where(is_hot, p * m_hot, p * m_all), 1.0)
    d = d.assign(vaf=k / np.maximum(n, 1), p_value=p, p_adjusted=padj,
                 family=np.where(is_hot, "hotspot", "target"))
    sb = [strand_bias(*x) if x[2] + x[3] else (0.0, 0.0)
          for x in zip(d["ref_fwd"], d["ref_rev"], d["alt_fwd"], d["alt_rev"])]
    d["fs"], d["sor"] = [x[0] for x in sb], [x[1] for x in sb]
    d["filters"] = [_filters(r, opt) for r in d.itertuples(index=False)]
    d["called"] = d["filters"] == "PASS"
    return d


def strand_bias(ref_fwd: int, ref_rev: int, alt_fwd: int, alt_rev: int) -> tuple[float, float]:
    """GATK's FS (Phred-scaled two-sided Fisher exact p) and SOR (symmetric odds ratio, +1 pseudocounts)."""
    p = fisher_exact([[ref_fwd, ref_rev], [alt_fwd, alt_rev]])[1]
    fs = max(0.0, float(min(-10 * np.log10(max(p, 1e-300)), 999.0)))
    rf, rr, af, ar = ref_fwd + 1, ref_rev + 1, alt_fwd + 1, alt_rev + 1
    ratio = rf * ar / (rr * af)
    sor = np.log(ratio + 1 / ratio) + np.log(min(rf, rr) / max(rf, rr)) - np.log(min(af, ar) / max(af, ar))
    return fs, float(sor)


def _filters(r, opt: CallOptions) -> str:
    f = []
    if r.p_adjusted >= opt.alpha:
        f.append("not_significant")
    if r.alt_fragments < opt.min_alt_fragments:
        f.append("low_alt")
    if r.alt_fwd + r.alt_rev >= MIN_READS_FOR_FILTERS:
        if r.fs > STRAND_FS_MAX or r.sor > STRAND_SOR_MAX:
            f.append("strand_bias")
        if r.alt_pos_median < MIN_MEDIAN_READ_POSITION:
            f.append("read_position")
        if r.alt_bq_median < MIN_MEDIAN_ALT_BASEQ:
            f.append("base_quality")
    if r.alt_fragments and r.alt_high_mismatch / r.alt_fragments > HIGH_MISMATCH_MAX_SHARE:
        f.append("mismatch")
    return ";".join(f) if f else "PASS"


def filter_counts(tested: pd.DataFrame) -> dict[str, int]:
    """Tested alleles failing each FILTER (an allele can fail several) and PASS, for the QC json."""
    out = {name: 0 for name in ("PASS", *FILTERS)}
    for value in tested["filters"] if len(tested) else ():
        for name in value.split(";"):
            out[name] += 1
    return out


ASSESS_COLUMNS = ("level", "gene", "alteration", "kb_id", "status", "depth", "lod95", "assessable_share", "detail")


def _detect_text(p_detect: float, tumour: tuple[float, float] | None) -> str:
    if tumour is None or not np.isfinite(p_detect):
        return ""
    p, vaf = tumour
    return (f"; a clonal heterozygous mutation (VAF {vaf:.3f} at tumour fraction {p:.3f}) would be seen with "
            f"probability {p_detect:.2f} (needed: {DETECTION_MIN_PROBABILITY:g})")


def _share_text(tumour: tuple[float, float] | None) -> str:
    if tumour is None:
        return ""
    return (f": a clonal heterozygous mutation, VAF {tumour[1]:.3f} at tumour fraction {tumour[0]:.3f}, seen with "
            f"probability >= {DETECTION_MIN_PROBABILITY:g}")


def assess(limits: pd.DataFrame, calls: pd.DataFrame, hotspots: pd.DataFrame, genes: list[str],
           hotspot_limits: pd.DataFrame | None = None,
           tumour: tuple[float, float] | None = None) -> pd.DataFrame:
    """called / not_detected / not_assessable per sample, gene and hotspot (never 'wild type').

    Parameters
    ----------
    limits : `position_limits` output (chrom, pos, gene, depth, lod95, assessable).
    calls : `score_alleles` output (only rows with ``called`` count).
    hotspots : `evidence.hotspots` (kb_id, gene, alteration, chrom, pos, alleles); a hotspot is called
        only by a call of one of its alleles.
    genes : target genes to report.
    hotspot_limits : limits computed in the hotspot family (smaller Bonferroni m), used for the
        hotspot rows; default ``limits``.
    tumour : (tumour fraction, clonal heterozygous VAF) when the limits were computed with
        ``clonal_vaf`` (TF-aware assessability), for the row details.
    """
    rows = []
    called = calls[calls["called"]] if len(calls) else calls
    med = float(limits["depth"].median()) if len(limits) else 0.0
    share = float(limits["assessable"].mean()) if len(limits) else 0.0
    gene_share = limits.groupby("gene")["assessable"].mean() if len(limits) else pd.Series(dtype=float)
    if not (gene_share >= GENE_MIN_ASSESSABLE_SHARE).any() and not len(called):  # no gene readable
        why = (f"median fragment depth {med:g} over the target coding regions: too low to call point "
               "mutations; only copy-number events can be read from this sample")
        if tumour is not None and share == 0 and tumour[1] == 0:
            why = ("no tumour detected (tumour fraction interval reaches 0): absence of a tumour mutation cannot be "
                   f"read at any depth (median fragment depth {med:g}); a mutation that is present is still called")
        elif tumour is not None:
            why = (f"median fragment depth {med:g}: a clonal heterozygous mutation (VAF {tumour[1]:.3f} at tumour "
                   f"fraction {tumour[0]:.3f}) would be missed at most positions; only copy-number events can be read")
        rows.append(("sample", "", "point mutations", "", "not_assessable", med, np.nan, share, why))
    for gene in genes:
        g = limits[limits["gene"] == gene]
        gd = float(g["depth"].median()) if len(g) else 0.0
        gs = float(g["assessable"].mean()) if len(g) else 0.0
        glod = float(g.loc[g["assessable"], "lod95"].median()) if g["assessable"].any() else np.inf
        gc = called[called["gene"] == gene] if len(called) else called
        if len(gc):
            rows.append(("gene", gene, "point mutation", "", "called", gd, glod, gs, f"{len(gc)} variant(s) called"))
        elif gs >= GENE_MIN_ASSESSABLE_SHARE:
            rows.append(("gene", gene, "point mutation", "", "not_detected", gd, glod, gs,
                         f"none detected; 95% detection limit VAF {glod:.3f} at median depth {gd:g} "
                         f"({gs:.0%} of coding positions assessable{_share_text(tumour)})"))
        else:
            rows.append(("gene", gene, "point mutation", "", "not_assessable", gd, glod, gs,
                         f"only {gs:.0%} of coding positions assessable{_share_text(tumour)} (median depth {gd:g})"))
    for h in hotspots.itertuples(index=False):
        hl = limits if hotspot_limits is None else hotspot_limits
        at = hl[(hl["chrom"] == h.chrom) & (hl["pos"] == int(h.pos))]
        dep = float(at["depth"].iloc[0]) if len(at) else 0.0
        lod = float(at["lod95"].iloc[0]) if len(at) else np.inf
        hc = called[(called["chrom"] == h.chrom) & (called["pos"] == int(h.pos))
                    & called["allele"].isin(h.alleles)] if len(called) else called
        if len(hc):
            r = hc.iloc[0]
            rows.append(("hotspot", h.gene, h.alteration, h.kb_id, "called", dep, lod, np.nan,
                         f"allele {r['allele']} in {int(r['alt_fragments'])}/{int(r['depth'])} fragments"))
        elif len(at) and bool(at["assessable"].iloc[0]):
            rows.append(("hotspot", h.gene, h.alteration, h.kb_id, "not_detected", dep, lod, np.nan,
                         f"not detected; 95% detection limit VAF {lod:.3f} at depth {dep:g}"
                         + _detect_text(at["p_detect"].iloc[0], tumour)))
        else:
            why = (f"depth {dep:g} fragments: too low for any call" if not len(at) or not np.isfinite(lod) or
                   not np.isfinite(at["p_detect"].iloc[0]) else
                   f"95% detection limit VAF {lod:.3f} at depth {dep:g}" + _detect_text(at["p_detect"].iloc[0], tumour))
            rows.append(("hotspot", h.gene, h.alteration, h.kb_id, "not_assessable", dep, lod, np.nan, why))
    return pd.DataFrame(rows, columns=ASSESS_COLUMNS)


def vcf_alleles(ref_base: str, allele: str, fetch, chrom: str, pos: int) -> tuple[str, str]:
    """VCF REF/ALT of a pileup allele at 1-based ``pos`` (indels anchored on the base at ``pos``)."""
    if allele.startswith("+"):
        return ref_base, ref_base + allele[1:]
    if allele.startswith("-"):
        n = int(allele[1:])
        return fetch(chrom, pos - 1, pos + n).upper(), ref_base
    return ref_base, allele


def left_normalise(fetch, chrom: str, pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Left-aligned, parsimonious VCF allele (Tan et al., Bioinformatics 2015; what `bcftools norm` does):
    trim a shared last base, extend to the left while an allele is empty, then trim shared first bases."""
    changed = True
    while changed:
        changed = False
        if ref and alt and ref[-1] == alt[-1] and len(ref) + len(alt) > 2:
            ref, alt, changed = ref[:-1], alt[:-1], True
        if not ref or not alt:
            pos -= 1
            base = fetch(chrom, pos - 1, pos).upper()
            ref, alt, changed = base + ref, base + alt, True
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt
