"""The one ERBB2 (HER2) rule: a sample's copy-number call and its change between two timepoints.

`dnadx score` (score.json ``erbb2_call``), `dnadx variants` (resistance.tsv copy-number rows,
``--previous-cnv``) and `dnadx report` (summary.tsv ``erbb2_call``/``resistance``, the longitudinal
view) all call :func:`classify` / :func:`sample_state` for a sample and :func:`change` for two
timepoints of one patient, so they cannot disagree.

The observed log2 ratio L of the segment covering ERBB2 is diluted by the tumour fraction p
(tumour ploidy phi)::

    L = log2((2(1 - p) + p c) / (2(1 - p) + p phi))
    c = (2^L (2(1 - p) + p phi) - 2(1 - p)) / p                 tumour copy number

L is the ``segment_log2`` of ERBB2's segment, or the mean bin log2 over a FOCAL_WIDTH window
centred on ERBB2 when that window stands out from the segment (see :func:`erbb2_log2`).
Uncertainty: se(L) = sqrt(sd_bin^2 / n + SYSTEMATIC_SD^2) for a segment of n usable bins
(sd_bin = the sample's bin noise, ``noise_mad`` of cnv.json). The copy-number interval is
the range of c over L +- 1.96 se(L) and p over its interval (c is monotone in each).

Detectable copy number: the lowest c whose expected L is 3 se_focal above 0 at this p,
where se_focal is se(L) for a focal amplicon of FOCAL_WIDTH (n = FOCAL_WIDTH / bin size
bins): segmentation can only isolate an amplicon that stands out at that width. The
call, with z = L / se(L):

- no usable bin or segment covers ERBB2, or ERBB2's own bins were dropped by `dnadx cnv` as isolated outliers
  several-fold above both neighbours (an artefact, or an amplicon narrower than a bin): not_assessable;
- p < MIN_TF (the stated limit, 0.05): amplified if z >= 3, L >= LOW_TF_MIN_LOG2 and the copy number
  at the *upper* end of the tumour-fraction interval is >= AMP_CN (a focal amplification can
  be plain although the genome-wide estimate is ~0; the copy number is then a lower bound),
  else not_assessable;
- amplified if c >= AMP_CN and z >= 3;
- not_assessable if an amplification of NOT_MISSED_CN copies could not be told from neutral
  (detectable copy number > NOT_MISSED_CN);
- gain if c >= phi + 0.5 and z >= 3; loss if c <= phi - 0.5 and z <= -3 over at least MIN_LOSS_BINS bins
  (not_assessable over one); else neutral.

No tumour detected (cnv.json ``tumor_detected`` false: the tumour-fraction interval reaches 0) is
treated like p < MIN_TF: not_assessable (only the focal amplification rule can call amplified), so
healthy plasma never gets an ERBB2 gain or loss. A failed cnv QC is not_assessable.

Between timepoints (:func:`change`), each timepoint is compared with the latest earlier one whose
call is assessable: amplified -> not amplified, not -> amplified, gain <-> neutral and not loss ->
loss are flagged only if the timepoint without the event could have seen it (detectable copy
number at the low end of its tumour-fraction interval); otherwise ``not_assessable``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ERBB2_ENTREZ = 2064
# 17q12 ERBB2 amplicon segment of DNADX (8 genes: STARD3 TCAP PNMT PGAP3 ERBB2 MIEN1 GRB7 IKZF3).
AMPLICON_SEGMENT = "chr17:35067383-35272328.BeroukhimS2.17q12.amp.ERBB2"
# Stated tumour-fraction limit of the call: below it even CN 10 changes log2 by < 0.14,
# within the noise of a 500 kb segment of a few bins at 0.1-1x.
MIN_TF = 0.05
# ERBB2 amplification by ISH is >= 6 copies (ASCO/CAP 2018 group 1 needs >= 4 with ratio >= 2;
# 6 absolute copies is amplified whatever the ratio).
AMP_CN = 6.0
# A "neutral" call must exclude an amplification of this size (issue 4: CN >= 8 must be seen).
NOT_MISSED_CN = 8.0
# Significance of a departure from the genome average, in standard errors.
Z_CALL = 3.0
# Systematic log2 error floor of a segment (GC/mappability residuals, PoN mismatch, waves).
SYSTEMATIC_SD = 0.05
CI_Z = 1.96
# Below the tumour-fraction limit a focal ERBB2 gain must also reach this log2 to be called
# amplified: smaller focal shifts are within PoN/GC residual artefacts (CN 8 at p = 0.05 gives 0.2).
LOW_TF_MIN_LOG2 = 0.15
# Bins an ERBB2 loss must rest on: HER2 loss in breast cancer is arm-scale (17q), and a one-bin dip is what a
# half-empty 1 Mb bin gives (1 Mb bins, 1% of 500 kb empty: a basal tumour at TF 0.1 had been called ERBB2 loss
# from one bin at -0.85 log2; report seeds). An amplicon may rest on one bin (28 of 40 amplifications at 1 Mb did).
MIN_LOSS_BINS = 2
# Width of the smallest ERBB2 amplicon the call must not miss (17q12 amplicons are mostly
# 0.5-3 Mb; 1 Mb is conservative).
FOCAL_WIDTH = 1_000_000


def copy_number(log2: float, p: float, ploidy: float) -> float:
    """Tumour copy number c from observed log2, tumour fraction p and tumour ploidy phi (>= 0)."""
    c = (2.0 ** log2 * (2 * (1 - p) + p * ploidy) - 2 * (1 - p)) / p
    return float(max(c, 0.0))


def expected_log2(c: float, p: float, ploidy: float) -> float:
    """log2((2(1 - p) + p c) / (2(1 - p) + p phi)): the cnv contract's expectation."""
    return float(np.log2((2 * (1 - p) + p * c) / (2 * (1 - p) + p * ploidy)))


