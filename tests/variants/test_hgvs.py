"""HGVS c./p. naming on the MANE transcripts (both builds, minus-strand TP53, 3' rule)."""

from __future__ import annotations

import pandas as pd
import pysam
import pytest

from dnadx.variants import hgvs, vcf as vcf_io
from dnadx.sim.variants import REAL_CODONS, genomic_of_c
from tests.helpers import run_cli


@pytest.mark.parametrize("genome", ["GRCh38", "GRCh37"])
def test_c_numbering_matches_source_exon_ranges(genome):
    targets = vcf_io.read_targets(genome)
    tx = hgvs.transcripts(targets)
    for r in targets.dropna(subset=["cds_start"]).itertuples():
        t = tx[r.gene]
        first, last = (int(r.cds_start) + 1, int(r.cds_end)) if t.strand == "+" else (int(r.cds_end), int(r.cds_start) + 1)
        assert hgvs.c_position(t, first) == str(int(r.c_first)), (r.gene, r.exon)
        assert hgvs.c_position(t, last) == str(int(r.c_last)), (r.gene, r.exon)
        assert genomic_of_c(t, int(r.c_first)) == first


def test_intronic_utr_and_splice_names():
    tx = hgvs.transcripts(vcf_io.read_targets("GRCh38"))
    erbb2, tp53 = tx["ERBB2"], tx["TP53"]
    assert hgvs.c_position(erbb2, 39724011) == "2307+1"      # after exon 19 (c.2209-2307)
    assert hgvs.c_position(erbb2, 39724725) == "2308-1"      # before exon 20
    assert hgvs.region_of(erbb2, 39724012) == "splice_site"
    assert hgvs.region_of(erbb2, 39724013) == "intron"
    assert hgvs.c_position(tp53, 7674291) == "673-1"         # minus strand: upstream of exon 7 is to the right
    assert hgvs.c_position(tp53, 7674180) == "782+1"
    assert hgvs.c_position(erbb2, 39700238) == "-1"          # 5 UTR base before the ATG (c.1 = 39700239)
    assert hgvs.c_position(tp53, 7669608).startswith("*1")   # 3' UTR after the stop


