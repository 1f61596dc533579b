#!/usr/bin/env python3
"""Build reference/polymorphisms.tsv: common germline polymorphisms in the variant targets (deterministic).

Usage: python reference/build/build_polymorphisms.py [REFERENCE_DIR]

`dnadx variants` marks a call matching one of these alleles `origin=germline_likely` (reported, never
resistance evidence). The source list below is curated from the public dbSNP and ClinVar records
named per row (NCBI; public domain, no restrictions on use). It is background knowledge (K) of those
records, not re-retrieved here; what the build checks instead:

* each variant's genomic position on GRCh38 and GRCh37 is *derived* from its HGVS c. name on the MANE
  transcript of `<build>/targets.tsv` (the same c. mapping the caller uses, V2), and the GRCh37 result
  must equal the dbSNP GRCh37 position listed below -- two independent routes to one coordinate;
* REF/ALT on the genome are the c. bases on the transcript strand (complemented on minus-strand TP53).

No ARID1B polymorphism is listed: none could be stated with its coordinates from a record we can cite.
Writes polymorphisms.tsv, then rewrites MANIFEST.tsv and the README checksum table (bundle_manifest.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))
from build_targets import write  # noqa: E402
from bundle_manifest import write_manifest  # noqa: E402
from dnadx.variants import hgvs  # noqa: E402

REL = "polymorphisms.tsv"
BUILDS = ("GRCh38", "GRCh37")
# gene, HGVS c. (MANE Select), p., dbSNP id, dbSNP GRCh37 position (check), population note, record
SOURCE = (
    ("TP53", "c.215C>G", "p.Pro72Arg", "rs1042522", 7579472,
     "common in every population (Arg allele frequency roughly 0.3-0.7 by ancestry)",
     "dbSNP rs1042522; ClinVar (benign)"),
    ("TP53", "c.639A>G", "p.Arg213=", "rs1800372", 7578210, "about 1-2% in most populations",
     "dbSNP rs1800372; ClinVar (benign)"),
    ("ERBB2", "c.1963A>G", "p.Ile655Val", "rs1136201", 37879588, "Val allele roughly 0.1-0.25 by ancestry",
     "dbSNP rs1136201"),
    ("ERBB2", "c.3508C>G", "p.Pro1170Ala", "rs1058808", 37884037, "Ala allele roughly 0.3-0.4",
     "dbSNP rs1058808"),
)
_COMP = str.maketrans("ACGT", "TGCA")
_CSNV = re.compile(r"c\.(\d+)([ACGT])>([ACGT])")


def _genomic(tx: hgvs.Transcript, c_name: str) -> tuple[int, str, str]:
    """1-based genomic position and +-strand REF/ALT of a coding SNV c. name on ``tx``."""
    num, ref, alt = _CSNV.fullmatch(c_name).groups()
    lo, hi = min(s for s, _ in tx.cds), max(e for _, e in tx.cds)
    hits = [p for p in range(lo + 1, hi + 1) if hgvs.c_position(tx, p) == num]
    if len(hits) != 1:
        raise SystemExit(f"{tx.gene} {c_name}: c.{num} maps to {len(hits)} genomic positions")
    if tx.strand == "-":
        ref, alt = ref.translate(_COMP), alt.translate(_COMP)
    return hits[0], ref, alt


def build(out: Path) -> pd.DataFrame:
    tx = {b: hgvs.transcripts(pd.read_csv(out / b / "targets.tsv", sep="\t", dtype={"chrom": str})) for b in BUILDS}
    rows = []
    for gene, c_name, p_name, rsid, pos37, freq, record in SOURCE:
        row = {"gene": gene, "hgvs_c": f"{tx['GRCh38'][gene].refseq}:{c_name}", "hgvs_p": p_name, "rsid": rsid}
        for b in BUILDS:
            pos, ref, alt = _genomic(tx[b][gene], c_name)
            row.update({f"{b}_chrom": tx[b][gene].chrom, f"{b}_pos": pos, f"{b}_ref": ref, f"{b}_alt": alt})
        if row["GRCh37_pos"] != pos37:
            raise SystemExit(f"{rsid}: {c_name} maps to GRCh37 {row['GRCh37_pos']}, dbSNP says {pos37}")
        row.update(population=freq, source=record, verification="K;V2", licence="public domain (NCBI dbSNP/ClinVar)")
        rows.append(row)
    return pd.DataFrame(rows)


def main(out: Path) -> None:
    write(build(out), out / REL)
    rows = write_manifest(out)
    print(f"wrote {REL} under {out}; MANIFEST.tsv rewritten ({len(rows)} rows)")


if __name__ == "__main__":
    if len(sys.argv) > 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]) if len(sys.argv) == 2 else HERE.parent)