def _erbb2_segment(bins: pd.DataFrame, start: int, end: int) -> tuple[float, int, int]:
    """log2 of the segment(s) under ERBB2, usable bins over the gene and in its segment(s)."""
    b = bins[(bins["chrom"] == "chr17")]
    use = b[b["usable"].astype(bool) & np.isfinite(b["segment_log2"].astype(float))]
    over = use[(use["end"] > start) & (use["start"] < end)]
    if over.empty:
        left, right = use[use["end"] <= start].tail(1), use[use["start"] >= end].head(1)
        if left.empty or right.empty or left["segment"].iloc[0] != right["segment"].iloc[0]:
            return np.nan, 0, 0
        over_segments, n_gene = [left["segment"].iloc[0]], 0
    else:
        over_segments, n_gene = over["segment"].unique().tolist(), len(over)
    seg = use[use["segment"].isin(over_segments)]
    return float(seg["segment_log2"].astype(float).mean()), n_gene, len(seg)


def _focal_window(bins: pd.DataFrame, start: int, end: int) -> tuple[float, int]:
    """Mean bin log2 and usable-bin count over FOCAL_WIDTH centred on ERBB2 (segmentation-free)."""
    if "log2" not in bins.columns:
        return np.nan, 0
    mid = (start + end) // 2
    lo, hi = mid - FOCAL_WIDTH // 2, mid + FOCAL_WIDTH // 2
    b = bins[(bins["chrom"] == "chr17") & (bins["end"] > lo) & (bins["start"] < hi)]
    v = b.loc[b["usable"].astype(bool), "log2"].astype(float)
    v = v[np.isfinite(v)]
    return (float(v.mean()), int(len(v))) if len(v) else (np.nan, 0)


def _only_high_outliers(bins: pd.DataFrame, start: int, end: int) -> bool:
    """Whether every bin over ERBB2 is unusable and one of them was dropped by `dnadx cnv` as an isolated
    high outlier (drop_reason ``outlier`` with reads; an empty one is read from the segment around it, as
    a bin of low mappability is)."""
    if "drop_reason" not in bins.columns or "count" not in bins.columns:
        return False
    over = bins[(bins["chrom"] == "chr17") & (bins["end"] > start) & (bins["start"] < end)]
    high = (over["drop_reason"] == "outlier") & (over["count"] > 0)
    return bool(len(over)) and not over["usable"].astype(bool).any() and bool(high.any())


