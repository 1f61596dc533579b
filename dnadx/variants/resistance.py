"""Resistance annotation: point-mutation assessment + copy-number events + knowledge base.

Copy-number events are read from the `dnadx cnv` outputs (cnv.json + bins table) at the
sample's tumour fraction p and ploidy phi.

ERBB2 follows the one rule of `dnadx.scores.erbb2` (the same call `dnadx score` writes and
`dnadx report` shows): ``amplification`` is called when the sample's ERBB2 call is amplified,
``copy loss`` when it is loss, both not_assessable when the call is; with earlier timepoints
(``--previous-cnv``, earliest first) one more row compares with the latest assessable one
(``erbb2.change``): called, and named by its event, when a HER2 switch or ERBB2 loss is flagged.

17p, TP53 and ARID1B: the tumour copy state c of a gene is the one `genes_of_interest` reports
(else, like a region such as 17p, the median `copy_number` of its usable bins); loss when
c < round(phi) and the segments there lie LOSS_Z standard errors below the neutral level (`loss_evidence`); a gene's
loss state on a segment shorter than FOCAL_LOSS_MB is not assessable. Not_assessable when no tumour is detected (tumour-fraction interval reaching 0),
p < MIN_TUMOUR_FRACTION (ichorCNA's ~3% detection floor), the cnv QC failed, or the locus has
no usable bin. Every event row carries the tumour fraction it was read at.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dnadx.cnv.tumour_fraction import baseline_copy
from dnadx.scores import erbb2
from dnadx.variants import evidence

# resistance.tsv alteration of the ERBB2 row comparing with an earlier timepoint (when nothing is flagged;
# a flagged change is named by its event, dnadx.scores.erbb2.EVENTS)
CHANGE_ALTERATION = "ERBB2 change since the earlier timepoint (HER2 switching)"
MIN_TUMOUR_FRACTION = 0.03
# How a point mutation in each gene is labelled (resistance_evidence.md interpretation notes):
# HER2-mutant tumours respond to T-DXd, so ERBB2 mutations are not called "T-DXd resistance".
MUTATION_LABEL = {
    "ERBB2": "HER2 pathway alteration (not T-DXd resistance by itself)",
    "TP53": "TP53 alteration: possible marker of poor T-DXd outcome",
    "ARID1B": "ARID1B (SWI/SNF) alteration: possible resistance marker",
    "TOP1": "TOP1 (payload target) alteration: plausible cross-resistance to DXd, not proven",
}
COLUMNS = ("sample", "level", "gene", "alteration", "status", "depth", "lod95", "vaf", "alt_fragments",
           "hgvs_c", "hgvs_p", "origin", "tumor_fraction", "log2", "copy_number", "kb_id", "verification",
           "background_knowledge", "evidence", "caveat", "detail")


def gene_loci(targets: pd.DataFrame) -> dict[str, tuple[str, int, int]]:
    g = targets.groupby("gene", sort=False).agg(chrom=("chrom", "first"), start=("exon_start", "min"), end=("exon_end", "max"))
    return {k: (r.chrom, int(r.start), int(r.end)) for k, r in g.iterrows()}


def locus_state(bins: pd.DataFrame | None, chrom: str, start: int, end: int) -> dict:
    """Median copy state and segment log2 of the usable bins overlapping [start, end)."""
    if bins is None:
        return {"usable_bins": 0, "log2": np.nan, "copy_number": np.nan}
    sel = bins[(bins["chrom"] == chrom) & (bins["start"] < end) & (bins["end"] > start) & (bins["usable"] == 1)
               & (bins["copy_number"] >= 0)]  # -1: bin outside any segment
    if not len(sel):
        return {"usable_bins": 0, "log2": np.nan, "copy_number": np.nan}
    l2 = sel["segment_log2"] if "segment_log2" in sel else sel["log2"]
    return {"usable_bins": int(len(sel)), "log2": float(l2.median()), "copy_number": float(sel["copy_number"].median())}


LOSS_Z = 2.0  # standard errors below the neutral level a locus' segments must lie for a loss to be called (on top of
# a loss state). Tune seeds of benchmarks/cnv_independent.py (384 samples): basal tumours' 17p loss at TF 0.1 called in
# 20/24 by the state alone, 20/24 at 2.0, 16/24 at 2.5, 13/24 at 3.0; false 17p losses 5 by the state alone, 0 at 2.0


FOCAL_LOSS_MB = 10.0  # a gene's loss state read from a shorter segment is not called: dnadx cnv's fit ignores such
# segments too (tumour_fraction.MIN_FIT_MB), and at 0.05-0.5x a few-bin dip is what real bin effects make. In issue
# 17's own setting (benchmarks/cnv_independent.py --fragments 1000000 --overdispersion 0.05) a 2 Mb window at
# chr17:7-9 Mb, where ichorCNA's healthy panel has -0.05 to -0.11 log2, was a TP53 copy loss in 3 of 156 samples
# without one (17p neutral), with or without a panel


def loss_evidence(cnv: dict | None, bins: pd.DataFrame | None, chrom: str, start: int, end: int) -> tuple[float, float]:
    """(z, span in Mb) of the segments holding the usable bins over [start, end); NaN where there are none.

    z: how many standard errors their level lies below the neutral copy number's expected log2 at the sample's
    tumour fraction and ploidy, se = sqrt(s^2 / n + tau^2), n the usable bins of those segments, s and tau cnv.json's
    ``systematic_sd`` ``noise_segment`` and ``tau`` (`dnadx.cnv.systematic.variance_model`). The copy state alone is the state model's most likely one, and at low tumour fraction
    a breast-cancer arm pattern can tip it: a 6q arm 1.7 SE below neutral, and a 17p arm above it, had been reported
    as ARID1B and 17p losses (benchmarks/cnv_independent.py, report seeds)."""
    nan = float("nan")
    if bins is None:
        return nan, nan
    chrom_bins = bins[(bins["chrom"] == chrom) & (bins["usable"] == 1) & (bins["copy_number"] >= 0)]
    over = chrom_bins[(chrom_bins["start"] < end) & (chrom_bins["end"] > start)]
    segs = chrom_bins[chrom_bins["segment"].isin(over["segment"].unique())]
    if not len(segs):
        return nan, nan
    span = float((segs["end"].max() - segs["start"].min()) / 1e6)
    cnv = cnv or {}
    p, noise = cnv.get("tumor_fraction"), cnv.get("noise_mad")
    if not p or noise is None or not np.isfinite(noise):
        return nan, span
    # cnv.json's variance model of a segment mean: noise_segment^2 / k + tau^2 (`dnadx.cnv.systematic`; files
    # before stop 29 have no noise_segment: sigma^2 / k + tau^2)
    model = cnv.get("systematic_sd") or {}
    noise = float(model.get("noise_segment") or noise)
    se = float(np.sqrt(noise ** 2 / len(segs) + float(model.get("tau") or 0.0) ** 2))
    # neutral is the tumour's baseline, as in `_cn_call`: a genome-doubled tumour's 17p at 2 copies of 3 is its loss
    # (until stop 32 the level of copy number 2, which only the diploid reading had)
    phi = float(cnv.get("ploidy") or 2.0)
    neutral = erbb2.expected_log2(float(baseline_copy(phi)), float(p), phi)
    return float((over["segment_log2"].astype(float).mean() - neutral) / se), span


def loss_loci(loci: dict, arms: pd.DataFrame) -> list[tuple[str, str, tuple[str, int, int]]]:
    """(gene, alteration, locus) of the copy-loss rows: the 17p arm, TP53 and ARID1B."""
    p17 = arms[(arms["chrom"] == "chr17") & (arms["arm"] == "p")].iloc[0]
    return [("TP53", "17p loss", ("chr17", int(p17["start"]), int(p17["end"]))),
            ("TP53", "TP53 copy loss", loci["TP53"]), ("ARID1B", "ARID1B copy loss", loci["ARID1B"])]


def _cn_call(state: dict, cnv: dict) -> str:
    cn, base = state["copy_number"], baseline_copy(cnv.get("ploidy"))
    if not np.isfinite(cn):
        return "not_assessable"
    if cn < base:
        return "loss"
    return "gain" if cn > base else "neutral"


def _assessable(cnv: dict | None, state: dict) -> str | None:
    """Reason the copy-number state cannot be read, or None."""
    if cnv is None:
        return "no copy-number input (--cnv)"
    tf = cnv.get("tumor_fraction")
    if cnv.get("qc_status") == "fail":
        return "copy-number QC failed: " + "; ".join(cnv.get("qc_reasons") or [])
    if tf is None or tf < MIN_TUMOUR_FRACTION:
        return f"tumour fraction {tf} below {MIN_TUMOUR_FRACTION}: copy-number events not readable"
    if cnv.get("tumor_detected") is False:
        return f"no tumour detected (tumour fraction {tf:.3f}, interval reaches 0): copy-number events not readable"
    if state["usable_bins"] == 0:
        return "no usable bin at this locus"
    return None


def gene_state(cnv: dict | None, bins: pd.DataFrame | None, gene: str, locus) -> dict:
    """A gene's copy state: `genes_of_interest` of the cnv json when it has one, else its bins."""
    goi = ((cnv or {}).get("genes_of_interest") or {}).get(gene)
    if goi and goi.get("usable_bins") and goi.get("copy_number") is not None:
        return {"usable_bins": int(goi["usable_bins"]), "log2": float(goi["log2"]), "copy_number": float(goi["copy_number"])}
    return locus_state(bins, *locus)


