"""`dnadx cnv`: counts -> corrected log2 -> segments -> tumour fraction, ploidy, copy states.

``run_cnv`` is the stage function: tables in, tables out (see the README "File formats").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dnadx.cnv import arm_prior, correction, pattern_test, segmentation, systematic, tumour_fraction
from dnadx.core import params
from dnadx.core.runs import factorize_runs
from dnadx.count.bins import aggregate, check_bin_size
from dnadx.core.errors import InputError
from dnadx.cnv.sex import infer_sex, normal_copy

READS_WARN, READS_FAIL = 300_000, 50_000  # kept fragments: below ~0.02x / 0.003x estimates degrade
NO_PON_NOTE = ("no panel of normals: healthy plasma's arm-level bin effects stay in the profile; where they are larger "
               "than usual a tumour fraction can be off by up to 0.10 and a healthy sample called (benchmarks/README.md, "
               "issue 17, stress block: with a panel 0/24 healthy called, worst error 0.05)")
NOISE_WARN, NOISE_FAIL = 0.25, 0.5  # bin-to-bin MAD of log2 at the analysis bin size


@dataclass
class CnvResult:
    bins: pd.DataFrame
    segments: pd.DataFrame
    summary: dict


def annotate(counts: pd.DataFrame, annotation: pd.DataFrame, bin_size: int) -> pd.DataFrame:
    """Join counts with GC/mappability and aggregate both to ``bin_size`` analysis bins."""
    check_bin_size(bin_size)
    cs = int((counts["end"] - counts["start"]).max())
    asz = int((annotation["end"] - annotation["start"]).max())
    if bin_size % cs or bin_size % asz:
        raise InputError(f"--bin-size {bin_size} is not a multiple of the counts' ({cs} bp) or annotation's "
                         f"({asz} bp) bin size")
    c = aggregate(counts[["chrom", "start", "end", "count"]], bin_size, mean_cols=())
    a = aggregate(annotation[["chrom", "start", "end", "gc", "mappability"]], bin_size, sum_cols=())
    merged = a.merge(c[["chrom", "start", "count"]], on=["chrom", "start"], how="inner")
    if bin_size > cs:
        if _same_bins(annotation, counts):  # the join is row for row: skip hashing 300,000 string keys (~35 ms)
            fine = annotation[["chrom", "start", "gc", "mappability"]].reset_index(drop=True).assign(
                end=counts["end"].to_numpy(), count=counts["count"].to_numpy())
        else:
            fine = annotation[["chrom", "start", "gc", "mappability"]].merge(
                counts[["chrom", "start", "end", "count"]], on=["chrom", "start"], how="inner")
        fine = fine.assign(gc_expected=correction.fine_gc_expected(fine))
        e = aggregate(fine[["chrom", "start", "end", "gc_expected"]], bin_size, sum_cols=("gc_expected",), mean_cols=())
        merged = merged.merge(e[["chrom", "start", "gc_expected"]], on=["chrom", "start"], how="left")
    if merged.empty or merged["count"].sum() == 0:
        raise InputError("counts and annotation share no bins with reads: different genome build or chromosome naming?")
    ends_a = a.groupby("chrom")["end"].max()
    ends_c = c.groupby("chrom")["end"].max()
    shared = ends_a.index.intersection(ends_c.index)
    bad = [ch for ch in shared if ends_a[ch] != ends_c[ch]]
    if bad:
        raise InputError(f"counts and annotation disagree on the length of {bad[0]} ({ends_c[bad[0]]} vs "
                         f"{ends_a[bad[0]]} bp): the counts are from another genome build; pass --genome")
    return merged


def _same_bins(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether ``a`` and ``b`` list the same (chrom, start) bins in the same order, each bin once (start
    rising within each chromosome's single run): their inner join on (chrom, start) is then row for row.
    `dnadx count` writes the annotation's own fine bins, so this is the usual case."""
    if len(a) != len(b):
        return False
    start = a["start"].to_numpy()
    if not np.array_equal(start, b["start"].to_numpy()):
        return False
    if not bool((a["chrom"].to_numpy() == b["chrom"].to_numpy()).all()):
        return False
    codes, names = factorize_runs(a["chrom"])
    same = codes[1:] == codes[:-1]
    return int(len(codes) - same.sum()) == len(names) and bool((start[1:][same] > start[:-1][same]).all())