def erbb2_log2(bins: pd.DataFrame, start: int, end: int, noise_sd: float) -> tuple[float, int, int, str]:
    """ERBB2 log2: its segment's value, or the focal window's when that stands out from it.

    A small amplicon at low tumour fraction can be merged into a larger segment (e.g. a 17q
    gain). The window mean replaces the segment value when it exceeds it by Z_CALL standard
    errors of the difference, sqrt(sd^2 / n_window + sd^2 / n_segment + SYSTEMATIC_SD^2).

    Returns (log2, usable bins over the gene, bins behind the value, source).
    """
    seg, n_gene, n_seg = _erbb2_segment(bins, start, end)
    win, n_win = _focal_window(bins, start, end)
    if n_win and np.isfinite(win):
        if not np.isfinite(seg):
            return win, n_gene, n_win, "focal_window"
        se_diff = np.sqrt(noise_sd ** 2 / n_win + noise_sd ** 2 / max(n_seg, 1) + SYSTEMATIC_SD ** 2)
        if (win - seg) / se_diff >= Z_CALL:
            return win, n_gene, n_win, "focal_window"
    return seg, n_gene, n_seg, "segment"


def classify(bins: pd.DataFrame | None, gene: dict | None, *, tumour_fraction: float | None,
             tumour_fraction_ci=None, ploidy: float | None, noise_sd: float | None,
             tumour_detected: bool | None = None, qc_status: str | None = None) -> dict:
    """THE ERBB2 call of one sample: amplified / gain / neutral / loss / not_assessable.

    Every stage uses this function (`dnadx score`, `dnadx variants`, `dnadx report`, hence
    `dnadx run` and the Nextflow workflow), so a sample has one ERBB2 call everywhere.

    Parameters
    ----------
    bins : analysis bins of `dnadx cnv` (chrom, start, end, usable, segment, segment_log2, log2).
    gene : ERBB2 locus {chrom, start, end} (cnv.json ``genes_of_interest.ERBB2`` or the genes table).
    tumour_fraction, tumour_fraction_ci, ploidy, noise_sd : from cnv.json.
    tumour_detected : cnv.json ``tumor_detected``; False (the interval reaches 0) means no copy
        change can be read: only the focal-amplification rule below can still call ``amplified``.
    qc_status : cnv.json ``qc_status``; ``fail`` gives not_assessable.

    Returns
    -------
    dict: erbb2_log2, erbb2_log2_se, erbb2_log2_source, erbb2_usable_bins, erbb2_segment_bins,
    erbb2_copy_number, erbb2_copy_number_ci, erbb2_detectable_copy_number, erbb2_tf_limit,
    erbb2_call, erbb2_call_reason.
    """
    phi = float(ploidy) if ploidy is not None and np.isfinite(ploidy) and ploidy > 0 else 2.0
    noise_sd = float(noise_sd) if noise_sd is not None and np.isfinite(noise_sd) else np.nan
    out = {"erbb2_log2": np.nan, "erbb2_log2_se": None, "erbb2_log2_source": "none", "erbb2_usable_bins": 0,
           "erbb2_segment_bins": 0, "erbb2_copy_number": None, "erbb2_copy_number_ci": [None, None],
           "erbb2_detectable_copy_number": None, "erbb2_tf_limit": MIN_TF}

    def na(why):
        return dict(out, erbb2_call="not_assessable", erbb2_call_reason=why)

    if qc_status == "fail":
        return na("copy-number QC failed")
    if bins is None or not gene or not np.isfinite(noise_sd):
        return na("no copy-number bins or noise estimate for ERBB2")
    if _only_high_outliers(bins, int(gene["start"]), int(gene["end"])):
        return na("ERBB2's own bins were dropped as outliers, several-fold above both neighbours: an artefact "
                  "cannot be told from an amplicon narrower than one bin (a smaller --bin-size can tell)")
    log2, n_gene, n_seg, source = erbb2_log2(bins, int(gene["start"]), int(gene["end"]), noise_sd)
    out.update(erbb2_log2=log2, erbb2_usable_bins=n_gene, erbb2_segment_bins=n_seg, erbb2_log2_source=source)
    if not np.isfinite(log2):
        return na("no usable bin or segment covers ERBB2")
    se = float(np.sqrt(noise_sd ** 2 / max(n_seg, 1) + SYSTEMATIC_SD ** 2))
    z = log2 / se
    p = tumour_fraction
    lo_p, hi_p = tumour_fraction_ci if tumour_fraction_ci else (p, p)
    hi_p = max(float(hi_p or 0.0), float(p or 0.0))
    if tumour_detected is None and tumour_fraction_ci and lo_p is not None:
        tumour_detected = lo_p > 0  # cnv.json's own definition of tumor_detected
    out["erbb2_log2_se"] = se
    low_tf = p is None or not np.isfinite(p) or p < MIN_TF
    if low_tf or tumour_detected is False:
        # The genome-wide estimate misses tumours whose only change is focal. A significant
        # ERBB2 gain (z >= Z_CALL) that means >= AMP_CN copies even at the highest tumour fraction
        # the profile allows (the interval's upper end) is an amplification whatever the true p.
        # The copy number there is the fewest the log2 can mean; the log2's own uncertainty is in z
        # (asking the 95% lower end of the log2 to mean AMP_CN copies too had called 10 of 24 erbb2
        # tumours at TF 0.05 amplified, 16 of 24 this way, report seeds; no other tumour either way)
        c_hi = copy_number(log2, hi_p, phi) if hi_p > 0 else 0.0
        c_low = copy_number(log2 - CI_Z * se, hi_p, phi) if hi_p > 0 else 0.0
        if z >= Z_CALL and log2 >= LOW_TF_MIN_LOG2 and c_hi >= AMP_CN:
            return dict(out, erbb2_call="amplified", erbb2_copy_number=c_hi, erbb2_copy_number_ci=[c_low, None],
                        erbb2_call_reason=(f"focal log2 {log2:.2f} = {z:.1f} SE above 0; {c_hi:.1f} copies even "
                                           f"at tumour fraction {hi_p:.3f} (upper end of the interval), so the copy "
                                           f"number given is a lower bound, {c_low:.1f} at the log2's 95% lower end "
                                           "(genome-wide tumour fraction below the limit)"))
        if low_tf:
            return na(f"tumour fraction {p if p is None else round(p, 3)} below the limit {MIN_TF}")
        return na(f"no tumour detected (tumour fraction {p:.3f}, interval reaches 0): ERBB2 gain or loss cannot be read")
    lo_p, hi_p = max(float(lo_p or p), 1e-3), max(hi_p, 1e-3)
    corners = [copy_number(log2 + s * CI_Z * se, q, phi) for s in (-1, 1) for q in (lo_p, hi_p, p)]
    c = copy_number(log2, p, phi)
    bin_size = float((bins["end"] - bins["start"]).median())
    n_focal = max(1.0, FOCAL_WIDTH / bin_size)
    se_focal = float(np.sqrt(noise_sd ** 2 / n_focal + SYSTEMATIC_SD ** 2))
    detect = copy_number(Z_CALL * se_focal, p, phi)
    out.update(erbb2_copy_number=c, erbb2_copy_number_ci=[min(corners), max(corners)],
               erbb2_detectable_copy_number=detect)
    if c >= AMP_CN and z >= Z_CALL:
        call, why = "amplified", f"copy number {c:.1f} >= {AMP_CN:g}, log2 {log2:.2f} = {z:.1f} SE above 0"
    elif detect > NOT_MISSED_CN:
        call, why = "not_assessable", (f"at tumour fraction {p:.3f} and noise {noise_sd:.3f} only copy number >= "
                                       f"{detect:.1f} is detectable (> {NOT_MISSED_CN:g})")
    elif c >= phi + 0.5 and z >= Z_CALL:
        call, why = "gain", f"copy number {c:.1f} above ploidy {phi:.1f}, {z:.1f} SE"
    elif c <= phi - 0.5 and z <= -Z_CALL and n_seg < MIN_LOSS_BINS:
        call, why = "not_assessable", (f"log2 {log2:.2f} rests on {n_seg} bin: one bin is no evidence of a loss (a "
                                       "half-empty or partly masked bin looks the same)")
    elif c <= phi - 0.5 and z <= -Z_CALL:
        call, why = "loss", f"copy number {c:.1f} below ploidy {phi:.1f}, {z:.1f} SE"
    else:
        call, why = "neutral", f"log2 {log2:.2f} within {Z_CALL:g} SE ({se:.3f}) of 0; CN >= {detect:.1f} would be seen"
    return dict(out, erbb2_call=call, erbb2_call_reason=why)


