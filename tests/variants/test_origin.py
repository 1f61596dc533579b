"""Origin of each call (dnadx/variants/origin.py) and evidence matched by allele (dnadx/variants/evidence.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from dnadx.variants import evidence, origin, vcf as vcf_io
from dnadx.variants.origin import Tumour, classify

TUMOUR = Tumour(fraction=0.3, low=0.27, high=0.33, detected=True, copy_number=2)


@pytest.mark.parametrize("tumour", [TUMOUR, Tumour(), Tumour(0.05, 0.02, 0.08, True, 2), Tumour(0.0, 0.0, 0.02)])
def test_germline_het_at_half_is_germline_whatever_the_tumour_fraction(tumour):
    assert classify("TP53", 0.5, 400, tumour)[0] == "germline_likely"
    assert classify("TP53", 0.46, 60, tumour)[0] == "germline_likely"
    assert classify("ERBB2", 1.0, 80, tumour)[0] == "germline_likely"  # homozygous


def test_vaf_half_in_a_high_level_amplicon_can_be_somatic():
    # ERBB2 at 10 copies, tumour fraction 0.6: all-copies-mutant gives 6 / (0.8 + 6) = 0.88
    amp = Tumour(0.6, 0.55, 0.65, True, 10)
    assert classify("ERBB2", 0.5, 400, amp)[0] == "somatic"


def test_somatic_ch_and_unknown():
    assert classify("TP53", 0.12, 500, TUMOUR)[0] == "somatic"  # ~ clonal het at TF 0.3 (0.15)
    assert classify("TP53", 0.02, 2000, TUMOUR)[0] == "ch_possible"  # far below the tumour's clonal VAF
    assert classify("TP53", 0.02, 2000, Tumour(0.0, 0.0, 0.03))[0] == "ch_possible"
    assert classify("TP53", 0.02, 2000, TUMOUR, blood=(0, 900))[0] == "somatic"  # blood given, allele absent
    assert classify("TP53", 0.02, 2000, TUMOUR, blood=(9, 900)) == (
        "ch_possible", "also in matched blood (9/900 fragments): likely clonal haematopoiesis")
    assert classify("ERBB2", 0.02, 2000, TUMOUR)[0] == "somatic"  # ERBB2 is no CH gene
    assert classify("ERBB2", 0.05, 2000, Tumour())[0] == "unknown"  # no --cnv
    low = Tumour(0.18, 0.15, 0.2, True, 2)
    assert classify("ERBB2", 0.30, 2000, low)[0] == "unknown"  # above the 0.2 TF 0.2 gives, not germline-like


def test_known_polymorphism_and_batch_normals():
    assert classify("TP53", 0.12, 500, TUMOUR, polymorphism="rs1042522")[0] == "germline_likely"
    assert classify("TP53", 0.12, 500, TUMOUR, normals=(40, 300))[0] == "germline_likely"
    assert classify("TP53", 0.12, 500, TUMOUR, normals=(1, 3000))[0] == "somatic"  # background error


def test_p72r_from_the_shipped_table_is_germline_and_not_evidence():
    """TP53 c.215C>G p.Pro72Arg (rs1042522, GRCh38 chr17:7676154 G>C) at VAF 0.12: a plausible tumour
    VAF, but a listed polymorphism."""
    poly = vcf_io.read_polymorphisms("GRCh38")
    p72r = poly[poly["rsid"] == "rs1042522"].iloc[0]
    assert (p72r["chrom"], p72r["pos"], p72r["ref"], p72r["alt"]) == ("chr17", 7676154, "G", "C")
    assert vcf_io.read_polymorphisms("GRCh37").set_index("rsid").loc["rs1042522", "pos"] == 7579472
    rec = pd.DataFrame([{"chrom": "chr17", "pos": 7676154, "gene": "TP53", "allele": "C", "vcf_ref": "G", "vcf_alt": "C",
                         "vaf": 0.12, "depth": 500}])
    cnv = {"tumor_fraction": 0.3, "tumor_fraction_ci": [0.27, 0.33], "tumor_detected": True, "ploidy": 2.0}
    out = origin.annotate(rec, cnv=cnv, bins=None, model=None, polymorphisms=poly, blood=None)
    assert out["origin"].iloc[0] == "germline_likely" and "rs1042522" in out["origin_reason"].iloc[0]
    assert not evidence.is_evidence("missense", out["origin"].iloc[0])


def test_hotspots_match_by_allele_not_position():
    hot = evidence.hotspots(vcf_io.read_kb(), "GRCh38")
    assert evidence.matching_kb_ids(hot, "chr17", 7674221, "A") == ["KB010"]  # R248W c.742C>T
    assert evidence.matching_kb_ids(hot, "chr17", 7674221, "C") == []  # another base at R248W's position
    assert evidence.matching_kb_ids(hot, "chr17", 39724008, "C") == ["KB005"]  # D769H (ALT T,C)
    assert evidence.matching_kb_ids(hot, "chr17", 39724730, "+ATACGTGATGGC") == ["KB006"]  # Y772_A775dup
    assert evidence.pileup_alleles("CTA", "C") == ("-2",)
    assert not evidence.is_evidence("synonymous", "somatic") and evidence.is_evidence("missense", "unknown")
