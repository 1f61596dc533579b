"""Which knowledge-base rows a called allele is evidence for: matched by allele, never by position alone.

* Hotspot rows (`resistance_kb.tsv` kind snv/indel) match a call only when chrom, POS and the allele
  agree: the KB's VCF REF/ALT (ALT may list several, e.g. D769Y/H) are turned into pileup alleles
  (`T`, `+SEQ` insertion after POS, `-N` deletion of the N bases after POS) and compared with the
  call's. Another base at a hotspot position is not that hotspot.
* Gene-wide rows match by consequence: `LOF / truncating` rows (ARID1B) only truncating changes,
  other gene-wide rows (ERBB2 "any mutation") any protein-altering change.
* A synonymous, UTR or intronic change is never resistance evidence, nor is a call whose origin is
  germline_likely or ch_possible (dnadx.variants.origin): those are reported without evidence.
"""

from __future__ import annotations

import pandas as pd

PROTEIN_ALTERING = frozenset({"missense", "stop_gained", "stop_lost", "start_lost", "frameshift", "inframe_indel",
                              "splice_site", "complex"})
TRUNCATING = frozenset({"stop_gained", "frameshift", "splice_site"})
NO_EVIDENCE_ORIGINS = frozenset({"germline_likely", "ch_possible"})


def pileup_alleles(ref: str, alts: str) -> tuple[str, ...]:
    """Pileup allele keys of VCF REF/ALT (ALT comma-separated) anchored at POS."""
    out = []
    for alt in filter(None, str(alts).split(",")):
        if len(ref) == len(alt) == 1:
            out.append(alt)
        elif len(alt) > len(ref) and alt.startswith(ref) and len(ref) == 1:
            out.append("+" + alt[1:])
        elif len(ref) > len(alt) and ref.startswith(alt) and len(alt) == 1:
            out.append(f"-{len(ref) - 1}")
        else:
            out.append(f"{ref}>{alt}")  # complex: never equal to a pileup allele
    return tuple(out)


def hotspots(kb: pd.DataFrame, genome: str) -> pd.DataFrame:
    """Listed point-mutation hotspots of ``genome``: kb_id, gene, alteration, chrom, pos, ref, alt, alleles."""
    h = kb[kb["kind"].isin(["snv", "indel"]) & (kb[f"{genome}_pos"] != "")]
    out = pd.DataFrame({"kb_id": h["kb_id"], "gene": h["gene"], "alteration": h["alteration"],
                        "chrom": h[f"{genome}_chrom"], "pos": h[f"{genome}_pos"].astype(int),
                        "ref": h[f"{genome}_ref"], "alt": h[f"{genome}_alt"]}).reset_index(drop=True)
    out["alleles"] = [pileup_alleles(r, a) for r, a in zip(out["ref"], out["alt"])]
    return out


def hotspot_alleles(hot: pd.DataFrame) -> set[tuple[str, int, str]]:
    """(chrom, pos, pileup allele) of every listed hotspot allele."""
    return {(c, int(p), a) for c, p, alleles in zip(hot["chrom"], hot["pos"], hot["alleles"]) for a in alleles}


def matching_kb_ids(hot: pd.DataFrame, chrom: str, pos: int, allele: str) -> list[str]:
    """kb_ids of the hotspots this exact allele is (empty for another allele at the same position)."""
    at = hot[(hot["chrom"] == chrom) & (hot["pos"] == int(pos))]
    return [k for k, alleles in zip(at["kb_id"], at["alleles"]) if allele in alleles]


def gene_wide_ids(kb: pd.DataFrame, gene: str, consequence: str) -> list[str]:
    """Gene-wide KB rows a change with this consequence is evidence for."""
    rows = kb[(kb["gene"] == gene) & (kb["kind"] == "gene_wide")]
    out = []
    for kb_id, alteration in zip(rows["kb_id"], rows["alteration"]):
        truncating_only = "LOF" in alteration or "truncating" in alteration.lower()
        if consequence in (TRUNCATING if truncating_only else PROTEIN_ALTERING):
            out.append(kb_id)
    return out


def is_evidence(consequence: str, origin: str) -> bool:
    """Whether a call may be resistance evidence at all."""
    return consequence in PROTEIN_ALTERING and origin not in NO_EVIDENCE_ORIGINS
