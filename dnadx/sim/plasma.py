"""Synthetic plasma lpWGS: fragments drawn from a tumour/normal copy-number mixture.

Model (per 10 kb reference bin b with sequence):
  DNA share     d_b = (1 - p) * n_b + p * c_b        (n_b normal copies, c_b tumour copies)
  fragments     ~ Multinomial(N, w),  w_b ∝ len_b * d_b * exp(a (gc_b - 0.42) + k (gc_b - 0.42)^2)
  tumour origin P = p * c_b / d_b; tumour fragments are shorter (~146 bp vs ~167 bp)
  MAPQ 0        with probability 1 - mappability_b (multi-mapping reads); else 60
  duplicates    a fraction of fragments gets a flagged PCR duplicate copy
Deterministic for a given spec and seed. Pure: returns tables, writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dnadx.core import params
from dnadx.core.errors import InputError
from dnadx.sim.artefacts import Artefacts, log_weights

GC_CENTRE = 0.42


@dataclass(frozen=True)
class SimSpec:
    events: tuple = ()
    profile: str = "flat"
    tumour_fraction: float = 0.0
    fragments: int = 1_000_000
    seed: int = 1
    sex: str = "female"
    genome: str = params.DEFAULT_GENOME
    duplicate_rate: float = 0.03
    read_length: int = 100
    paired: bool = True
    chroms: tuple | None = None
    gc_bias: tuple | None = None  # (a, k); drawn from the seed when None
    variants: tuple = ()  # dicts: chrom, pos (1-based), ref, alt, vaf
    target_regions: tuple = ()  # (chrom, start, end) BED regions sequenced deeper
    target_depth: float = 0.0
    artefacts: Artefacts | None = None  # GC shape family, over-dispersion, empty/extreme bins, real bin effects


@dataclass
class Simulation:
    fragments: pd.DataFrame  # chrom, start, length, tumour, mapq, duplicate, flip (sorted)
    truth: dict
    variant_alt: dict = field(default_factory=dict)  # variant index -> (fragment rows carrying alt, depth)


def _check(spec: SimSpec) -> None:
    if not 0 <= spec.tumour_fraction <= 1:
        raise InputError(f"--tumor-fraction {spec.tumour_fraction}: must be within [0, 1]")
    if spec.fragments < 1:
        raise InputError(f"--fragments {spec.fragments}: must be at least 1")
    if spec.sex not in ("female", "male"):
        raise InputError(f"--sex {spec.sex!r}: choose female or male")
    if not 0 <= spec.duplicate_rate < 1:
        raise InputError(f"--duplicate-rate {spec.duplicate_rate}: must be within [0, 1)")


def copy_numbers(bins: pd.DataFrame, events: list[dict], sex: str) -> tuple[np.ndarray, np.ndarray]:
    """Normal (n_b) and tumour (c_b) copy number per bin; events set c_b by bin midpoint."""
    chrom = bins["chrom"].to_numpy()
    normal = np.full(len(bins), 2, dtype=np.int64)
    if sex == "male":
        normal[(chrom == "chrX") | (chrom == "chrY")] = 1
    else:
        normal[chrom == "chrY"] = 0
    tumour = normal.copy()
    mid = (bins["start"].to_numpy() + bins["end"].to_numpy()) // 2
    for ev in events:
        sel = (chrom == ev["chrom"]) & (mid >= ev["start"]) & (mid < ev["end"])
        tumour[sel] = ev["copy"]
    return normal, tumour


def _lengths(rng, tumour: np.ndarray) -> np.ndarray:
    n = len(tumour)
    normal_len = rng.normal(167, 14, n)
    di = rng.random(n) < 0.04
    normal_len[di] = rng.normal(335, 30, di.sum())
    tumour_len = rng.normal(146, 18, n)
    return np.clip(np.where(tumour, tumour_len, normal_len), 60, 700).round().astype(np.int64)


def _weights(spec: SimSpec, bins: pd.DataFrame, events: list[dict], rng) -> dict:
    """Per fine bin: sampling weight and the copy-number quantities (shared by both simulators)."""
    a, k = spec.gc_bias if spec.gc_bias is not None else (rng.normal(0, 1.5), min(0.0, rng.normal(-8, 3)))
    if spec.chroms:
        unknown = set(spec.chroms) - set(bins["chrom"])
        if unknown:
            raise InputError(f"--chroms: unknown chromosome(s) {', '.join(sorted(unknown))}")
        bins = bins[bins["chrom"].isin(spec.chroms)].reset_index(drop=True)
    normal, tumour_cn = copy_numbers(bins, events, spec.sex)
    share = (1 - spec.tumour_fraction) * normal + spec.tumour_fraction * tumour_cn
    gc = np.nan_to_num(bins["gc"].to_numpy(dtype=float), nan=GC_CENTRE)
    has_seq = np.isfinite(bins["gc"].to_numpy(dtype=float))
    length = (bins["end"] - bins["start"]).to_numpy(dtype=float)
    art_truth = None
    if spec.artefacts is not None:
        logw, art_truth = log_weights(spec.artefacts, bins, spec.seed)
        bias = np.exp(logw)
    else:
        bias = np.exp(a * (gc - GC_CENTRE) + k * (gc - GC_CENTRE) ** 2)
    w = np.where(has_seq, length * share * bias, 0.0)
    if w.sum() <= 0:
        raise InputError("simulation has no sequence to draw from (all bins empty for the chosen chromosomes)")
    return {"bins": bins, "w": w, "normal": normal, "tumour_cn": tumour_cn, "share": share, "has_seq": has_seq,
            "length": length, "gc_bias": (a, k), "artefacts": art_truth}


def simulate(spec: SimSpec, bins: pd.DataFrame, events: list[dict], chrom_lengths: dict[str, int]) -> Simulation:
    """Draw fragments for ``spec`` over the annotated fine ``bins`` (chrom,start,end,gc,mappability)."""
    _check(spec)
    rng = np.random.default_rng(spec.seed)
    wt = _weights(spec, bins, events, rng)
    bins, w, normal, tumour_cn, share = wt["bins"], wt["w"], wt["normal"], wt["tumour_cn"], wt["share"]
    has_seq, length, p = wt["has_seq"], wt["length"], spec.tumour_fraction
    per_bin = rng.multinomial(spec.fragments, w / w.sum())
    idx = np.repeat(np.arange(len(bins)), per_bin)
    extra = _target_fragments(spec, bins, rng)
    idx = np.concatenate([idx, extra[0]])
    with np.errstate(invalid="ignore", divide="ignore"):
        p_tum = np.where(share > 0, p * tumour_cn / np.where(share > 0, share, 1), 0.0)
    is_tumour = rng.random(len(idx)) < p_tum[idx]
    flen = _lengths(rng, is_tumour)
    bstart = bins["start"].to_numpy()[idx]
    blen = length[idx].astype(np.int64)
    start = bstart + (rng.random(len(idx)) * blen).astype(np.int64)
    start[len(idx) - len(extra[1]):] = extra[1]
    chrom = bins["chrom"].to_numpy()[idx]
    clen = np.array([chrom_lengths[c] for c in chrom], dtype=np.int64) if len(idx) else np.zeros(0, np.int64)
    start = np.clip(np.minimum(start, clen - flen), 0, None)
    mapq = np.where(rng.random(len(idx)) < bins["mappability"].to_numpy()[idx], 60, 0)
    flip = rng.random(len(idx)) < 0.5
    frags = pd.DataFrame({"chrom": chrom, "start": start, "length": flen, "tumour": is_tumour,
                          "mapq": mapq, "duplicate": False, "flip": flip})
    dup = rng.random(len(frags)) < spec.duplicate_rate
    dups = frags[dup].assign(duplicate=True)
    frags = pd.concat([frags, dups], ignore_index=True)
    order = {c: i for i, c in enumerate(chrom_lengths)}
    frags = frags.assign(_c=frags["chrom"].map(order)).sort_values(["_c", "start", "duplicate"], kind="stable")
    frags = frags.drop(columns="_c").reset_index(drop=True)
    variant_alt = _assign_variants(spec, frags, rng)
    truth = _truth(spec, bins, events, normal, tumour_cn, has_seq, length, frags, wt["gc_bias"], variant_alt)
    truth["artefacts"] = wt["artefacts"]
    return Simulation(frags, truth, variant_alt)


def binned_counts(spec: SimSpec, bins: pd.DataFrame, events: list[dict]) -> tuple[pd.DataFrame, dict]:
    """Fine-bin counts after the MAPQ and duplicate filters drawn directly (no fragments): the same
    weights and filters as ``simulate`` + ``fragment_counts`` (duplicates are removed by the count, MAPQ-0
    reads are kept with probability 1 - mappability), for benchmarks that need thousands of samples.
    Returns (counts: chrom, start, end, count; truth: tumour fraction, ploidy, events, artefacts)."""
    _check(spec)
    rng = np.random.default_rng(spec.seed)
    wt = _weights(spec, bins, events, rng)
    b = wt["bins"]
    drawn = rng.multinomial(spec.fragments, wt["w"] / wt["w"].sum())
    kept = rng.binomial(drawn, np.clip(b["mappability"].to_numpy(float), 0, 1))
    auto = b["chrom"].isin(params.AUTOSOMES).to_numpy() & wt["has_seq"]
    ln = wt["length"]
    ploidy = float((wt["tumour_cn"][auto] * ln[auto]).sum() / ln[auto].sum()) if auto.any() else float("nan")
    truth = {"tumor_fraction": spec.tumour_fraction, "ploidy": ploidy, "profile": spec.profile, "seed": spec.seed,
             "sex": spec.sex, "events": events, "fragments_requested": spec.fragments, "artefacts": wt["artefacts"]}
    return b[["chrom", "start", "end"]].assign(count=kept.astype(np.int64)), truth


def _target_fragments(spec, bins, rng):
    """Extra fragments uniformly over target regions to reach ``target_depth`` (for variant tests)."""
    if not spec.target_regions or spec.target_depth <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    idxs, starts = [], []
    chrom_arr = bins["chrom"].to_numpy()
    for chrom, s, e in spec.target_regions:
        n = rng.poisson(spec.target_depth * (e - s) / (2 * spec.read_length))
        pos = rng.integers(max(0, s - 150), e, n)
        on = np.flatnonzero(chrom_arr == chrom)
        if not len(on):
            continue
        b = on[np.clip(np.searchsorted(bins["start"].to_numpy()[on], pos, side="right") - 1, 0, len(on) - 1)]
        idxs.append(b)
        starts.append(pos)
    if not idxs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(idxs), np.concatenate(starts)


def _assign_variants(spec, frags, rng) -> dict:
    out = {}
    for i, v in enumerate(spec.variants):
        pos0 = int(v["pos"]) - 1
        cover = np.flatnonzero((frags["chrom"].to_numpy() == v["chrom"]) & (frags["start"].to_numpy() <= pos0)
                               & (frags["start"].to_numpy() + frags["length"].to_numpy() > pos0))
        nondup = cover[~frags["duplicate"].to_numpy()[cover]]
        out[i] = (cover[rng.random(len(cover)) < float(v["vaf"])], len(nondup))
    return out


def _truth(spec, bins, events, normal, tumour_cn, has_seq, length, frags, gcb, variant_alt) -> dict:
    auto = bins["chrom"].isin(params.AUTOSOMES).to_numpy() & has_seq
    ploidy = float((tumour_cn[auto] * length[auto]).sum() / length[auto].sum()) if auto.any() else float("nan")
    nondup = ~frags["duplicate"].to_numpy()
    return {
        "genome": spec.genome, "sex": spec.sex, "seed": spec.seed, "profile": spec.profile,
        "tumor_fraction": spec.tumour_fraction, "ploidy": ploidy,
        "events": events,
        "fragments_requested": spec.fragments,
        "fragments_written": int(len(frags)),
        "duplicates": int((~nondup).sum()),
        "mapq0_fragments": int(((frags["mapq"] == 0) & nondup).sum()),
        "tumour_fragments": int((frags["tumour"] & nondup).sum()),
        "gc_bias": {"linear": float(gcb[0]), "quadratic": float(gcb[1]), "centre": GC_CENTRE},
        "read_length": spec.read_length, "paired": spec.paired,
        "chroms": list(spec.chroms) if spec.chroms else None,
        "fragment_length_model": {"normal_mean": 167, "tumour_mean": 146, "dinucleosome_share": 0.04},
        "variants": [dict(v, alt_fragments=int((~frags["duplicate"].to_numpy()[variant_alt[i][0]]).sum()),
                          depth_fragments=int(variant_alt[i][1])) for i, v in enumerate(spec.variants)],
    }


def gc_sequence(gc: np.ndarray, bin_size: int, length: int, rng) -> bytearray:
    """Random sequence whose GC fraction per bin follows ``gc`` (NaN bins become N)."""
    out = bytearray(b"N" * length)
    buf = np.frombuffer(out, dtype=np.uint8).copy()
    for i, g in enumerate(gc):
        s, e = i * bin_size, min((i + 1) * bin_size, length)
        if not np.isfinite(g) or s >= e:
            continue
        u = rng.random(e - s)
        is_gc = u < g
        strand = rng.random(e - s) < 0.5
        buf[s:e] = np.where(is_gc, np.where(strand, ord("G"), ord("C")), np.where(strand, ord("A"), ord("T")))
    return bytearray(buf.tobytes())


def fragment_counts(sim: Simulation, chrom_lengths: dict[str, int], *, bin_size: int = params.FINE_BIN_SIZE,
                    min_mapq: int = params.MIN_MAPQ) -> pd.DataFrame:
    """Counts `dnadx count` would give on the simulated BAM (read 1 position, MAPQ and duplicate filters),
    without writing it: for large replicate benchmarks. Tested equal to counting the BAM."""
    f = sim.fragments
    rl = np.minimum(f["length"].to_numpy(), sim.truth["read_length"])
    pos = np.where(f["flip"].to_numpy(), f["start"].to_numpy() + f["length"].to_numpy() - rl, f["start"].to_numpy())
    keep = (~f["duplicate"].to_numpy()) & (f["mapq"].to_numpy() >= min_mapq)
    frames = []
    chrom = f["chrom"].to_numpy()
    for c, length in chrom_lengths.items():
        n = -(-length // bin_size)
        sel = keep & (chrom == c)
        cnt = np.bincount(pos[sel] // bin_size, minlength=n)[:n]
        start = np.arange(n, dtype=np.int64) * bin_size
        frames.append(pd.DataFrame({"chrom": c, "start": start, "end": np.minimum(start + bin_size, length), "count": cnt}))
    return pd.concat(frames, ignore_index=True)
