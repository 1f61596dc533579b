"""HGVS c./p. naming on the MANE transcripts (both builds, minus-strand TP53, 3' rule)."""

from __future__ import annotations

import pysam
import pytest

from dnadx.core.errors import InputError
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
        names = {r.info["HGVSP"][0]: (r.info["HGVSC"][0], list(r.filter)) for r in vf}  # INFO Number=A
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
    with pytest.raises(InputError, match=r"TOY chrT:101: reference base C disagrees with the FASTA \(A\)"):
        hgvs.annotate(tx, 101, "C", "T", fetch)  # c.1 is A
    assert hgvs.annotate(tx, 101, "A", "G", fetch)["hgvs_p"] == "p.Met1?"  # the right base names fine


# Expected names below follow the HGVS nomenclature recommendations (varnomen.hgvs.org): protein
# substitution (nonsense p.Trp24Ter), frameshift ("a frameshift whose first changed amino acid is a
# stop is described as a nonsense change", not ...TerfsTer1), insertion (p.Lys2_Gly3ins...),
# deletion-insertion (p.Asn47delinsSerSerTer), extension (p.Ter110GlnextTer17, new stop counted from
# the first codon after the former one), and the 3' rule applied within the exon.
# Toy CDS: ATG GCA TAC GTG ATG GCT GGT GCC TAA = Met Ala Tyr Val Met Ala Gly Ala Ter (c.1 at chrT:101).

def _ins(tx, fetch, after_c: int, seq: str) -> dict:
    pos = 100 + after_c  # + strand toy: c.N is 1-based chrT:100 + N
    base = fetch("chrT", pos - 1, pos)
    return hgvs.annotate(tx, pos, base, base + seq, fetch)


def test_frameshift_whose_first_changed_codon_is_a_stop_is_nonsense():
    tx, fetch = _toy("+")
    # c.9del: TAC GTG -> TAG TG.. : Tyr3 becomes a stop at once
    ann = hgvs.annotate(tx, 108, fetch("chrT", 107, 109), fetch("chrT", 107, 108), fetch)
    assert (ann["hgvs_c"], ann["hgvs_p"], ann["consequence"]) == ("NM_TOY.1:c.9del", "p.Tyr3Ter", "frameshift")
    # a frameshift reading on is still fs: c.8del TAC -> TCG (Ser) ...
    assert "fs" in hgvs.annotate(tx, 107, fetch("chrT", 106, 108), fetch("chrT", 106, 107), fetch)["hgvs_p"]


@pytest.mark.parametrize("after_c,seq,name", [
    (6, "TAA", "p.Tyr3Ter"),                    # a stop inserted between codons 2 and 3
    (6, "GGCTAA", "p.Ala2_Tyr3insGlyTer"),      # Gly + stop inserted
    (7, "GGTAAG", "p.Tyr3delinsTrpTer"),        # T|AC split: TGG TAA GAC, Tyr3 replaced by Trp, then stop
])
def test_inframe_insertion_creating_a_stop_is_stop_gained(after_c, seq, name):
    tx, fetch = _toy("+")
    ann = _ins(tx, fetch, after_c, seq)
    assert (ann["hgvs_p"], ann["consequence"]) == (name, "stop_gained"), ann
    assert _ins(tx, fetch, 6, "GGC")["consequence"] == "inframe_indel"  # no stop: in-frame insertion


def _toy_tail(tail: str):
    """The toy with a chosen 3' UTR after its TAA stop (c.25-27 = chrT:125-127)."""
    cds = "ATGGCATACGTGATGGCTGGTGCCTAA"
    genome = "N" * 100 + cds + tail + "N" * 50
    return hgvs.Transcript("TOY", "NM_TOY.1", "chrT", "+", ((90, 127 + len(tail)),), ((100, 127),)), \
        (lambda c, s, e: genome[s:e])


def test_stop_loss_reads_to_the_next_stop():
    tx, fetch = _toy_tail("GCATGACCC")  # Ala, then TGA: the new stop is the 2nd codon after the old one
    ann = hgvs.annotate(tx, 125, "T", "C", fetch)  # c.25T>C: TAA -> CAA (Gln)
    assert (ann["hgvs_c"], ann["hgvs_p"], ann["consequence"]) == ("NM_TOY.1:c.25T>C", "p.Ter9GlnextTer2", "stop_lost")
    tx, fetch = _toy_tail("GCAGCAGCAGCA")  # no stop in the sequence read
    assert hgvs.annotate(tx, 125, "T", "C", fetch)["hgvs_p"] == "p.Ter9GlnextTer?"


def _two_exons():
    """+ strand: exon 1 CDS ATG GCA TAC GAA (c.1-12, chrT:101-112), intron GT..AG, exon 2 CDS AAG TGG TAA
    (c.13-21, chrT:201-209). The A run c.11-14 spans the exon junction."""
    genome = "N" * 100 + "ATGGCATACGAA" + "GT" + "C" * 84 + "AG" + "AAGTGGTAA" + "ACGT" * 20
    tx = hgvs.Transcript("TOY2", "NM_TOY2.1", "chrT", "+", ((95, 112), (200, 230)), ((100, 112), (200, 209)))
    return tx, (lambda c, s, e: genome[s:e])


def test_3prime_shift_stays_within_the_exon():
    tx, fetch = _two_exons()
    # deleting the first A of the run (c.11): shifted 3' to the exon's last base c.12, not across to c.14
    ann = hgvs.annotate(tx, 110, fetch("chrT", 109, 111), fetch("chrT", 109, 110), fetch)
    assert ann["hgvs_c"] == "NM_TOY2.1:c.12del" and ann["consequence"] == "frameshift"
    # an A inserted before the run: a duplication of c.12, not c.14
    ann = hgvs.annotate(tx, 110, "G", "GA", fetch)
    assert ann["hgvs_c"] == "NM_TOY2.1:c.12dup"


def test_complex_and_non_coding_indels_get_c_names_not_g():
    """HGVS deletion-insertion (c.6_7delinsTT), intronic deletion (c.12+3_12+4del) and splice-site
    insertion names on c. offsets; never the invalid 'g.POSREF>ALT'."""
    tx, fetch = _toy("+")
    # c.6_7 AT -> TT: the shared T trimmed, a substitution written with an extra base (GCA -> GCT, Ala2=)
    ann = hgvs.annotate(tx, 106, "AT", "TT", fetch)
    assert (ann["hgvs_c"], ann["hgvs_p"], ann["consequence"]) == ("NM_TOY.1:c.6A>T", "p.Ala2=", "synonymous")
    ann = hgvs.annotate(tx, 106, "ATA", "TTT", fetch)  # c.6_8 ATA -> TTT: GCT TTC = Ala2= Tyr3Phe
    assert (ann["hgvs_c"], ann["hgvs_p"]) == ("NM_TOY.1:c.6_8delinsTTT", "p.Tyr3Phe"), ann
    tx2, fetch2 = _two_exons()  # exon 1 ends at c.12 = chrT:112; intron GT C C ...
    ann = hgvs.annotate(tx2, 114, fetch2("chrT", 113, 116), fetch2("chrT", 113, 114), fetch2)  # delete chrT:115-116
    assert (ann["hgvs_c"], ann["hgvs_p"]) == ("NM_TOY2.1:c.12+3_12+4del", ""), ann
    ann = hgvs.annotate(tx2, 113, "G", "GA", fetch2)  # insertion between c.12+1 and c.12+2 (splice site)
    assert (ann["hgvs_c"], ann["hgvs_p"]) == ("NM_TOY2.1:c.12+1_12+2insA", "p.?"), ann
