"""Origin of a called variant: somatic, germline_likely, ch_possible or unknown.

Evidence, in this order (the first that applies decides; the reason is kept):

1. germline_likely: the allele is a known common polymorphism (`reference/polymorphisms.tsv`).
2. germline_likely: it is present in the batch's normals (error model: >= NORMALS_MIN_FRAGMENTS alt
   fragments making >= NORMALS_MIN_VAF of their depth at that allele class).
3. matched blood (``--matched-blood``) carrying the allele (>= 2 fragments): germline_likely when its
   VAF there is >= BLOOD_GERMLINE_VAF, else ch_possible (clonal haematopoiesis).
4. germline_likely: VAF near 0.5 (|VAF - 0.5| <= max(0.1, 3 sqrt(0.25 / depth))) or >= 0.9 -- a
   germline heterozygous / homozygous allele sits there whatever the tumour fraction -- unless the
   tumour could produce it: the highest somatic VAF is p c / (2 (1 - p) + p c) (every tumour copy
   mutant) with p the upper end of the tumour-fraction interval and c the local tumour copy number.
5. ch_possible: a TP53 call (a clonal-haematopoiesis gene) below CH_MAX_VAF without matched blood,
   when no tumour is detected or the VAF is below half of a clonal heterozygous tumour mutation's,
   p_lo / (2 (1 - p_lo) + p_lo c) (Razavi et al., Nat Med 2019: CH clones in plasma are mostly < 10%).
6. somatic: a tumour is detected and the VAF is within what it can produce (4.'s bound).
7. unknown: no tumour-fraction input, or a VAF the tumour fraction does not explain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NORMALS_MIN_FRAGMENTS = 2
NORMALS_MIN_VAF = 0.1
BLOOD_GERMLINE_VAF = 0.3
HET_TOLERANCE = 0.1
HOM_MIN_VAF = 0.9
CH_MAX_VAF = 0.10
CH_GENES = frozenset({"TP53"})


@dataclass(frozen=True)
class Tumour:
    """What the copy-number stage says about the sample at the variant's locus."""

    fraction: float | None = None        # point estimate
    low: float | None = None             # 95% interval
    high: float | None = None
    detected: bool = False
    copy_number: float = 2.0             # local tumour copy number


def max_somatic_vaf(p: float | None, c: float) -> float:
    """Highest VAF a tumour at fraction p with local copy number c gives (all copies mutant)."""
    if not p or p <= 0:
        return 0.0
    c = max(c, 1.0)
    return p * c / (2 * (1 - p) + p * c)


def classify(gene: str, vaf: float, depth: int, tumour: Tumour, *, polymorphism: str | None = None,
             normals: tuple[int, int] | None = None, blood: tuple[int, int] | None = None) -> tuple[str, str]:
    """(origin, reason) of one called allele (module docstring).

    polymorphism : rsid/name when the allele is in polymorphisms.tsv; normals / blood: (alt fragments,
    depth) of the allele in the batch normals / the matched blood, None when not available.
    """
    if polymorphism:
        return "germline_likely", f"known common polymorphism ({polymorphism})"
    if normals and normals[0] >= NORMALS_MIN_FRAGMENTS and normals[0] >= NORMALS_MIN_VAF * max(normals[1], 1):
        return "germline_likely", f"present in the batch normals ({normals[0]}/{normals[1]} fragments)"
    if blood and blood[0] >= 2:
        bvaf = blood[0] / max(blood[1], 1)
        if bvaf >= BLOOD_GERMLINE_VAF:
            return "germline_likely", f"in matched blood at VAF {bvaf:.2f} ({blood[0]}/{blood[1]} fragments)"
        return "ch_possible", f"also in matched blood ({blood[0]}/{blood[1]} fragments): likely clonal haematopoiesis"
    top = max_somatic_vaf(tumour.high if tumour.high is not None else tumour.fraction, tumour.copy_number)
    tol = max(HET_TOLERANCE, 3 * math.sqrt(0.25 / max(depth, 1)))
    germline_vaf = abs(vaf - 0.5) <= tol or vaf >= HOM_MIN_VAF
    if germline_vaf and vaf > top:
        return "germline_likely", (f"VAF {vaf:.3f} is that of a germline {'homozygous' if vaf >= HOM_MIN_VAF else 'heterozygous'} "
                                   f"allele; the tumour gives at most {top:.3f} here")
    clonal_het = max_somatic_vaf(tumour.low, tumour.copy_number) / max(tumour.copy_number, 1.0)
    if gene in CH_GENES and vaf < CH_MAX_VAF and blood is None and (not tumour.detected or vaf < clonal_het / 2):
        return "ch_possible", (f"low-VAF {gene} call ({vaf:.3f}) without a matched blood sample: may come from clonal "
                               "haematopoiesis, not the tumour")
    if tumour.fraction is None:
        return "unknown", "no tumour fraction (--cnv) to compare the VAF with"
    if tumour.detected and vaf <= top + tol / 2:
        return "somatic", f"VAF {vaf:.3f} within what the tumour (fraction up to {top:.3f} at this locus) gives"
    return "unknown", (f"VAF {vaf:.3f} not explained by the tumour fraction "
                       f"({'no tumour detected' if not tumour.detected else f'at most {top:.3f}'})")


