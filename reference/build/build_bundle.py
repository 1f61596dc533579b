#!/usr/bin/env python3
"""Build the dnadx reference bundle from ../shared/reference-sources (deterministic).

Usage: python reference/build/build_bundle.py SOURCES_DIR [REFERENCE_DIR]

Writes, per build (GRCh38, GRCh37) under REFERENCE_DIR/<build>/:
  chrom_sizes.tsv   chr1-22, X, Y lengths (+ aliases)           <- chrom_sizes_<build>.tsv
  arms.tsv          p/q arm spans (UCSC convention)             <- arms_<build>.tsv
  centromeres.tsv   acen span and p/q midpoint                  <- centromeres_<build>.tsv
  cytobands.tsv.gz  UCSC cytoBand                               <- cytobands_<build>.tsv
  bins_10kb.tsv.gz  10 kb bins: GC fraction, mean mappability   <- ichorCNA gc_/map_<hg>_10kb.wig.gz
                    (GC -1 = no sequence -> empty/NaN; map clipped to [0, 1]; last bin ends at chrom end)
  genes.tsv.gz      Entrez id, symbol, BED coordinates on chr1-22, X, Y  <- genes_<build>.tsv
and, build-independent, REFERENCE_DIR/dnadx/:
  segment_genes.tsv.gz   536 DNADX segments x Entrez ids (GMT order)  <- dnadx_segments.tsv
  segments.tsv           one row per segment (type, source, direction, hg18 span)  <- dnadx_segment_summary.tsv
Then MANIFEST.tsv (file, sha256, bytes) over every file of REFERENCE_DIR (bundle_manifest.py).
gzip output has mtime 0.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from bundle_manifest import write_manifest  # this folder (the script's own)

BUILDS = {"GRCh38": "hg38", "GRCh37": "hg19"}
CHROMS = [f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY"]


def write(df: pd.DataFrame, path: Path, float_format: str | None = None) -> None:
    text = df.to_csv(sep="\t", index=False, lineterminator="\n", float_format=float_format).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
            fh.write(text)
    else:
        path.write_bytes(text)


def read_wig(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {}
    cur = None
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith("fixedStep"):
                chrom = dict(kv.split("=") for kv in line.split()[1:])["chrom"]
                cur = out.setdefault(chrom if chrom.startswith("chr") else f"chr{chrom}", [])
            elif line.strip():
                cur.append(float(line))
    return {k: np.asarray(v) for k, v in out.items()}


def build_bins(src: Path, hg: str, sizes: pd.DataFrame) -> pd.DataFrame:
    ann = src / "bin-annotations"
    gc = read_wig(ann / f"gc_{hg}_10kb.wig.gz")
    mp = read_wig(ann / f"map_{hg}_10kb.wig.gz")
    frames = []
    for chrom, length in zip(sizes["chrom"], sizes["length"]):
        n = -(-int(length) // 10_000)
        g, m = gc[chrom], mp[chrom]
        if len(g) != n or len(m) != n:
            raise SystemExit(f"{chrom}: wig has {len(g)}/{len(m)} bins, expected {n} for length {length}")
        start = np.arange(n, dtype=np.int64) * 10_000
        frames.append(pd.DataFrame({
            "chrom": chrom, "start": start, "end": np.minimum(start + 10_000, int(length)),
            "gc": np.where(g < 0, np.nan, g), "mappability": np.clip(m, 0, 1),
        }))
    return pd.concat(frames, ignore_index=True)


def main(src: Path, out: Path) -> None:
    written: list[Path] = []
    for build, hg in BUILDS.items():
        d = out / build
        sizes = pd.read_csv(src / f"chrom_sizes_{build}.tsv", sep="\t")
        sizes = sizes.set_index("chrom").loc[CHROMS].reset_index()
        for name, frame in [
            ("chrom_sizes.tsv", sizes),
            ("arms.tsv", pd.read_csv(src / f"arms_{build}.tsv", sep="\t")),
            ("centromeres.tsv", pd.read_csv(src / f"centromeres_{build}.tsv", sep="\t")),
            ("cytobands.tsv.gz", pd.read_csv(src / f"cytobands_{build}.tsv", sep="\t")),
        ]:
            write(frame, d / name)
            written.append(d / name)
        write(build_bins(src, hg, sizes), d / "bins_10kb.tsv.gz", float_format="%.6g")
        written.append(d / "bins_10kb.tsv.gz")
        genes = pd.read_csv(src / f"genes_{build}.tsv", sep="\t", dtype={"entrez_id": "int64"})
        genes = genes[genes["chrom"].isin(CHROMS)][["entrez_id", "symbol", "chrom", "start", "end", "strand"]]
        order = {c: i for i, c in enumerate(CHROMS)}
        genes = genes.assign(_o=genes["chrom"].map(order)).sort_values(["_o", "start", "entrez_id"]).drop(columns="_o")
        write(genes, d / "genes.tsv.gz")
        written.append(d / "genes.tsv.gz")
    seg = pd.read_csv(src / "dnadx_segments.tsv", sep="\t", dtype=str, keep_default_na=False)
    sg = seg[["segment_index", "segment_id", "gene_rank", "entrez_id", "symbol_2022"]].rename(columns={"symbol_2022": "symbol"})
    write(sg, out / "dnadx" / "segment_genes.tsv.gz")
    summ = pd.read_csv(src / "dnadx_segment_summary.tsv", sep="\t", dtype=str, keep_default_na=False)
    first = seg.drop_duplicates("segment_index").set_index("segment_index")
    summ = summ.assign(
        name_escaped=summ["segment_index"].map(first["name_escaped"]),
        direction=summ["segment_index"].map(first["direction"]),
        arm=summ["segment_index"].map(first["arm"]),
        cytoband=summ["segment_index"].map(first["cytoband"]),
        label_genes=summ["segment_index"].map(first["label_genes"]),
    )
    write(summ, out / "dnadx" / "segments.tsv")
    written += [out / "dnadx" / "segment_genes.tsv.gz", out / "dnadx" / "segments.tsv"]
    rows = write_manifest(out)
    print(f"wrote {len(written)} files under {out}; checksums of all {len(rows)} in {out / 'MANIFEST.tsv'}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    here = Path(__file__).resolve().parents[1]
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else here)
