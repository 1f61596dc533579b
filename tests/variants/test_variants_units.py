"""Pileup filters on hand-made reads, the error model and limits, VCF output, reference build, CLI errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
from scipy.stats import betabinom, binom

from dnadx.variants import calling as vc
from dnadx.variants import vcf as vcf_io
from dnadx.variants.pileup import PileupOptions, pileup
from tests.helpers import run_cli, run_proc

ROOT = Path(__file__).resolve().parents[2]
REF = ("ACGT" * 50)


def _bam(tmp_path, reads) -> Path:
    """reads: (name, flag, pos0, seq, mapq, baseq per base or int, cigar=None)."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrT", "LN": len(REF)}]}
    path = tmp_path / "t.bam"
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for name, flag, pos, seq, mapq, q in sorted(reads, key=lambda r: r[2]):
            a = pysam.AlignedSegment()
            a.query_name, a.flag, a.reference_id, a.reference_start = name, flag, 0, pos
            a.mapping_quality, a.cigarstring, a.query_sequence = mapq, f"{len(seq)}M", seq
            a.query_qualities = pysam.qualitystring_to_array(chr(33 + q) * len(seq)) if isinstance(q, int) else q
            out.write(a)
    pysam.index(str(path))
    return path


def _alt(seq: str, off: int, base: str) -> str:
    return seq[:off] + base + seq[off + 1:]


def test_pileup_counts_fragments_once_and_applies_filters(tmp_path):
    r = REF[10:40]  # reads over chrT:10-40; the tested base is 0-based 20 (REF 'A')
    reads = [
        ("agree", 0x1 | 0x2 | 0x40 | 0x20, 10, _alt(r, 10, "T"), 60, 30),       # both mates alt: one fragment
        ("agree", 0x1 | 0x2 | 0x80 | 0x10, 12, _alt(REF[12:42], 8, "T"), 60, 30),
        ("disagree", 0x1 | 0x2 | 0x40 | 0x20, 10, _alt(r, 10, "T"), 60, 30),    # mates differ: dropped
        ("disagree", 0x1 | 0x2 | 0x80 | 0x10, 12, REF[12:42], 60, 30),
        ("dup", 0x400, 10, _alt(r, 10, "T"), 60, 30),                              # duplicate
        ("lowmq", 0, 10, _alt(r, 10, "T"), 5, 30),                                  # MAPQ 5
        ("supp", 0x800, 10, _alt(r, 10, "T"), 60, 30),                              # supplementary
        ("lowbq", 0, 10, _alt(r, 10, "T"), 60, 10),                                  # base quality 10
        ("single", 0x10, 11, REF[11:41], 60, 30),                                   # plain reference fragment
    ]
    path = _bam(tmp_path, reads)
    regions = pd.DataFrame({"chrom": ["chrT"], "start": [20], "end": [21], "gene": ["TOY"]})
    with pysam.AlignmentFile(str(path)) as bam:
        depth, alleles = pileup(bam, regions, fetch_ref=lambda c, s, e: REF[s:e],
                                options=PileupOptions(evidence_min_fragments=1))
        _, default = pileup(bam, regions, fetch_ref=lambda c, s, e: REF[s:e])
    assert default[["allele", "alt_fragments", "alt_fwd"]].values.tolist() == [["T", 1, 0]]  # too few for evidence
    row = depth.iloc[0]
    assert (row["pos"], row["ref"], row["depth"], row["discordant"]) == (21, "A", 2, 1)
    assert alleles[["allele", "alt_fragments", "alt_fwd", "alt_rev"]].values.tolist() == [["T", 1, 1, 1]]


def _filter_case(tmp_path, alt_strands, alt_offset, alt_q=30, n_alt=20):
    """80 reference fragments (both strands) and ``n_alt`` alt fragments over 0-based 100 (REF 'A'),
    40 bp single-end reads; the alt base at ``alt_offset`` within its read, read strands as given."""
    reads = [(f"r{i}", 0x10 * (i % 2), 80, REF[80:120], 60, 30) for i in range(80)]
    for i in range(n_alt):
        start = 100 - alt_offset
        reads.append((f"a{i}", 0x10 if alt_strands[i % len(alt_strands)] == "-" else 0, start,
                      _alt(REF[start:start + 40], alt_offset, "T"), 60, alt_q))
    tmp_path.mkdir()
    path = _bam(tmp_path, reads)
    regions = pd.DataFrame({"chrom": ["chrT"], "start": [100], "end": [101], "gene": ["TOY"]})
    with pysam.AlignmentFile(str(path)) as bam:
        depth, alleles = pileup(bam, regions, fetch_ref=lambda c, s, e: REF[s:e])
    return vc.score_alleles(depth, alleles, pd.DataFrame(columns=["chrom", "pos", "alleles"]), None).iloc[0]


