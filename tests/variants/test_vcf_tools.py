"""The VCF of `dnadx variants` as standard tools see it, on a `1..22`-named BAM and FASTA
(`dnadx simulate --chrom-naming 1`): contigs from the BAM header, GT, left-normalised indels
(`bcftools norm --check-ref e -f REF` changes nothing), `bcftools view` and `vcf-validator` accept it."""

from __future__ import annotations

import shutil
import subprocess

import pysam
import pytest

from tests.helpers import run_cli

# TP53 exon 5 in the seed-3 simulated FASTA: ...C A G G G G G A G T A A T T T T T G... (1-based 7675066-)
VARIANTS = ("17:7675072:GG>G:0.3",   # a G deleted at the end of a 5-G run: normalised to 7675068 AG>A
            "17:7675083:T>TT:0.3",   # a T inserted after a 5-T run: normalised to 7675078 A>AT
            "17:7675076:T>C:0.2")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: install it (Debian: apt-get install {'vcftools' if name == 'vcf-validator' else name})")
    return path


@pytest.fixture(scope="module")
def numeric(tmp_path_factory):
    d = tmp_path_factory.mktemp("numeric")
    args = [a for v in VARIANTS for a in ("--variant", v)]
    assert run_cli("simulate", "--prefix", d / "s", "--chroms", "chr17", "--fragments", 500, "--fasta", "--seed", 3,
                   "--chrom-naming", 1, "--deep-targets", "--target-depth", 300, *args) == 0
    assert run_cli("variants", d / "s.bam", "--fasta", d / "s.fa", "--prefix", d / "s") == 0
    return d


def test_contigs_genotypes_and_left_normalised_indels(numeric):
    with pysam.AlignmentFile(str(numeric / "s.bam")) as bam:
        names = list(bam.references)
    with pysam.VariantFile(str(numeric / "s.variants.vcf.gz")) as vf:
        assert list(vf.header.contigs) == names and "17" in names
        recs = {(r.chrom, r.pos, r.ref, r.alts[0]): r for r in vf}
    assert set(recs) == {("17", 7675068, "AG", "A"), ("17", 7675078, "A", "AT"), ("17", 7675076, "T", "C")}
    for r in recs.values():
        s = r.samples[0]
        assert s["GT"] == (0, 1) and sum(s["AD"]) == s["DP"] and list(r.filter) == ["PASS"]


def test_bcftools_norm_changes_nothing_and_tools_accept_it(numeric):
    vcf, fa = numeric / "s.variants.vcf.gz", numeric / "s.fa"
    bcftools = _tool("bcftools")
    view = subprocess.run([bcftools, "view", "-H", str(vcf)], capture_output=True, text=True)
    assert view.returncode == 0 and len(view.stdout.splitlines()) == 3, view.stderr
    norm = subprocess.run([bcftools, "norm", "--check-ref", "e", "-f", str(fa), str(vcf)], capture_output=True, text=True)
    assert norm.returncode == 0, norm.stderr
    assert "total/split/realigned/skipped:\t3/0/0/0" in norm.stderr, norm.stderr
    body = [line for line in norm.stdout.splitlines() if not line.startswith("#")]
    assert body == view.stdout.splitlines()
    val = subprocess.run([_tool("vcf-validator"), str(vcf)], capture_output=True, text=True)
    assert val.returncode == 0 and val.stdout.strip() == "" and "error" not in val.stderr.lower(), val.stdout + val.stderr
