"""Named tumour copy-number profiles for `dnadx simulate` (build-independent event lists).

An event is a dict with one locus key and a tumour copy number ``copy``:
``{"arm": "17q", "copy": 3}``, ``{"gene": "ERBB2", "copy": 10, "width": 1_500_000}`` (centred
on the gene), ``{"chrom": "chr8", "start": 0, "end": 30_000_000, "copy": 1}`` (BED), ``{"autosomes": True,
"copy": 3}`` (every autosome: the baseline of a genome-doubled tumour).
Events apply in order, later ones overriding earlier ones.
"""

from __future__ import annotations

import pandas as pd

from dnadx.core.errors import InputError

PROFILES: dict[str, list[dict]] = {
    "flat": [],
    # HER2-amplified: 17q12 amplicon (~1.5 Mb, CN 10) on a 17q gain, with 1q gain, 8p/16q loss.
    "erbb2": [
        {"arm": "1q", "copy": 3}, {"arm": "8p", "copy": 1}, {"arm": "16q", "copy": 1},
        {"arm": "17q", "copy": 3}, {"arm": "20q", "copy": 3},
        {"gene": "ERBB2", "copy": 10, "width": 1_500_000},
    ],
    # Basal-like: 5q, 4q, 15q, 17p (TP53) loss; 8q, 10p, 1q gain; MYC focal gain.
    "basal": [
        {"arm": "1q", "copy": 3}, {"arm": "5q", "copy": 1}, {"arm": "4q", "copy": 1},
        {"arm": "8q", "copy": 4}, {"arm": "10p", "copy": 3}, {"arm": "15q", "copy": 1},
        {"arm": "17p", "copy": 1}, {"arm": "12p", "copy": 3},
        {"gene": "MYC", "copy": 7, "width": 2_000_000},
    ],
    # Luminal-like: 1q gain, 16q loss, 8p loss, CCND1 (11q13) amplification, 17q gain.
    "luminal": [
        {"arm": "1q", "copy": 3}, {"arm": "16q", "copy": 1}, {"arm": "8p", "copy": 1},
        {"arm": "17q", "copy": 3}, {"gene": "CCND1", "copy": 6, "width": 1_500_000},
    ],
    # Atypical: arm changes that breast cancers rarely make, in that direction (TCGA BRCA: 2q gain 8%,
    # 3q loss 7%, 7q loss 13%, 12q loss 15%, 19p gain 17%; reference/build/build_arm_patterns.py), to
    # measure what the tumour-fraction model's breast-cancer arm prior costs a tumour that breaks the pattern.
    "atypical": [
        {"arm": "2q", "copy": 3}, {"arm": "3q", "copy": 1}, {"arm": "7q", "copy": 1},
        {"arm": "12q", "copy": 1}, {"arm": "19p", "copy": 3},
    ],
    # Genome-doubled tumours (whole-genome doubling: about a third to a half of breast cancers, more in metastases).
    # Triploid after losses, with arms at 1 copy (8p, 17p): read as diploid these need copy number 0 on whole arms.
    "triploid": [
        {"autosomes": True, "copy": 3},
        {"arm": "1q", "copy": 5}, {"arm": "8p", "copy": 1}, {"arm": "16q", "copy": 2}, {"arm": "17p", "copy": 1},
        {"arm": "17q", "copy": 4}, {"arm": "4q", "copy": 2}, {"arm": "13q", "copy": 2},
        {"gene": "ERBB2", "copy": 14, "width": 1_500_000},
    ],
    # Tetraploid with one- and two-copy changes: no diploid reading fits it with integer states.
    "tetraploid": [
        {"autosomes": True, "copy": 4},
        {"arm": "1q", "copy": 6}, {"arm": "8p", "copy": 2}, {"arm": "16q", "copy": 3}, {"arm": "17p", "copy": 2},
        {"arm": "8q", "copy": 6}, {"arm": "5q", "copy": 3}, {"arm": "20q", "copy": 5},
        {"gene": "MYC", "copy": 12, "width": 2_000_000},
    ],
    # Triploid whose every arm is 2-5 copies: exactly a diploid tumour at 2p / (2 + p) with every state one lower
    # (depth alone cannot tell them apart; the model reports the diploid reading).
    "triploid_alias": [
        {"autosomes": True, "copy": 3},
        {"arm": "1q", "copy": 5}, {"arm": "8p", "copy": 2}, {"arm": "16q", "copy": 2}, {"arm": "17q", "copy": 4},
        {"arm": "20q", "copy": 4}, {"arm": "4q", "copy": 2}, {"arm": "13q", "copy": 2},
    ],
}


def resolve_events(events: list[dict], *, arms: pd.DataFrame, genes: pd.DataFrame) -> list[dict]:
    """Turn arm/gene/BED events into BED intervals with a tumour copy number."""
    out = []
    arm_idx = arms.set_index("arm_name")
    for i, ev in enumerate(events):
        if "copy" not in ev or int(ev["copy"]) != ev["copy"] or ev["copy"] < 0:
            raise InputError(f"profile event {i + 1}: needs an integer 'copy' >= 0, got {ev!r}")
        if "arm" in ev:
            if ev["arm"] not in arm_idx.index:
                raise InputError(f"profile event {i + 1}: unknown arm {ev['arm']!r}")
            a = arm_idx.loc[ev["arm"]]
            chrom, start, end = a["chrom"], int(a["start"]), int(a["end"])
        elif "gene" in ev:
            g = genes[genes["symbol"] == ev["gene"]]
            if g.empty:
                raise InputError(f"profile event {i + 1}: unknown gene {ev['gene']!r}")
            g = g.iloc[0]
            mid = (int(g["start"]) + int(g["end"])) // 2
            half = int(ev.get("width", 1_000_000)) // 2
            chrom, start, end = g["chrom"], max(0, mid - half), mid + half
        elif ev.get("autosomes"):
            for chrom, a in arms[arms["chrom"].str.fullmatch(r"chr\d+")].groupby("chrom", sort=False):
                out.append({"chrom": chrom, "start": int(a["start"].min()), "end": int(a["end"].max()),
                            "copy": int(ev["copy"]), "label": "autosomes"})
            continue
        elif {"chrom", "start", "end"} <= ev.keys():
            chrom, start, end = ev["chrom"], int(ev["start"]), int(ev["end"])
        else:
            raise InputError(f"profile event {i + 1}: needs 'arm', 'gene', 'chrom/start/end' or 'autosomes': {ev!r}")
        out.append({"chrom": chrom, "start": start, "end": end, "copy": int(ev["copy"]),
                    "label": ev.get("arm") or ev.get("gene") or f"{chrom}:{start}-{end}"})
    return out


def get_profile(name: str) -> list[dict]:
    if name not in PROFILES:
        raise InputError(f"--profile {name!r}: unknown; choose one of {', '.join(PROFILES)} or give a JSON events file")
    return [dict(e) for e in PROFILES[name]]