def test_artefact_filters_strand_read_position_base_quality(tmp_path):
    good = _filter_case(tmp_path / "good", "+-", 20)
    assert good["filters"] == "PASS" and (good["ref_fwd"], good["ref_rev"], good["alt_fwd"]) == (40, 40, 10)
    one_strand = _filter_case(tmp_path / "strand", "+", 20)   # every alt read forward, reference balanced
    assert one_strand["filters"] == "strand_bias" and one_strand["sor"] > 3
    from scipy.stats import fisher_exact
    assert one_strand["fs"] == pytest.approx(-10 * np.log10(fisher_exact([[40, 40], [20, 0]])[1]))
    read_end = _filter_case(tmp_path / "end", "+-", 37)       # alt base 2 bases from the read end
    assert read_end["filters"] == "read_position" and read_end["alt_pos_median"] == 2
    start = _filter_case(tmp_path / "start", "+-", 3)         # ... or 3 bases from its start
    assert start["filters"] == "read_position"
    lowq = _filter_case(tmp_path / "bq", "+-", 20, alt_q=22)   # kept by --min-baseq 20, median 22 < 25
    assert lowq["filters"] == "base_quality"
    counts = vc.filter_counts(pd.DataFrame([good, one_strand, read_end, start, lowq]))
    assert counts == {"PASS": 1, "not_significant": 0, "low_alt": 0, "strand_bias": 1, "read_position": 2,
                      "base_quality": 1, "mismatch": 0}


def test_positions_without_reads_are_reported_with_depth_zero(tmp_path):
    path = _bam(tmp_path, [("x", 0, 0, REF[0:20], 60, 30)])
    regions = pd.DataFrame({"chrom": ["chrT"], "start": [15], "end": [30], "gene": ["TOY"]})
    with pysam.AlignmentFile(str(path)) as bam:
        depth, _ = pileup(bam, regions, fetch_ref=None)
    assert depth["pos"].tolist() == list(range(16, 31))
    assert depth["depth"].tolist() == [1] * 5 + [0] * 10


def test_tail_probabilities_match_scipy_and_limits_fall_with_depth():
    n = np.array([10, 200, 800])
    a, b = np.full(3, 5.0), np.full(3, 9995.0)
    tails = vc._tails(n, a, b, 8)
    ref = np.array([[betabinom.sf(k - 1, x, 5, 9995) for k in range(1, 9)] for x in n])
    ok = ref > 1e-6  # scipy's own sf is 1 - cdf and loses precision below this
    assert np.allclose(tails[ok], ref[ok], rtol=1e-4)
    ks = np.array([3, 8, 40])
    direct = [betabinom.pmf(np.arange(k, x + 1), x, 5, 9995).sum() for k, x in zip(ks, n)]  # no 1 - cdf
    assert np.allclose(vc.upper_tail(ks, n, a, b), direct, rtol=1e-6, atol=0)
    assert 0 < vc.upper_tail(np.array([60]), np.array([500]), np.array([5.0]), np.array([9995.0]))[0] < 1e-40
    depth = pd.DataFrame({"chrom": "chrT", "pos": [1, 2, 3, 4], "gene": "TOY", "depth": [2, 30, 200, 1000]})
    lim = vc.position_limits(depth, None, 4 * 15000, vc.CallOptions())
    assert lim["lod95"].is_monotonic_decreasing and not lim["assessable"].iloc[0] and lim["assessable"].iloc[-1]
    assert 0.005 < lim["lod95"].iloc[-1] < 0.02
    hot = vc.position_limits(depth, None, 5 * 13, vc.CallOptions())  # hotspot family: 13 positions
    assert (hot["lod95"].iloc[1:] < lim["lod95"].iloc[1:]).all()