@pytest.fixture(scope="module", params=["GRCh38", "GRCh37"])
def real_codon_fasta(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(f"codons{request.param}")
    kb = vcf_io.read_kb().set_index("hgvs_p")
    planted = [f"chr17:{kb.loc[p, f'{request.param}_pos']}:{kb.loc[p, f'{request.param}_ref']}>"
               f"{kb.loc[p, f'{request.param}_alt']}:0.3" for p in ("p.Leu755Ser", "p.Arg248Trp")]
    assert run_cli("simulate", "--prefix", d / "s", "--genome", request.param, "--chroms", "chr17", "--fasta",
                   "--real-codons", "--fragments", 500, "--seed", 2, "--target-depth", 150,
                   *[a for v in planted for a in ("--variant", v)]) == 0
    assert run_cli("variants", d / "s.bam", "--fasta", d / "s.fa", "--prefix", d / "s") == 0
    return request.param, d / "s.fa"


def test_vcf_names_hotspots_in_both_builds(real_codon_fasta):
    genome, fasta = real_codon_fasta
    with pysam.VariantFile(str(fasta.with_suffix(".variants.vcf.gz"))) as vf:
        names = {r.info["HGVSP"]: (r.info["HGVSC"], list(r.filter)) for r in vf}
    assert names["p.Leu755Ser"] == ("NM_004448.4:c.2264T>C", ["PASS"]), genome
    assert names["p.Arg248Trp"] == ("NM_000546.6:c.742C>T", ["PASS"]), genome


def test_known_hotspots_named_on_real_codons(real_codon_fasta):
    """ERBB2 p.Leu755Ser, TP53 p.Arg248Trp (and the other chr17 hotspots) from their VCF alleles."""
    genome, fasta = real_codon_fasta
    tx = hgvs.transcripts(vcf_io.read_targets(genome))
    kb = vcf_io.read_kb()
    snv = kb[(kb["kind"] == "snv") & (kb[f"{genome}_chrom"] == "chr17")]
    names = {}
    with pysam.FastaFile(str(fasta)) as fa:
        fetch = vcf_io.fasta_fetcher(fa)
        for r in snv.itertuples():
            pos = int(getattr(r, f"{genome}_pos"))
            ref = getattr(r, f"{genome}_ref")
            assert fetch("chr17", pos - 1, pos) == ref, r.alteration  # planted codon carries the KB REF
            for alt, p_name, c_name in zip(getattr(r, f"{genome}_alt").split(","), r.hgvs_p.split(";"), r.hgvs_c.split(";")):
                ann = hgvs.annotate(tx[r.gene], pos, ref, alt, fetch)
                names[p_name] = ann["hgvs_p"]
                assert ann["hgvs_c"] == f"{tx[r.gene].refseq}:{c_name}"
                assert ann["consequence"] == "missense"
    assert names["p.Leu755Ser"] == "p.Leu755Ser" and names["p.Arg248Trp"] == "p.Arg248Trp"
    assert all(k == v for k, v in names.items()), names
    assert len(names) >= 8


def _toy(strand: str):
    """A 1-exon toy transcript: CDS ATG GCA TAC GTG ATG GCT GGT GCC TAA at chrT:100-127."""
    cds = "ATGGCATACGTGATGGCTGGTGCCTAA"
    plus = cds if strand == "+" else hgvs.revcomp(cds)
    genome = "N" * 100 + plus + "ACGTTGCA" * 10
    tx = hgvs.Transcript("TOY", "NM_TOY.1", "chrT", strand, ((90, 137),), ((100, 127),))
    return tx, (lambda c, s, e: genome[s:e])


def test_duplication_is_shifted_3prime_and_named_dup():
    tx, fetch = _toy("+")
    # the 12 bp TAC GTG ATG GCT inserted after c.18 (its 3' copy) or left-aligned after c.6: same dup
    for anchor_c in (18, 6):
        pos = 100 + anchor_c
        ins = "TACGTGATGGCT" if anchor_c == 18 else "TACGTGATGGCT"
        ann = hgvs.annotate(tx, pos, fetch("chrT", pos - 1, pos), fetch("chrT", pos - 1, pos) + ins, fetch)
        assert ann["hgvs_c"] == "NM_TOY.1:c.7_18dup" and ann["hgvs_p"] == "p.Tyr3_Ala6dup", ann


def test_minus_strand_deletion_frameshift_and_stop():
    tx, fetch = _toy("-")
    # genomic deletion of one base; on the minus strand c.8 (A of TAC) is genomic 127 - 8 + 1 = 120
    anchor = 119
    ann = hgvs.annotate(tx, anchor, fetch("chrT", anchor - 1, anchor + 1), fetch("chrT", anchor - 1, anchor), fetch)
    assert ann["hgvs_c"] == "NM_TOY.1:c.8del" and ann["hgvs_p"].startswith("p.Tyr3") and "fs" in ann["hgvs_p"]
    # c.9C>A on the transcript: TAC -> TAA stop; genomic G>T
    ann = hgvs.annotate(tx, 127 - 9 + 1, "G", "T", fetch)
    assert ann["hgvs_c"] == "NM_TOY.1:c.9C>A" and ann["hgvs_p"] == "p.Tyr3Ter" and ann["consequence"] == "stop_gained"
    ann = hgvs.annotate(tx, 127 - 6 + 1, "T", "C", fetch)  # c.6A>G: GCA -> GCG, Ala
    assert ann["hgvs_p"] == "p.Ala2=" and ann["consequence"] == "synonymous"


def test_real_codons_encode_the_knowledge_base_reference_bases():
    kb = vcf_io.read_kb()
    tx = hgvs.transcripts(vcf_io.read_targets("GRCh38"))
    for r in kb[kb["kind"] == "snv"].itertuples():
        c = int(r.hgvs_c.split(";")[0][2:-3])
        codon = REAL_CODONS[r.gene][(c - 1) // 3 + 1]
        base = codon[(c - 1) % 3]
        assert base == (r.GRCh38_ref if tx[r.gene].strand == "+" else hgvs.revcomp(r.GRCh38_ref)), r.alteration
        assert hgvs.AA3[hgvs.CODON_TABLE[codon]] == r.hgvs_p.split(";")[0][2:5]


def test_reference_mismatch_is_a_clear_error():
    tx, fetch = _toy("+")
    with pytest.raises(Exception, match="disagrees with the FASTA"):
        hgvs.annotate(tx, 101, "C", "T", fetch)  # c.1 is A
    assert isinstance(pd.DataFrame(), pd.DataFrame)
