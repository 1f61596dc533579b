#!/usr/bin/env python3
"""Realistic whole-genome paired BAMs for the `dnadx count` speed benchmark (not for tests).

Unlike `dnadx simulate` BAMs (no read sequence, so almost nothing to inflate), these carry what
makes a real low-pass plasma BAM expensive to read, after ../shared/PERFORMANCE.md "Test data":

* GRCh38 header (chr1-22, X, Y lengths of the shipped bundle) with @RG and @PG, coordinate-sorted,
  indexed; BGZF written by `samtools view -b -@2` at its default level.
* 150 bp paired FR reads; SEQ from a random genome (position-derived, so overlapping mates agree),
  QUAL NovaSeq-like 4-level binned (2, 12, 23, 37); bwa-like names and tags (NM MD MC AS XS RG).
* cfDNA fragment lengths: 85% N(167, 20), 15% N(330, 35), at least 150.
* MAPQ per pair: 85% 60, 5% 0, 4% 1-19, 6% 20-59 (mates share it, read 2 sometimes differs).
* 8% of pairs duplicate-flagged, 0.3% QC-fail, 0.5% with a supplementary record of read 1,
  0.5% with read 2 unmapped (placed at its mate), 1% fully unmapped pairs at the end of the file;
  chrY at 0.2x the autosomal density.

Deterministic per seed (same SAM text; the BAM bytes also depend on the samtools version).

Usage: python benchmarks/make_bench_bam.py PAIRS OUT.bam [--seed 1]
1 M pairs (2.0 M records) take about a minute on the 2-core machine, 5 M pairs about 5.
Needs `samtools` on PATH.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
READ = 150
GENOME_POOL = 1 << 24  # 16 Mb random sequence; read bases come from position mod this length
QUAL_POOL = 1 << 16  # distinct binned quality strings (more than fit in deflate's 32 kb window)
MD = ("150", "75A74", "40A60C48", "30A30C40G47", "20A30C40G30T26", "20A20C30G30T20A25")  # by NM 0-5
BINNED_Q = np.frombuffer(b"#-8F", dtype=np.uint8)  # Phred 2, 12, 23, 37 as ASCII (+33)


def chrom_sizes() -> list[tuple[str, int]]:
    sizes = HERE.parent / "reference" / "GRCh38" / "chrom_sizes.tsv"
    rows = [line.split("\t")[:2] for line in sizes.read_text().splitlines()[1:]]
    keep = {f"chr{i}" for i in range(1, 23)} | {"chrX", "chrY"}
    return [(c, int(n)) for c, n in rows if c in keep]


def header(chroms) -> str:
    lines = ["@HD\tVN:1.6\tSO:coordinate"]
    lines += [f"@SQ\tSN:{c}\tLN:{n}" for c, n in chroms]
    lines.append("@RG\tID:bench\tSM:bench\tPL:ILLUMINA\tLB:lib1")
    lines.append("@PG\tID:bwa\tPN:bwa\tVN:0.7.17-r1188\tCL:bwa mem -t 16 -R @RG\\tID:bench GRCh38.fa r1.fq r2.fq")
    return "\n".join(lines) + "\n"


def pools(rng):
    genome = rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), GENOME_POOL + 2 * READ).tobytes().decode()
    # binned qualities: mostly 37, runs of lower bins, the 3' end worse (as on a NovaSeq)
    p = np.linspace(0.02, 0.15, READ)
    low = rng.random((QUAL_POOL, READ)) < p
    q = np.where(low, rng.choice(3, size=(QUAL_POOL, READ), p=[0.15, 0.35, 0.5]), 3)
    quals = [s.decode() for s in BINNED_Q[q].view(f"S{READ}").ravel()]
    return genome, quals


def fragment_lengths(rng, n):
    long = rng.random(n) < 0.15
    flen = np.where(long, rng.normal(330, 35, n), rng.normal(167, 20, n)).round().astype(np.int64)
    return np.maximum(flen, READ)


def mapqs(rng, n):
    u = rng.random(n)
    return np.select([u < 0.85, u < 0.90, u < 0.94], [60, 0, rng.integers(1, 20, n)], rng.integers(20, 60, n))


def chrom_records(rng, chrom, length, npairs, first_id, genome, quals):
    """Yield the SAM lines of one chromosome, sorted by position."""
    n = npairs
    flen = fragment_lengths(rng, n)
    left = np.sort(rng.integers(0, length - 1000, n))
    right = left + flen - READ
    r1_left = rng.random(n) < 0.5  # read 1 on the forward strand (leftmost)
    mq1 = mapqs(rng, n)
    mq2 = np.where(rng.random(n) < 0.9, mq1, mapqs(rng, n))
    dup = rng.random(n) < 0.08
    qcf = rng.random(n) < 0.003
    supp = rng.random(n) < 0.005
    mate_unmapped = rng.random(n) < 0.005
    nm1, nm2 = (np.minimum(rng.poisson(0.4, n), 5) for _ in range(2))
    xs1, xs2 = (rng.integers(0, 60, n) for _ in range(2))
    q1, q2 = (rng.integers(0, QUAL_POOL, n) for _ in range(2))
    common = 0x1 | np.where(dup, 0x400, 0) | np.where(qcf, 0x200, 0)
    proper = np.where(mate_unmapped, 0, 0x2)
    pos1 = np.where(r1_left, left, right)
    pos2 = np.where(mate_unmapped, pos1, np.where(r1_left, right, left))
    tlen1 = np.where(mate_unmapped, 0, np.where(r1_left, flen, -flen))
    f1 = common | proper | 0x40 | np.where(r1_left, 0x20, 0x10) | np.where(mate_unmapped, 0x8, 0)
    f1 = np.where(mate_unmapped, common | 0x40 | 0x8 | np.where(r1_left, 0, 0x10), f1)
    f2 = common | proper | 0x80 | np.where(r1_left, 0x10, 0x20)
    f2 = np.where(mate_unmapped, common | 0x80 | 0x4 | np.where(r1_left, 0, 0x20), f2)
    # records: (pos, kind, pair index); kind 0 = read 1, 1 = read 2, 2 = supplementary of read 1
    si = np.flatnonzero(supp)
    spos = np.minimum(pos1[si] + rng.integers(1000, 100000, si.size), length - READ)
    pos = np.concatenate([pos1, pos2, spos])
    kind = np.concatenate([np.zeros(n, np.int8), np.ones(n, np.int8), np.full(si.size, 2, np.int8)])
    idx = np.concatenate([np.arange(n), np.arange(n), si])
    order = np.lexsort((kind, pos))
    pos, kind, idx = pos[order].tolist(), kind[order].tolist(), idx[order].tolist()
    f1, f2, mq1, mq2, tlen1 = f1.tolist(), f2.tolist(), mq1.tolist(), mq2.tolist(), tlen1.tolist()
    nm1, nm2, xs1, xs2, q1, q2 = nm1.tolist(), nm2.tolist(), xs1.tolist(), xs2.tolist(), q1.tolist(), q2.tolist()
    mu, p1l, p2l = mate_unmapped.tolist(), pos1.tolist(), pos2.tolist()
    gl = GENOME_POOL
    for p, k, i in zip(pos, kind, idx):
        name = _name(first_id + i)
        g = p % gl
        if k == 0:
            yield _mapped(name, f1[i], chrom, p, mq1[i], p2l[i], tlen1[i], genome[g:g + READ], quals[q1[i]],
                          nm1[i], xs1[i], mate_mapped=not mu[i])
        elif k == 1 and mu[i]:
            yield (f"{name}\t{f2[i]}\t{chrom}\t{p + 1}\t0\t*\t=\t{p + 1}\t0\t{genome[g:g + READ]}\t"
                   f"{quals[q2[i]]}\tMC:Z:150M\tAS:i:0\tXS:i:0\tRG:Z:bench\n")
        elif k == 1:
            yield _mapped(name, f2[i], chrom, p, mq2[i], p1l[i], -tlen1[i], genome[g:g + READ], quals[q2[i]],
                          nm2[i], xs2[i], mate_mapped=True)
        else:
            flag = (f1[i] & 0x6F3) | 0x800
            yield (f"{name}\t{flag}\t{chrom}\t{p + 1}\t{min(mq1[i], 30)}\t70M80H\t=\t{p2l[i] + 1}\t0\t"
                   f"{genome[g:g + 70]}\t{quals[q1[i]][:70]}\tNM:i:0\tMD:Z:70\tMC:Z:150M\tAS:i:70\tXS:i:0\t"
                   f"SA:Z:{chrom},{p1l[i] + 1},+,80S70M,{mq1[i]},0;\tRG:Z:bench\n")


def _name(fid: int) -> str:
    """An Illumina-like read name, unique per fragment id."""
    return f"A00588:415:HJ7WKDSXY:{1 + fid % 4}:{1101 + fid // 4 % 2600}:{fid % 32000 + 1000}:{fid // 7 % 36000 + 1000}"


def _mapped(name, flag, chrom, pos, mapq, mate_pos, tlen, seq, qual, nm, xs, *, mate_mapped: bool) -> str:
    mc = "MC:Z:150M\t" if mate_mapped else ""
    return (f"{name}\t{flag}\t{chrom}\t{pos + 1}\t{mapq}\t150M\t=\t{mate_pos + 1}\t{tlen}\t{seq}\t{qual}\t"
            f"NM:i:{nm}\tMD:Z:{MD[nm]}\t{mc}AS:i:{150 - 5 * nm}\tXS:i:{xs}\tRG:Z:bench\n")


def unmapped_records(rng, npairs, first_id, genome, quals):
    for i in range(npairs):
        name = _name(first_id + i)
        for flag in (77, 141):
            g = int(rng.integers(0, GENOME_POOL))
            yield (f"{name}\t{flag}\t*\t0\t0\t*\t*\t0\t0\t{genome[g:g + READ]}\t"
                       f"{quals[int(rng.integers(0, QUAL_POOL))]}\tAS:i:0\tXS:i:0\tRG:Z:bench\n")


def make(pairs: int, out: Path, seed: int) -> None:
    if not shutil.which("samtools"):
        raise SystemExit("needs samtools on PATH: apt-get install -y samtools")
    rng = np.random.default_rng(seed)
    chroms = chrom_sizes()
    genome, quals = pools(rng)
    weight = np.array([n * (0.2 if c == "chrY" else 1.0) for c, n in chroms])
    unmapped = pairs // 100
    per = rng.multinomial(pairs - unmapped, weight / weight.sum())
    tmp = out.with_name(out.name + ".part")
    proc = subprocess.Popen(["samtools", "view", "-b", "-@2", "-o", str(tmp), "-"], stdin=subprocess.PIPE)
    try:
        proc.stdin.write(header(chroms).encode())
        first = 0
        gens = []
        for (c, n), k in zip(chroms, per):
            gens.append(chrom_records(rng, c, n, int(k), first, genome, quals))
            first += int(k)
        gens.append(unmapped_records(rng, unmapped, first, genome, quals))
        for gen in gens:  # generators draw their random numbers when first advanced, in this order
            for chunk in iter(lambda: list(itertools.islice(gen, 100_000)), []):
                proc.stdin.write("".join(chunk).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    if proc.wait() != 0:
        raise SystemExit(f"samtools view failed writing {tmp}")
    tmp.replace(out)
    subprocess.run(["samtools", "index", str(out)], check=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pairs", type=int, help="read pairs (records are about 2.01x this)")
    ap.add_argument("out", type=Path, help="output BAM (indexed next to it)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    make(args.pairs, args.out, args.seed)
    print(f"{args.out}: {args.pairs:,} pairs", file=sys.stderr)


if __name__ == "__main__":
    main()
