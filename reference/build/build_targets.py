#!/usr/bin/env python3
"""Build the variant targets and the resistance knowledge base (deterministic).

Usage: python reference/build/build_targets.py SOURCES_DIR [REFERENCE_DIR]

Writes
  <build>/targets.tsv   MANE Select exon/CDS structures of ERBB2, TP53, ARID1B, TOP1, one row per
                        exon (BED coordinates; cds_start/cds_end empty for non-coding exons)
                        <- transcripts_targets.tsv (rows of that assembly, `assembly` dropped, starts
                        converted from the source's 1-based closed spans to 0-based half-open)
  resistance_kb.tsv     one row per alteration of resistance_evidence.md, keeping its source text and
                        its verification tags (V1 retrieved source, V2 derived from the transcripts,
                        K background knowledge); rows with K carry background_knowledge=yes
and then rewrites MANIFEST.tsv and the checksum table of README.md over the whole bundle
(bundle_manifest.py).

Checks (the build fails otherwise): every hotspot's GRCh38 and GRCh37 position maps, on the
MANE transcript of that build, to the c. number its HGVS c. name states (the V2 derivation),
and the exon c. ranges of the source agree with the CDS lengths.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bundle_manifest import write_manifest  # noqa: E402  (this folder: the script's own)
from dnadx.variants import hgvs  # noqa: E402  (the same c. mapping the caller uses)

BUILDS = ("GRCh38", "GRCh37")
TARGETS = "{build}/targets.tsv"
KB = "resistance_kb.tsv"
_TAG = re.compile(r"\b(V1|V2|K)\b")
_POS = re.compile(r"(chr[0-9XY]+):(\d+)(?:-(\d+))?(?:\s+([ACGT]+)>([ACGT]+))?")
_CNUM = re.compile(r"c\.(\d+)\s*=\s*(\d+)")
_CSNV = re.compile(r"c\.(\d+)([ACGT])>([ACGT])")
_PNAME = re.compile(r"p\.[A-Z][a-z]{2}\d+(?:_[A-Z][a-z]{2}\d+)?(?:[A-Z][a-z]{2}|dup|del|fs\w*)?")
_CNAME = re.compile(r"c\.\d+(?:_\d+)?(?:[ACGT]>[ACGT]|dup|del\w*|ins\w*)")


def write(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(df.to_csv(sep="\t", index=False, lineterminator="\n").encode())


def build_targets(src: Path, build: str) -> pd.DataFrame:
    tt = pd.read_csv(src / "transcripts_targets.tsv", sep="\t", dtype=str, keep_default_na=False)
    df = tt[tt["assembly"] == build].drop(columns="assembly").reset_index(drop=True)
    # The source gives 1-based closed spans: for every coding exon c_last - c_first equals
    # cds_end - cds_start, and the V1 fixtures (ERBB2 L755S c.2264 = chr17:39723967, S310F
    # c.929 = 39711955) land on their c. number only that way. Convert starts to BED.
    for col in ("exon_start", "cds_start"):
        df[col] = [str(int(v) - 1) if v else "" for v in df[col]]
    for gene, sub in df.groupby("gene", sort=False):
        coding = sub[sub["cds_start"] != ""]
        length = sum(int(e) - int(s) for s, e in zip(coding["cds_start"], coding["cds_end"]))
        if length != int(coding["c_last"].astype(int).max()) or length % 3:
            raise SystemExit(f"{build} {gene}: CDS length {length} disagrees with c_last or is not codon-aligned")
    return df


def _split_rows(md: str) -> list[list[str]]:
    rows, in_table = [], False
    for line in md.splitlines():
        if line.startswith("| Gene |"):
            in_table = True
            continue
        if in_table and line.startswith("|---"):
            continue
        if in_table and line.startswith("|"):
            rows.append([c.strip().replace("**", "") for c in line.strip().strip("|").split("|")])
        elif in_table:
            in_table = False
    return rows


def _locus(cell: str, chrom_hint: str = "") -> dict:
    """chrom/pos(1-based)/end/ref/alt from a position cell; region rows get pos=start, end=end."""
    m = _POS.search(cell)
    c = _CNUM.search(cell)
    if not m and not (c and chrom_hint):
        return {"chrom": "", "pos": "", "end": "", "ref": "", "alt": ""}
    chrom, a, b, ref, alt = m.groups() if m else (chrom_hint, None, None, None, None)
    if c:  # "codon chr17:39724747-39724749, c.2329 = 39724747": the named base ("codon 3788..." in GRCh37)
        a, b = c.group(2), None
    return {"chrom": chrom, "pos": a, "end": b or a, "ref": ref or "", "alt": alt or ""}


def _kind(alteration: str, hgvs_cell: str, locus: dict) -> str:
    if "copy loss" in alteration.lower():
        return "copy_number_loss"
    if not locus["chrom"] or "gene-wide" in hgvs_cell or locus["end"] != locus["pos"]:
        return "gene_wide"
    if len(locus["ref"]) > 1 or len(locus["alt"]) > 1:
        return "indel"
    return "snv"


def build_kb(src: Path, tx: dict[str, dict[str, hgvs.Transcript]]) -> pd.DataFrame:
    rows = []
    for i, (gene, alteration, hgvs_cell, g38, g37, effect, source) in enumerate(
            _split_rows((src / "resistance_evidence.md").read_text()), 1):
        tags = sorted(set(_TAG.findall(source + " " + hgvs_cell)), key=["V1", "V2", "K"].index)
        g38_locus = _locus(g38)
        loci = {"GRCh38": g38_locus, "GRCh37": _locus(g37, g38_locus["chrom"])}
        kind = _kind(alteration, hgvs_cell, loci["GRCh38"])
        csnv = _CSNV.findall(hgvs_cell)
        row = {"kb_id": f"KB{i:03d}", "gene": gene, "alteration": alteration, "kind": kind,
               "hgvs_p": ";".join(_PNAME.findall(hgvs_cell)), "hgvs_c": ";".join(_CNAME.findall(hgvs_cell))}
        for build, loc in loci.items():
            if kind in ("snv", "indel") and not loc["ref"] and csnv and gene in tx[build]:
                # code-forced (or K) base change written as c.NNNX>Y: genomic alleles via the strand
                t = tx[build][gene]
                loc["ref"] = csnv[0][1] if t.strand == "+" else hgvs.revcomp(csnv[0][1])
                loc["alt"] = ",".join(a if t.strand == "+" else hgvs.revcomp(a) for _, _, a in csnv)
            row.update({f"{build}_{k}": v for k, v in loc.items()})
            if kind == "snv" and csnv and gene in tx[build]:
                got = hgvs.c_position(tx[build][gene], int(loc["pos"]))
                if got != csnv[0][0]:
                    raise SystemExit(f"{gene} {alteration} {build}:{loc['pos']} maps to c.{got}, source says c.{csnv[0][0]}")
        row.update({"effect": effect, "source": source, "verification": ",".join(tags),
                    "background_knowledge": "yes" if "K" in tags else "no", "civic_eid": ""})
        rows.append(row)
    return pd.DataFrame(rows)


def main(src: Path, out: Path) -> None:
    rels = []
    tx = {}
    for build in BUILDS:
        df = build_targets(src, build)
        rel = TARGETS.format(build=build)
        write(df, out / rel)
        rels.append(rel)
        tx[build] = hgvs.transcripts(df.replace("", None).astype({"exon_start": int, "exon_end": int}))
    write(build_kb(src, tx), out / KB)
    rels.append(KB)
    rows = write_manifest(out)
    print(f"wrote {', '.join(rels)} under {out}; MANIFEST.tsv rewritten ({len(rows)} rows)")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else Path(__file__).resolve().parents[1])