def call_erbb2(bins: pd.DataFrame, genes: pd.DataFrame, scores: pd.DataFrame, *, tumour_fraction: float | None,
               tumour_fraction_ci: tuple[float, float] | None, ploidy: float | None, noise_sd: float,
               tumour_detected: bool | None = None, qc_status: str | None = None) -> dict:
    """`dnadx score`'s ERBB2 fields: :func:`classify` plus the DNADX amplicon score.

    genes : gene-level table of :func:`dnadx.scores.segments.gene_log2` (ERBB2's locus);
    scores : segment scores of :func:`dnadx.scores.segments.segment_scores`.
    """
    gene = genes[genes["entrez_id"] == ERBB2_ENTREZ].iloc[0]
    amp = scores[scores["segment_id"] == AMPLICON_SEGMENT].iloc[0]
    out = classify(bins, {"chrom": "chr17", "start": int(gene["start"]), "end": int(gene["end"])},
                   tumour_fraction=tumour_fraction, tumour_fraction_ci=tumour_fraction_ci, ploidy=ploidy,
                   noise_sd=noise_sd, tumour_detected=tumour_detected, qc_status=qc_status)
    return dict(out, erbb2_amplicon_score=float(amp["score_adjusted"]), erbb2_amplicon_score_raw=float(amp["score_raw"]),
                erbb2_amplicon_genes_used=int(amp["n_genes_used"]))


