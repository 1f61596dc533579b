"""dnadx: liquid-biopsy low-pass WGS pipeline (copy number, tumour fraction, DNADX scores)."""

__version__ = "0.1.0"