def run_cnv(bins: pd.DataFrame, *, pon: pd.DataFrame | None = None, loci: pd.DataFrame | None = None,
            arms: pd.DataFrame | None = None, arm_patterns: pd.DataFrame | None = None,
            sample: str = "sample") -> CnvResult:
    """Copy number of one sample.

    Parameters
    ----------
    bins : annotated analysis bins (chrom, start, end, gc, mappability, count), see ``annotate``.
    pon : panel of normals on the same bins (chrom, start, median, usable, reason), optional.
    loci : genes of interest (symbol, chrom, start, end) for the focal test and the dropped-bin report.
    arms : chromosome arms (chrom, arm, start, end, arm_name); segments are not allowed to cross the centromere.
    arm_patterns : breast-cancer arm patterns (pattern, weight, arm_name, gain, loss; `reference.arm_patterns`):
        the tumour-fraction model's state prior (`arm_prior`); needs ``arms``. None: every arm alike.
    """
    bins = bins.reset_index(drop=True)
    pon_usable = None
    if pon is not None:
        pon = _align_pon(bins, pon)
        pon_usable = pon["usable"].to_numpy(bool)
    usable0, _ = correction.usable_mask(bins, pon_usable=pon_usable)
    first = correction.correct(bins, usable0)
    log2_first = first["log2"].to_numpy()
    auto = bins["chrom"].isin(params.AUTOSOMES).to_numpy()
    # genes of interest get no exemption: an empty or isolated several-fold bin over ERBB2 had become an ERBB2
    # copy loss (HER2 loss in an amplified tumour) or amplification (copy number 54 in a luminal one) in the one
    # ERBB2 rule; dropped, the gene reports the reason, and `dnadx.scores.erbb2` reads ERBB2 from the segment
    # around an empty bin and calls it not assessable after a several-fold high one
    outliers = correction.flag_outliers(bins, log2_first, usable0, sigma=correction.noise_mad(log2_first[auto]))
    sex = infer_sex(bins, np.where(outliers, np.nan, log2_first))
    usable, reason = correction.usable_mask(bins, pon_usable=pon_usable, drop_chrY=sex["sex"] != "male",
                                            outliers=outliers)
    sex_of_normal = "male" if sex["sex"] == "male" else "female"
    arm_of_bin = arm_prior.segment_arms(bins, arms) if arms is not None else None
    out, sigma, seg_id, focal_tests, segs, fit = _model(bins, usable, pon, loci, arms, arm_patterns, sex_of_normal, None,
                                                        arm_of_bin)
    if fit.tumour_fraction > 0:
        # second pass: GC/mappability curves fitted with the found copy-number changes taken out
        expected = _expected_per_bin(segs, seg_id, fit)
        out, sigma, seg_id, focal_tests, segs, fit = _model(bins, usable, pon, loci, arms, arm_patterns, sex_of_normal,
                                                            expected, arm_of_bin)
    pattern = None
    if arm_patterns is not None and arms is not None:
        # the second detection rule: a contrast of the arm means along breast-cancer arm patterns
        x = np.where(usable & bins["chrom"].isin(params.AUTOSOMES).to_numpy(), out["log2"].to_numpy(float), np.nan)
        pattern = pattern_test.arm_contrast(x, arm_of_bin, sigma, fit.systematic["tau"],
                                            arm_patterns, noise_factor=(fit.systematic["noise_segment"] / sigma) ** 2)
        if pattern["detected"] and fit.tumour_fraction == 0:
            tumour_fraction.accept_pattern_call(fit, pattern["p_lower"])
    zero = usable & (bins["count"].to_numpy() == 0)
    seg_map = segs.set_index("segment")
    out["usable"] = usable.astype(int)
    out["drop_reason"] = reason
    out["segment"] = seg_id
    has = seg_id >= 0
    out["segment_log2"] = np.where(has, seg_map["log2"].reindex(seg_id).to_numpy(), np.nan)
    out["copy_number"] = np.where(has, seg_map["copy_number"].reindex(seg_id).to_numpy(), -1).astype(int)
    summary = _summary(out, segs, fit, sigma, sex, loci, focal_tests, sample, zero, pattern, with_pon=pon is not None)
    cols = ["chrom", "start", "end", "gc", "mappability", "count", "usable", "drop_reason", "raw_log2", "log2",
            "segment", "segment_log2", "copy_number"]
    return CnvResult(out[cols], segs, summary)