def copy_number_events(cnv: dict | None, bins: pd.DataFrame | None, loci: dict, arms: pd.DataFrame, *,
                       previous: tuple[dict, pd.DataFrame | None] | None = None) -> list[dict]:
    """ERBB2 amplification, HER2 switching, 17p/TP53 loss and ARID1B loss, with their tumour fraction."""
    tf = (cnv or {}).get("tumor_fraction")
    out = []

    def row(gene, alteration, state, present, reason, detail, kind):
        status = "not_assessable" if reason else ("called" if present else "not_detected")
        out.append({"level": "copy_number", "gene": gene, "alteration": alteration, "status": status,
                    "tumor_fraction": tf, "log2": state["log2"], "copy_number": state["copy_number"],
                    "detail": reason or detail, "_kind": kind})

    # ERBB2: the one rule of dnadx.scores.erbb2 (as `dnadx score` and `dnadx report`)
    cur = erbb2.sample_state(cnv, bins)
    e = {"log2": cur["erbb2_log2"] if cur["erbb2_log2"] is not None else np.nan,
         "copy_number": cur["erbb2_copy_number"] if cur["erbb2_copy_number"] is not None else np.nan}
    na = None if cnv is not None else "no copy-number input (--cnv)"
    if na is None and cur["call"] == "not_assessable":
        na = f"ERBB2 not assessable: {cur['call_reason']}"
    for label, want in (("amplification", "amplified"), ("copy loss", "loss")):
        row("ERBB2", label, e, cur["call"] == want, na, f"ERBB2 {cur['call']}: {cur['call_reason']}",
            "amp" if want == "amplified" else "loss")
    if previous:
        earlier = [erbb2.sample_state(pc, pb) for pc, pb in previous]
        prev = erbb2.last_assessable(earlier)
        if prev is None:
            event, flagged, detail = "not_assessable", False, "no earlier timepoint with an assessable ERBB2 call"
        else:
            event, flagged, detail = erbb2.change(prev, cur)
        why = "no copy-number input (--cnv)" if cnv is None else (
            f"{event}: {detail}" if event == "not_assessable" else None)
        row("ERBB2", erbb2.EVENTS[event] if flagged else CHANGE_ALTERATION, e, flagged, why,
            f"{event}: {detail}", "switch")
    for gene, label, locus in loss_loci(loci, arms):
        st = locus_state(bins, *locus) if label == "17p loss" else gene_state(cnv, bins, gene, locus)
        reason = _assessable(cnv, st)
        c = _cn_call(st, cnv or {})
        z, mb = loss_evidence(cnv, bins, *locus)
        detail = f"copy state {st['copy_number']:g} over {st['usable_bins']} usable bins: {c}"
        if c == "loss":
            detail += (f", {-z:.1f} SE below the neutral level" if z <= -LOSS_Z else
                       f", but only {-z:.1f} SE below the neutral level ({LOSS_Z:g} needed): not called")
        if c == "loss" and label != "17p loss" and mb < FOCAL_LOSS_MB and reason is None:
            reason = (f"a focal loss state ({mb:.1f} Mb segment at {gene}): at low pass a few-bin dip cannot be told "
                      f"from bin artefacts; the arm's row reads the arm")
        row(gene, label, st, c == "loss" and z <= -LOSS_Z, reason, detail, "loss")
    return out


