"""`dnadx variants` against simulated truth: deep targeted BAM, matched null, 0.3x, bcftools."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pysam
import pytest

from dnadx.core import io
from dnadx.variants import vcf as vcf_io
from tests.helpers import run_cli

VAFS = (0.01, 0.02, 0.05, 0.10, 0.20)
DEEP = ("--chroms", "chr17", "--fragments", 2000, "--fasta", "--deep-targets", "--real-codons",
        "--target-depth", 1100, "--error-rate", 0.001, "--tumor-fraction", 0.3)


def _truth_variants() -> list[str]:
    """45 variants over the ERBB2/TP53 coding exons (SNVs at 1-20% VAF, two indels, two hotspots)."""
    t = vcf_io.read_targets("GRCh38").dropna(subset=["cds_start"])
    t = t[t["gene"].isin(["ERBB2", "TP53"])]
    positions = np.concatenate([np.arange(int(s) + 10, int(e) - 10, 60) for s, e in zip(t["cds_start"], t["cds_end"])])
    hot = {39723967, 7674221, 39724730}
    positions = [int(p) + 1 for p in positions if all(abs(int(p) + 1 - h) > 15 for h in hot)]
    pick = np.linspace(0, len(positions) - 1, 40).astype(int)
    out = []
    for i, j in enumerate(pick):
        ref, alt = ("C", "T") if i % 2 else ("A", "G")
        out.append(f"chr17:{positions[j]}:{ref}>{alt}:{VAFS[i % 5]}")
    out += ["chr17:39723967:T>C:0.05", "chr17:7674221:G>A:0.02",
            f"chr17:{positions[pick[3]] + 25}:C>CAT:0.1", f"chr17:{positions[pick[7]] + 25}:CTA>C:0.1"]
    return out


@pytest.fixture(scope="module")
def deep(tmp_path_factory):
    d = tmp_path_factory.mktemp("deep")
    variants = [a for v in _truth_variants() for a in ("--variant", v)]
    assert run_cli("simulate", "--prefix", d / "tumour", *DEEP, "--seed", 11, *variants) == 0
    assert run_cli("simulate", "--prefix", d / "null", *DEEP, "--seed", 12) == 0
    assert run_cli("simulate", "--prefix", d / "normal", *DEEP, "--seed", 13, "--tumor-fraction", 0) == 0
    assert run_cli("variants", "--build-error-model", d / "normal.bam", "--fasta", d / "normal.fa",
                   "--prefix", d / "pon") == 0
    assert run_cli("variants", d / "tumour.bam", "--fasta", d / "tumour.fa", "--prefix", d / "tumour",
                   "--error-model", d / "pon.error_model.tsv.gz", "--matched-blood", d / "normal.bam") == 0
    assert run_cli("variants", d / "null.bam", "--fasta", d / "null.fa", "--prefix", d / "null") == 0
    return d


def _vcf(path) -> pd.DataFrame:
    with pysam.VariantFile(str(path)) as vf:
        rows = [(r.chrom, r.pos, r.ref, r.alts[0], list(r.filter.keys()), r.samples[0]["DP"], r.samples[0]["AD"][1],
                 r.info.get("HGVSP", ("",))[0]) for r in vf]
    return pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt", "filter", "dp", "alt_fragments", "hgvs_p"])


def test_sensitivity_by_vaf(deep):
    truth = io.read_json(deep / "tumour.truth.json")["variants"]
    calls = _vcf(deep / "tumour.variants.vcf.gz")
    called = {(r.pos, r.alt) for r in calls.itertuples() if r.filter == ["PASS"]}
    hit = pd.DataFrame([{"vaf": v["vaf"], "depth": v["depth_fragments"],
                         "called": (v["pos"], v["alt"]) in called} for v in truth])
    assert hit["depth"].median() > 400  # ~500 unique fragments over the targets
    high = hit[hit["vaf"] >= 0.02]
    assert len(high) >= 35 and high["called"].mean() >= 0.90, hit.groupby("vaf")["called"].mean()
    assert hit[hit["vaf"] >= 0.05]["called"].all()
    # every PASS call is a planted variant (no false positives in the tumour either)
    truth_keys = {(v["pos"], v["alt"]) for v in truth}
    assert called <= truth_keys


def test_hotspots_named_and_reported(deep):
    calls = _vcf(deep / "tumour.variants.vcf.gz").set_index("pos")
    assert calls.loc[39723967, "hgvs_p"] == "p.Leu755Ser"
    assert calls.loc[7674221, "hgvs_p"] == "p.Arg248Trp"
    res = pd.read_csv(deep / "tumour.resistance.tsv", sep="\t")
    hot = res[res["level"] == "hotspot"].set_index("alteration")
    assert hot.loc["L755S (kinase domain)", "status"] == "called"
    assert hot.loc["V777L (kinase domain)", "status"] == "not_detected"
    assert 0 < float(hot.loc["V777L (kinase domain)", "lod95"]) < 0.05
    # the 2% TP53 R248W is low-VAF: checked against the matched blood BAM, where it is absent
    r248w = res[(res["level"] == "variant") & (res["hgvs_p"] == "p.Arg248Trp")]
    assert len(r248w) == 1 and r248w["origin"].iloc[0] == "unknown" and r248w["kb_id"].iloc[0] == "KB010"  # not possible CH; no --cnv
    assert r248w["kb_id"].iloc[0] == "KB010" and r248w["verification"].iloc[0] == "V1,V2"


def test_no_call_in_matched_null(deep):
    calls = _vcf(deep / "null.variants.vcf.gz")
    assert not any(f == ["PASS"] for f in calls["filter"])
    res = pd.read_csv(deep / "null.resistance.tsv", sep="\t")
    genes = res[res["level"] == "gene"].set_index("gene")["status"]
    assert genes["ERBB2"] == "not_detected" and genes["TP53"] == "not_detected"
    assert "sample" not in set(res["level"])  # two genes are readable: no sample-level "not assessable"
    # chr6/chr20 were not simulated: ARID1B/TOP1 are not assessable, never "wild type"
    assert genes["ARID1B"] == "not_assessable" and genes["TOP1"] == "not_assessable"
    assert "wild" not in res.to_csv().lower()


def test_fragment_counts_agree_with_bcftools(deep):
    if shutil.which("bcftools") is None:
        pytest.fail("bcftools is not on PATH: install it (Debian/Ubuntu: `apt-get install bcftools`)")
    truth = io.read_json(deep / "tumour.truth.json")["variants"]
    snvs = [v for v in truth if len(v["ref"]) == len(v["alt"]) == 1][:12]
    region = ",".join(f"chr17:{v['pos'] - 3}-{v['pos'] + 3}" for v in snvs)
    out = subprocess.run(
        f"bcftools mpileup -f {deep / 'tumour.fa'} -r {region} -a AD -Q 20 -q 20 -B -d 100000 -I {deep / 'tumour.bam'}"
        " | bcftools query -f '%POS\\t%REF\\t%ALT\\t[%AD]\\n'", shell=True, capture_output=True, text=True, check=True)
    theirs = {}
    for line in out.stdout.splitlines():
        pos, ref, alt, ad = line.split("\t")
        alleles = [ref] + alt.split(",")
        theirs[int(pos)] = dict(zip(alleles, map(int, ad.split(","))))
    from dnadx.count.bam import open_alignment
    from dnadx.variants.pileup import pileup
    positions = pd.DataFrame([(int(p), v) for v in snvs for p in range(v["pos"] - 3, v["pos"] + 4)], columns=["pos", "v"])
    regions = pd.DataFrame({"chrom": "chr17", "start": positions["pos"] - 1, "end": positions["pos"], "gene": "ERBB2"})
    with pysam.FastaFile(str(deep / "tumour.fa")) as fa, open_alignment(deep / "tumour.bam") as bam:
        depth, alleles = pileup(bam, regions.drop_duplicates(), fetch_ref=vcf_io.fasta_fetcher(fa))
    compared = 0
    for r in depth.itertuples():
        bc = theirs[r.pos]
        # bcftools keeps one base of a discordant overlapping pair; dnadx drops the fragment
        assert r.depth <= sum(bc.values()) <= r.depth + r.discordant, (r.pos, r.depth, bc)
        assert abs(bc.get(r.ref, 0) - (r.depth - alleles.query("pos == @r.pos")["alt_fragments"].sum())) <= r.discordant
        compared += 1
    for a in alleles.itertuples():
        if len(a.allele) == 1:
            assert abs(theirs[a.pos].get(a.allele, 0) - a.alt_fragments) <= depth.set_index("pos").loc[a.pos, "discordant"]
    assert compared >= 60


def test_low_pass_every_snv_not_assessable(tmp_path):
    assert run_cli("simulate", "--prefix", tmp_path / "lp", "--chroms", "chr17", "--fragments", 125_000,
                   "--seed", 4, "--tumor-fraction", 0.2) == 0
    assert run_cli("variants", tmp_path / "lp.bam", "--prefix", tmp_path / "lp") == 0
    res = pd.read_csv(tmp_path / "lp.resistance.tsv", sep="\t")
    sample = res[res["level"] == "sample"]
    assert len(sample) == 1 and sample["status"].iloc[0] == "not_assessable"
    assert "copy-number" in sample["detail"].iloc[0]
    snv = res[res["level"].isin(["hotspot", "gene"])]
    assert (snv["status"] == "not_assessable").all()
    assert snv["depth"].notna().all() and (snv["depth"] <= 10).all()
    assert snv[snv["level"] == "hotspot"]["detail"].str.match(r"depth \d+ fragments").all()
    assert not (tmp_path / "lp.variants.vcf.gz").exists()