def tumour_at(cnv: dict | None, bins, chrom: str, pos: int) -> Tumour:
    """The sample's tumour fraction (interval, detected) and the tumour copy number at ``pos``."""
    if not cnv:
        return Tumour()
    from dnadx.variants.resistance import locus_state
    lo, hi = (cnv.get("tumor_fraction_ci") or [None, None])[:2]
    detected = cnv.get("tumor_detected")
    detected = bool(lo and lo > 0) if detected is None else bool(detected)
    cn = locus_state(bins, chrom, pos - 1, pos)["copy_number"] if bins is not None else float("nan")
    cn = float(cn) if math.isfinite(cn) else float(cnv.get("ploidy") or 2.0)
    return Tumour(cnv.get("tumor_fraction"), lo, hi, detected, cn)


def annotate(records, *, cnv: dict | None, bins, model, polymorphisms, blood: dict | None):
    """``records`` (tested alleles with vcf_ref/vcf_alt) with columns origin and origin_reason.

    model : error model of the batch normals (table or fitted Background, or None); polymorphisms : `polymorphisms.tsv` rows of
    the build (chrom, pos, ref, alt, rsid); blood : {(chrom, pos, allele): (alt, depth)} or None.
    """
    if not len(records):
        return records.assign(origin=[], origin_reason=[])
    known = {(c, int(p), r, a): f"{rs} {hp}" for c, p, r, a, rs, hp in zip(
        polymorphisms["chrom"], polymorphisms["pos"], polymorphisms["ref"], polymorphisms["alt"],
        polymorphisms["rsid"], polymorphisms["hgvs_p"])}
    if hasattr(model, "table"):  # a fitted dnadx.variants.background.Background
        normals = model.table
    else:
        normals = model.set_index(["chrom", "pos"]) if model is not None and len(model) else None
    out = []
    for r in records.itertuples(index=False):
        key = (r.chrom, int(r.pos))
        cls = "indel" if r.allele[0] in "+-" else r.allele
        nrm = None
        if normals is not None and key in normals.index:
            row = normals.loc[key]
            nrm = (int(row[cls]), int(row["depth"]))
        bl = None if blood is None else blood.get((r.chrom, int(r.pos), r.allele), (0, 0))
        out.append(classify(r.gene, float(r.vaf), int(r.depth), tumour_at(cnv, bins, r.chrom, int(r.pos)),
                            polymorphism=known.get((r.chrom, int(getattr(r, "vcf_pos", r.pos)), r.vcf_ref, r.vcf_alt)), normals=nrm, blood=bl))
    return records.assign(origin=[o for o, _ in out], origin_reason=[w for _, w in out])