def _model(bins, usable, pon, loci, arms, arm_patterns, sex, known_log2, arm_of_bin):
    """Correct, normalise, segment and fit once; ``known_log2`` is passed to the GC/mappability fit; ``arm_of_bin``:
    each bin's arm (`arm_prior.segment_arms`), None without ``arms``."""
    out = correction.correct(bins, usable, known_log2=known_log2)
    log2 = out["log2"].to_numpy(float)
    if pon is not None:
        log2 = log2 - pon["median"].to_numpy(float)
        auto = out["chrom"].isin(params.AUTOSOMES).to_numpy() & np.isfinite(log2)
        log2 = log2 - correction.centre_offset(log2, out["chrom"].to_numpy(), auto)
    out["log2"] = log2
    sigma = correction.noise_mad(log2[out["chrom"].isin(params.AUTOSOMES).to_numpy()])
    pelt_id = segmentation.segment(out, sigma, arms=arms)
    seg_id, focal_tests = pelt_id, []
    if loci is not None and len(loci):
        seg_id, focal_tests = segmentation.focal_split(out, pelt_id, loci, sigma)
    segs = segmentation.summarise(out, seg_id, sigma)  # segment levels robust to outlier bins the mask let through
    chrom_arr = segs["chrom"].to_numpy()
    segs["normal_copy"] = normal_copy(chrom_arr, sex)
    segs["autosome"] = np.isin(chrom_arr, params.AUTOSOMES)
    # focal windows: fitted whatever their size; gain windows (one-sided loci) get a state above their parent's
    split = {(t["chrom"], t["start"]): t for t in focal_tests if t["split"]}
    key = list(zip(chrom_arr, segs["start"].to_numpy()))
    segs["focal"] = [k in split for k in key]
    segs["gain_window"] = [k in split and split[k]["gain_threshold"] is not None and split[k]["log2_difference"] > 0
                           for k in key]
    first_bin = pd.Series(np.arange(len(seg_id))).groupby(seg_id).first()
    segs["parent"] = pelt_id[first_bin.reindex(segs["segment"]).to_numpy()]
    if arms is not None:
        segs["arm_name"] = arm_prior.segment_arms(segs, arms)
    auto = out["chrom"].isin(params.AUTOSOMES).to_numpy()
    panel_mse = 0.0
    if pon is not None and "region_mse" in pon:
        mse = pon["region_mse"].to_numpy(float)[auto & usable]
        panel_mse = float(np.mean(mse[np.isfinite(mse)])) if np.isfinite(mse).any() else 0.0
    normals_sd = float(np.nan_to_num(pon["arm_sd"].max())) if pon is not None and "arm_sd" in pon else 0.0
    model = systematic.variance_model(np.where(auto, log2, np.nan), pelt_id, sigma,
                                      int((out["end"] - out["start"]).max()), with_pon=pon is not None,
                                      panel_mse=panel_mse, normals_sd=normals_sd,
                                      arm_of_bin=arm_of_bin)
    fit = tumour_fraction.fit(segs, model["noise_segment"], tau=model["tau"],
                              patterns=arm_patterns if arms is not None else None)
    fit.systematic = model
    segs["copy_number"] = fit.states
    return out, sigma, seg_id, focal_tests, segs, fit


def overlaps(bins: pd.DataFrame, loci: pd.DataFrame | None) -> np.ndarray:
    """Bins overlapping any locus of ``loci`` (chrom, start, end)."""
    hit = np.zeros(len(bins), bool)
    if loci is None:
        return hit
    chrom, start, end = bins["chrom"].to_numpy(), bins["start"].to_numpy(), bins["end"].to_numpy()
    for g in loci.itertuples(index=False):
        hit |= (chrom == g.chrom) & (end > g.start) & (start < g.end)
    return hit


def _expected_per_bin(segs, seg_id, fit) -> np.ndarray:
    """The fitted model's log2 per bin: mu(state of its segment); 0 where a bin has no segment or state."""
    mu = tumour_fraction.expected_log2(segs["copy_number"].to_numpy(float), segs["normal_copy"].to_numpy(float),
                                       fit.tumour_fraction, fit.ploidy)
    mu = np.where(segs["copy_number"].to_numpy() >= 0, mu, 0.0)
    per_seg = pd.Series(mu, index=segs["segment"].to_numpy())
    return np.where(seg_id >= 0, per_seg.reindex(seg_id).to_numpy(), 0.0)


def _align_pon(bins: pd.DataFrame, pon: pd.DataFrame) -> pd.DataFrame:
    width = int((pon["end"] - pon["start"]).max())
    want = int((bins["end"] - bins["start"]).max())
    if width != want:
        raise InputError(f"panel of normals has {width} bp bins but the analysis uses {want} bp; "
                         f"rebuild the panel with --bin-size {want}")
    merged = bins[["chrom", "start"]].merge(pon, on=["chrom", "start"], how="left")
    if merged["median"].notna().sum() < 0.5 * len(bins):
        raise InputError("panel of normals covers under half of the bins: built for another genome build?")
    merged["usable"] = merged["usable"].fillna(0).astype(int)
    merged["reason"] = merged["reason"].fillna("pon_missing")
    return merged