def test_error_model_raises_the_bar_at_noisy_positions():
    depth = pd.DataFrame({"chrom": "chrT", "pos": [1, 2], "gene": "TOY", "ref": "A", "depth": [500, 500],
                          "reads": 600, "discordant": 0, "ref_fragments": 480})
    noisy = pd.DataFrame({"chrom": ["chrT"], "pos": [1], "gene": ["TOY"], "ref": ["A"], "allele": ["G"],
                          "alt_fragments": [15], "alt_fwd": [9], "alt_rev": [9], "ref_fwd": [240], "ref_rev": [245],
                          "alt_pos_median": [30.0], "alt_bq_median": [35.0], "alt_high_mismatch": [0]})
    model = vc.build_error_model([(depth, noisy), (depth, noisy)])
    assert model.set_index("pos").loc[1, "G"] == 30 and model.set_index("pos").loc[1, "samples"] == 2
    sample = pd.concat([noisy, noisy.assign(pos=2)], ignore_index=True)
    hot = pd.DataFrame(columns=["chrom", "pos", "alleles"])
    without = vc.score_alleles(depth, sample, hot, None)
    with_model = vc.score_alleles(depth, sample, hot, model)
    assert without["called"].all()                        # 15/500 is far above the default rate
    assert with_model["called"].tolist() == [False, True]  # ... but normal at position 1 in the normals


def test_vcf_is_valid_bgzipped_and_indexed(tmp_path):
    rec = pd.DataFrame([{"chrom": "chr17", "pos": 7674221, "vcf_ref": "G", "vcf_alt": "A", "gene": "TP53", "family": "hotspot",
                         "hgvs_c": "NM_000546.6:c.742C>T", "hgvs_p": "p.Arg248Trp", "consequence": "missense", "kb_ids": "KB010",
                         "p_value": 1e-80, "p_adjusted": 1e-10, "depth": 500, "ref_fragments": 478, "alt_fragments": 20,
                         "vaf": 0.04,
                         "alt_fwd": 12, "alt_rev": 11, "ref_fwd": 240, "ref_rev": 240, "alt_pos_median": 31.0,
                         "alt_bq_median": 37.0, "alt_high_mismatch": 0, "fs": 0.0, "sor": 0.7, "filters": "PASS"}])
    text = vcf_io.vcf_text(rec, sample="S1", contigs={"chr1": 248956422, "chr17": 83257441}, source_bam="S1.bam", options={"genome": "GRCh38"})
    path = tmp_path / "S1.variants.vcf.gz"
    vcf_io.write_vcf(text, path)
    assert path.exists() and Path(str(path) + ".tbi").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["S1.variants.vcf.gz", "S1.variants.vcf.gz.tbi"]
    with pysam.VariantFile(str(path)) as vf:
        assert vf.header.version == "VCFv4.3"
        r = next(vf.fetch("chr17", 7674220, 7674221))
        assert r.info["HGVSP"] == ("p.Arg248Trp",) and r.samples["S1"]["AD"] == (478, 20) and list(r.filter) == ["PASS"]
        assert r.samples["S1"]["DP"] == 498 and r.samples["S1"]["FDP"] == 500 and r.samples["S1"]["GT"] == (0, 1)
        assert r.samples["S1"]["PV"][0] == pytest.approx(1e-37, rel=1e-3)  # floored, not underflowed to 0


def test_multiallelic_site_is_one_record_whose_ad_sums_to_dp(tmp_path):
    base = {"chrom": "chr17", "pos": 7674221, "vcf_ref": "G", "gene": "TP53", "family": "target", "hgvs_c": "c.x",
            "hgvs_p": "p.Arg248=", "consequence": "synonymous", "kb_ids": "", "p_value": 1e-9, "p_adjusted": 1e-5,
            "depth": 99, "ref_fragments": 80, "ref_fwd": 40, "ref_rev": 40, "alt_pos_median": 30.0,
            "alt_bq_median": 37.0, "alt_high_mismatch": 0, "fs": 0.0, "sor": 0.7}
    rec = pd.DataFrame([dict(base, vcf_alt="A", alt_fragments=12, vaf=12 / 99, alt_fwd=6, alt_rev=6, filters="PASS"),
                        dict(base, vcf_alt="C", alt_fragments=5, vaf=5 / 99, alt_fwd=5, alt_rev=0,
                             filters="strand_bias", kb_ids="KB1,KB2")])
    path = tmp_path / "m.vcf.gz"
    vcf_io.write_vcf(vcf_io.vcf_text(rec, sample="S", contigs={"chr17": 83257441}, source_bam="b", options={}), path)
    with pysam.VariantFile(str(path)) as vf:
        [r] = list(vf)
    s = r.samples["S"]
    assert r.alts == ("A", "C") and s["AD"] == (80, 12, 5) and s["DP"] == sum(s["AD"]) == 97 and s["FDP"] == 99
    assert list(r.filter) == ["PASS"] and r.info["AFILT"] == ("PASS", "strand_bias") and s["GT"] == (0, 1, 2)
    assert r.info["KB"] == (".", "KB1|KB2") and r.info["HGVSP"][0] == "p.Arg248%3D"  # '=' percent-encoded