def _kb_fields(kb: pd.DataFrame, ids: list[str]) -> dict:
    sub = kb[kb["kb_id"].isin(ids)]
    if not len(sub):
        return {"kb_id": "", "verification": "", "background_knowledge": "", "evidence": ""}
    ev = []
    for r in sub.itertuples(index=False):
        tag = " [includes background knowledge (K), not re-checked]" if r.background_knowledge == "yes" else ""
        ev.append(f"{r.kb_id}: {r.effect}{tag}")
    return {"kb_id": ";".join(sub["kb_id"]), "verification": ";".join(sub["verification"]),
            "background_knowledge": "yes" if (sub["background_knowledge"] == "yes").any() else "no",
            "evidence": " | ".join(ev)}


def _gene_wide(kb, gene, kinds=("gene_wide",)):
    return kb[(kb["gene"] == gene) & kb["kind"].isin(kinds)]["kb_id"].tolist()


def annotate(sample: str, assessment: pd.DataFrame, calls: pd.DataFrame, events: list[dict],
             kb: pd.DataFrame) -> pd.DataFrame:
    """The `<id>.resistance.tsv` table: one row per sample/gene/hotspot/called variant/copy-number event.

    Parameters
    ----------
    assessment : `variant_calling.assess` output.
    calls : called variants with hgvs_c, hgvs_p, consequence, kb_ids (the hotspot rows of this exact
        allele, `evidence.matching_kb_ids`) and origin, origin_reason (`origin.annotate`); may be empty.
    events : `copy_number_events` output.

    A call carries resistance evidence only when `evidence.is_evidence` allows it (protein-altering,
    origin neither germline_likely nor ch_possible); otherwise its evidence is empty and the caveat
    says why. Germline and CH calls are still listed.
    """
    rows = []
    for a in assessment.itertuples(index=False):
        ids = [a.kb_id] if a.kb_id else (_gene_wide(kb, a.gene) if a.gene else [])
        rows.append(dict(level=a.level, gene=a.gene, alteration=a.alteration, status=a.status, depth=a.depth,
                         lod95=a.lod95, detail=a.detail, **_kb_fields(kb, ids)))
    for c in calls.itertuples(index=False) if len(calls) else ():
        origin_, why = getattr(c, "origin", "unknown"), getattr(c, "origin_reason", "")
        if evidence.is_evidence(c.consequence, origin_):
            ids = [k for k in str(c.kb_ids).split(",") if k] or evidence.gene_wide_ids(kb, c.gene, c.consequence)
            fields = _kb_fields(kb, ids)
            fields["evidence"] = f"{MUTATION_LABEL.get(c.gene, '')}. {fields['evidence']}".strip(". ")
            caveat = why if origin_ != "somatic" else ""
        else:
            fields = _kb_fields(kb, [])
            caveat = (f"{origin_}: {why}; not resistance evidence" if origin_ in evidence.NO_EVIDENCE_ORIGINS else
                      f"{c.consequence} change: not resistance evidence")
        rows.append(dict(level="variant", gene=c.gene, alteration=f"{c.chrom}:{int(getattr(c, 'vcf_pos', c.pos))} {c.vcf_ref}>{c.vcf_alt}",
                         status="called", depth=c.depth, vaf=c.vaf, alt_fragments=c.alt_fragments, hgvs_c=c.hgvs_c,
                         hgvs_p=c.hgvs_p, origin=origin_, caveat=caveat,
                         detail=f"{c.consequence}; adjusted p {c.p_adjusted:.2g}", **fields))
    for e in events:
        kind = e.pop("_kind")
        ids = {"amp": [], "switch": _gene_wide(kb, "ERBB2", ("copy_number_loss",)),
               "loss": _gene_wide(kb, e["gene"], ("copy_number_loss", "gene_wide"))}[kind]
        if e["gene"] == "TP53":
            ids = kb[(kb["gene"] == "TP53")]["kb_id"].tolist()[:1]
        fields = _kb_fields(kb, ids)
        if kind == "amp":
            fields["evidence"] = "ERBB2 amplification: the T-DXd target is present (HER2 dependence), not a resistance marker"
        rows.append({**e, **fields})
    out = pd.DataFrame(rows).reindex(columns=COLUMNS)
    out["sample"] = sample
    return out


def reported_calls(table: pd.DataFrame) -> list[str]:
    """Names of the called variants and copy-number events for a one-line summary: germline_likely
    variants are left out (not resistance findings), possible CH is marked."""
    called = table[(table["status"] == "called") & table["level"].isin(["variant", "copy_number"])]
    names = []
    for r in called.to_dict("records"):
        origin_ = r.get("origin") if isinstance(r.get("origin"), str) else ""
        if origin_ == "germline_likely":
            continue
        what = r["hgvs_p"] if isinstance(r.get("hgvs_p"), str) and r["hgvs_p"] else r["alteration"]
        gene = str(r.get("gene") or "")
        name = what if gene and gene in str(what) else f"{gene} {what}".strip()
        names.append(name + (" (possible CH)" if origin_ == "ch_possible" else ""))
    return list(dict.fromkeys(names))


def summarise(table: pd.DataFrame) -> str:
    """One line for `summary.tsv`'s `resistance` column: the called events, then what could not be read."""
    parts = reported_calls(table)
    if (table["level"] == "sample").any():
        parts.append("point mutations not assessable")
    return "; ".join(parts) if parts else "none called"