def _summary(out, segs, fit, sigma, sex, loci, focal_tests, sample, zero, pattern=None, *, with_pon=True) -> dict:
    reasons = out.loc[out["usable"] == 0, "drop_reason"].value_counts().sort_index()
    genes = {}
    if loci is not None:
        for g in loci.itertuples(index=False):
            over = out[(out["chrom"] == g.chrom) & (out["end"] > g.start) & (out["start"] < g.end)]
            if over.empty:
                continue
            ok = over[over["usable"] == 1]
            mid = over.iloc[len(over) // 2]
            genes[g.symbol] = {
                "chrom": g.chrom, "start": int(g.start), "end": int(g.end), "bins": int(len(over)),
                "usable_bins": int(len(ok)),
                "status": "assessable" if len(ok) else "no_usable_bins",
                "drop_reasons": sorted(set(over.loc[over["usable"] == 0, "drop_reason"])),
                "log2": float(ok["log2"].mean()) if len(ok) else None,
                "segment_log2": float(mid["segment_log2"]) if np.isfinite(mid["segment_log2"]) else None,
                "copy_number": int(mid["copy_number"]) if mid["copy_number"] >= 0 else None,
                "copy_number_source": "gene bins" if len(ok) else "segment around the gene (its own bins unusable)",
            }
    reads = int(out["count"].sum())
    qc_reasons, status = [], "pass"
    if reads < READS_FAIL or not np.isfinite(sigma) or sigma > NOISE_FAIL:
        status = "fail"
    elif reads < READS_WARN or sigma > NOISE_WARN:
        status = "warn"
    if reads < READS_WARN:
        qc_reasons.append(f"low depth: {reads} fragments kept (< {READS_WARN})")
    if np.isfinite(sigma) and sigma > NOISE_WARN:
        qc_reasons.append(f"noisy: bin MAD {sigma:.3f} (> {NOISE_WARN})")
    lost = [g for g, v in genes.items() if v["status"] != "assessable"]
    if lost:
        status = "warn" if status == "pass" else status
        qc_reasons.append(f"no usable bins at {', '.join(lost)}")
    if fit.ci[0] <= 0:
        qc_reasons.append("tumour fraction not distinguishable from 0: copy-number calls not assessable")
    elif not with_pon:
        qc_reasons.append(NO_PON_NOTE)
    bins_altered = out[(out["usable"] == 1) & (out["copy_number"] >= 0)]
    return {
        "sample": sample,
        "bin_size": int((out["end"] - out["start"]).max()),
        "reads_kept": reads,
        "tumor_fraction": fit.tumour_fraction,
        "tumor_fraction_ci": list(fit.ci),
        "tumor_fraction_method": "profile likelihood over clonal states, 95% interval",
        "tumor_detected": bool(fit.ci[0] > 0),
        "tumor_evidence_loglik": fit.evidence,
        "tumor_evidence_needed": fit.evidence_needed,
        "state_prior": fit.state_prior,
        "tumor_call_decided_by": fit.decided_by,
        "arm_pattern_test": pattern,
        "systematic_sd": fit.systematic,
        "ploidy": fit.ploidy,
        "ploidy_ambiguous": bool(fit.ploidy_alternatives),
        "ploidy_alternatives": fit.ploidy_alternatives or [],
        "sex": sex["sex"], "sex_method": sex["method"], "sex_evidence": sex["evidence"],
        "noise_mad": sigma,
        "n_bins": int(len(out)), "usable_bins": int(out["usable"].sum()),
        "dropped_bins": {k: int(v) for k, v in reasons.items()},
        "empty_usable_bins": int(zero.sum()),
        "n_segments": int(len(segs)),
        "altered_fraction": float((bins_altered["copy_number"] != 2).mean()) if len(bins_altered) else 0.0,
        "genes_of_interest": genes,
        "focal_tests": focal_tests,
        "solutions": fit.solutions,
        "qc_status": status,
        "qc_reasons": qc_reasons,
    }


def seg_table(segs: pd.DataFrame, sample: str) -> pd.DataFrame:
    """IGV SEG: ID, chrom, loc.start, loc.end, num.mark, seg.mean (log2), copy_number."""
    return pd.DataFrame({"ID": sample, "chrom": segs["chrom"], "loc.start": segs["start"], "loc.end": segs["end"],
                         "num.mark": segs["n_bins"], "seg.mean": segs["log2"].round(4),
                         "copy_number": segs["copy_number"]})


def loci_of_interest(genes: pd.DataFrame) -> pd.DataFrame:
    sel = genes[genes["symbol"].isin(params.GENES_OF_INTEREST)].drop_duplicates("symbol")
    return sel[["symbol", "chrom", "start", "end"]].reset_index(drop=True)