def sample_state(cnv: dict | None, bins: pd.DataFrame | None, sample: str | None = None) -> dict:
    """One sample's ERBB2 state from its `dnadx cnv` outputs: the :func:`classify` call plus what
    :func:`change` needs (tumour-fraction interval, ploidy, noise, bins behind the ERBB2 value)."""
    cnv = cnv or {}
    lo, hi = (cnv.get("tumor_fraction_ci") or [None, None])[:2]
    st = {"sample": sample or cnv.get("sample"), "tumor_fraction": cnv.get("tumor_fraction"), "tf_low": lo,
          "tf_high": hi, "ploidy": cnv.get("ploidy"), "noise": cnv.get("noise_mad"), "bin_size": cnv.get("bin_size")}
    if not cnv:
        res = {"erbb2_call": "not_assessable", "erbb2_call_reason": "no copy-number output", "erbb2_log2": None,
               "erbb2_copy_number": None, "erbb2_segment_bins": 0}
    else:
        res = classify(bins, (cnv.get("genes_of_interest") or {}).get("ERBB2"), tumour_fraction=cnv.get("tumor_fraction"),
                       tumour_fraction_ci=[lo, hi] if lo is not None else None, ploidy=cnv.get("ploidy"),
                       noise_sd=cnv.get("noise_mad"), tumour_detected=cnv.get("tumor_detected"), qc_status=cnv.get("qc_status"))
    log2 = res.get("erbb2_log2")
    return dict(st, call=res["erbb2_call"], call_reason=res["erbb2_call_reason"],
                erbb2_log2=log2 if log2 is not None and np.isfinite(log2) else None,
                erbb2_copy_number=res.get("erbb2_copy_number"), erbb2_bins=res.get("erbb2_segment_bins") or None)


# ---- change between two timepoints of one patient ---------------------------------------------
# Width assumed for an ERBB2 event when the sample's own ERBB2 segment is not known: 1 Mb.
DEFAULT_EVENT_BP = FOCAL_WIDTH
EVENTS = {  # event -> label in resistance.tsv / summary.tsv
    "her2_switch_amplified_to_not": "HER2 switching: amplified -> not amplified",
    "her2_switch_to_amplified": "HER2 switching: not amplified -> amplified",
    "her2_switch_gain_to_neutral": "HER2 switching: gain -> neutral",
    "her2_switch_neutral_to_gain": "HER2 switching: neutral -> gain",
    "erbb2_loss": "ERBB2 loss since the earlier timepoint",
}


def _fmt(x, nd: int = 3) -> str:
    return "NA" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{nd}f}"


def detectable_copy_number(p_lo: float | None, ploidy: float | None, noise: float | None, n_bins: float) -> float:
    """Smallest tumour copy number standing Z_CALL standard errors above neutral over ``n_bins``
    bins at tumour fraction ``p_lo``: se = sqrt(noise^2 / n + SYSTEMATIC_SD^2); inf if none."""
    if not p_lo or p_lo <= 0 or noise is None or not np.isfinite(noise) or n_bins <= 0:
        return float("inf")
    se = float(np.sqrt(noise ** 2 / n_bins + SYSTEMATIC_SD ** 2))
    return copy_number(Z_CALL * se, p_lo, float(ploidy or 2.0))