def test_build_targets_is_deterministic(tmp_path):
    src = ROOT.parent / "shared" / "reference-sources"
    if not src.exists():
        pytest.skip("reference sources not present beside the checkout")
    subprocess.run([sys.executable, ROOT / "reference/build/build_targets.py", src, tmp_path], check=True, capture_output=True)
    for rel in ("GRCh38/targets.tsv", "GRCh37/targets.tsv", "resistance_kb.tsv"):
        assert (tmp_path / rel).read_bytes() == (ROOT / "reference" / rel).read_bytes(), rel
    shipped = set((ROOT / "reference/MANIFEST.tsv").read_text().splitlines())
    assert set((tmp_path / "MANIFEST.tsv").read_text().splitlines()) - {"file\tsha256\tbytes"} <= shipped


def test_cli_errors_are_one_clear_message(tmp_path, capsys):
    p = run_proc("variants", "--prefix", tmp_path / "x")  # as a user sees it: exit code + one line, no traceback
    assert p.returncode == 2 and "give a BAM" in p.stderr and "Traceback" not in p.stderr
    assert run_cli("variants", "--build-error-model", tmp_path / "n.bam", "--prefix", tmp_path / "x") == 2
    assert "--fasta" in capsys.readouterr().err
    assert run_cli("variants", tmp_path / "missing.bam", "--prefix", tmp_path / "x") == 2
    assert "missing.bam: file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.error_model.tsv"
    bad.write_text("chrom\tpos\tdepth\n")
    assert run_cli("variants", tmp_path / "missing.bam", "--prefix", tmp_path / "x", "--error-model", bad) == 2
    assert "missing column" in capsys.readouterr().err
    assert not list(tmp_path.glob("x.*"))  # nothing half-written


def test_tumour_fraction_aware_assessability():
    """A hotspot is not_detected only when a clonal heterozygous mutation would likely have been seen
    at this depth and tumour fraction: VAF p / (2(1 - p) + 2p) = p / 2 at diploid copy number."""
    depth = pd.DataFrame({"chrom": "chrT", "pos": [10, 11], "gene": "TOY", "depth": [500, 500]})
    hot = pd.DataFrame({"kb_id": ["K1"], "gene": ["TOY"], "alteration": ["X1Y"], "chrom": ["chrT"], "pos": [10],
                        "alleles": [("T",)]})
    none = pd.DataFrame(columns=["chrom", "pos", "gene", "allele", "called"])
    assert vc.clonal_het_vaf(0.3) == pytest.approx(0.15) and vc.clonal_het_vaf(0.3, 4) == pytest.approx(0.3 / 2.6)
    rows = {}
    for tf in (0.3, 0.02, 0.0):
        vaf = vc.clonal_het_vaf(tf)
        lim = vc.position_limits(depth, None, 5 * 15000, vc.CallOptions(), vaf)  # the target family
        expect = binom.sf(lim["k_crit"].iloc[0] - 1, 500, vaf) if vaf else 0.0
        assert lim["p_detect"].iloc[0] == pytest.approx(expect)
        a = vc.assess(lim, none, hot, ["TOY"], tumour=(tf, vaf)).set_index("level")
        rows[tf] = a.loc["hotspot"]
    assert rows[0.3]["status"] == "not_detected" and "probability 1.00" in rows[0.3]["detail"]
    # 1% VAF at depth 500: a few alt fragments expected, below the critical count too often
    assert rows[0.02]["status"] == "not_assessable" and "tumour fraction 0.020" in rows[0.02]["detail"]
    assert rows[0.0]["status"] == "not_assessable"
    # without a tumour fraction the old rule holds: LoD95 <= 0.5 (a pure tumour's clonal het mutation)
    plain = vc.position_limits(depth, None, 10, vc.CallOptions())
    assert plain["assessable"].all() and plain["p_detect"].isna().all()
