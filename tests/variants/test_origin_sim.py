"""`dnadx variants` end to end on a simulated deep TP53 BAM: germline alleles are reported with origin
germline_likely and no resistance evidence; a synonymous change at a hotspot codon carries none."""

from __future__ import annotations

import pandas as pd
import pysam
import pytest

from tests.helpers import run_cli

P72R = "chr17:7676154:G>C"          # TP53 c.215C>G p.Pro72Arg, rs1042522 (reference/polymorphisms.tsv)
GERMLINE_HET = "chr17:7675100:A>G"  # a TP53 exon-5 coding base, heterozygous at VAF 0.5
R248_SYN = "chr17:7674219:C>T"      # TP53 c.744G>A p.Arg248= (real codon CGG -> CGA)


@pytest.fixture(scope="module")
def called(tmp_path_factory):
    d = tmp_path_factory.mktemp("origin")
    variants = ["--variant", f"{P72R}:0.15", "--variant", f"{GERMLINE_HET}:0.5", "--variant", f"{R248_SYN}:0.2"]
    assert run_cli("simulate", "--prefix", d / "s", "--chroms", "chr17", "--fragments", 2000, "--fasta",
                   "--deep-targets", "--real-codons", "--target-depth", 400, "--tumor-fraction", 0.3, "--seed", 21,
                   *variants) == 0
    assert run_cli("variants", d / "s.bam", "--fasta", d / "s.fa", "--prefix", d / "s") == 0
    res = pd.read_csv(d / "s.resistance.tsv", sep="\t", dtype=str).fillna("")
    with pysam.VariantFile(str(d / "s.variants.vcf.gz")) as vf:
        info = {(r.pos, r.alts[0]): dict(r.info) for r in vf}
    return res[res["level"] == "variant"].set_index("alteration"), info


@pytest.mark.parametrize("variant,vaf_reason", [(P72R, "rs1042522"), (GERMLINE_HET, "heterozygous")])
def test_germline_alleles_are_germline_likely_and_not_resistance(called, variant, vaf_reason):
    res, info = called
    chrom, pos, change = variant.split(":")
    row = res.loc[f"{chrom}:{pos} {change}"]
    assert row["origin"] == "germline_likely" and vaf_reason in row["caveat"], row["caveat"]
    assert row["evidence"] == "" and row["kb_id"] == ""
    assert info[(int(pos), change.split(">")[1])]["ORIGIN"] == ("germline_likely",)


def test_synonymous_r248_carries_no_resistance_evidence(called):
    res, _ = called
    row = res.loc["chr17:7674219 C>T"]
    assert row["hgvs_p"] == "p.Arg248=" and row["hgvs_c"].endswith("c.744G>A")
    assert row["evidence"] == "" and row["kb_id"] == "" and "not resistance evidence" in row["caveat"]