def detectable_loss(p_lo: float | None, ploidy: float | None, noise: float | None, n_bins: float) -> bool:
    """Whether one copy below round(ploidy) stands Z_CALL standard errors below neutral."""
    if not p_lo or p_lo <= 0 or noise is None or not np.isfinite(noise) or n_bins <= 0:
        return False
    phi = float(ploidy or 2.0)
    se = float(np.sqrt(noise ** 2 / n_bins + SYSTEMATIC_SD ** 2))
    return -expected_log2(max(round(phi) - 1, 0), p_lo, phi) >= Z_CALL * se


def _event_bins(st: dict) -> float:
    """Bins an ERBB2 event of this sample spans: the bins behind its ERBB2 value, else 1 Mb."""
    return float(st["erbb2_bins"]) if st.get("erbb2_bins") else DEFAULT_EVENT_BP / float(st.get("bin_size") or 500_000)


def _can_see(absent: dict, kind: str, width_bins: float) -> tuple[bool, str]:
    """Could sample ``absent`` have detected an ERBB2 ``kind`` (amplified | gain | loss) event?"""
    p, phi, noise = absent.get("tf_low"), absent.get("ploidy"), absent.get("noise")
    if kind == "loss":
        ok = detectable_loss(p, phi, noise, width_bins)
        return ok, (f"{absent['sample']}: a one-copy ERBB2 loss over {width_bins:g} bins "
                    f"{'is' if ok else 'is not'} detectable at tumour fraction {_fmt(p)}")
    need = AMP_CN if kind == "amplified" else round(float(phi or 2.0)) + 1
    cmin = detectable_copy_number(p, phi, noise, width_bins)
    ok = cmin <= need
    noun = "amplification" if kind == "amplified" else "gain"
    return ok, (f"{absent['sample']}: an ERBB2 {noun} ({need:g} copies over {width_bins:g} bins) "
                f"{'is' if ok else 'is not'} detectable at tumour fraction {_fmt(p)} (needs {_fmt(cmin, 1)} copies)")


def change(prev: dict, cur: dict) -> tuple[str, bool, str]:
    """THE ERBB2 change between an earlier and a later timepoint (both :func:`sample_state`).

    Returns (event, flagged, detail). ``event`` is a key of EVENTS, ``stable`` or
    ``not_assessable``. A change is flagged only when the timepoint claiming the event is absent
    could have seen it (its tumour-fraction interval's low end, ploidy and noise; over the width
    of the event in the timepoint that shows it); otherwise the event is ``not_assessable``.
    """
    a, b = prev["call"], cur["call"]
    what = f"ERBB2 {a} at {prev['sample']} -> {b} at {cur['sample']}"
    if "not_assessable" in (a, b):
        who = cur if b == "not_assessable" else prev
        return "not_assessable", False, f"{what}; {who['sample']}: ERBB2 not assessable ({who.get('call_reason', '')})"
    if a == "amplified" and b != "amplified":
        event, absent, other, kind = "her2_switch_amplified_to_not", cur, prev, "amplified"
    elif b == "amplified" and a != "amplified":
        event, absent, other, kind = "her2_switch_to_amplified", prev, cur, "amplified"
    elif (a, b) == ("gain", "neutral"):
        event, absent, other, kind = "her2_switch_gain_to_neutral", cur, prev, "gain"
    elif (a, b) == ("neutral", "gain"):
        event, absent, other, kind = "her2_switch_neutral_to_gain", prev, cur, "gain"
    elif b == "loss" and a != "loss":
        event, absent, other, kind = "erbb2_loss", prev, cur, "loss"
    else:
        return "stable", False, what
    ok, why = _can_see(absent, kind, _event_bins(other))
    if not ok:
        return "not_assessable", False, f"{what}; not flagged: {why}"
    return event, True, f"{what}; {why}"


def last_assessable(earlier: list[dict]) -> dict | None:
    """The latest of the earlier timepoints (ordered earliest first) with an assessable ERBB2 call:
    the one a timepoint is compared with."""
    return next((s for s in reversed(earlier) if s["call"] != "not_assessable"), None)
