"""`dnadx simulate`: synthetic plasma lpWGS BAM with a known truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dnadx.variants import hgvs, vcf as vcf_io
from dnadx.core import io, params, reference
from dnadx.sim import variants as sim_variants
from dnadx.sim.bam_write import write_bam, write_fasta
from dnadx.cli.common import add_genome, add_prefix, fraction, info, nonneg_int, positive_int
from dnadx.core.errors import InputError
from dnadx.sim.profiles import PROFILES, get_profile, resolve_events
from dnadx.sim.artefacts import GC_SHAPES, Artefacts, effects_from_ichor
from dnadx.sim.plasma import SimSpec, gc_sequence, simulate


def register(sub) -> None:
    p = sub.add_parser(
        "simulate", help="simulate a plasma lpWGS BAM with known copy number and tumour fraction",
        description="Draw fragments from a tumour/normal copy-number mixture over the real per-bin GC and "
                    "mappability of the chosen build (full-length contigs), with a per-sample GC bias, "
                    "shorter tumour fragments, PCR duplicates and MAPQ-0 reads. Writes PREFIX.bam(.bai) "
                    "and PREFIX.truth.json (every simulated quantity); with --fasta also PREFIX.fa whose "
                    "per-bin GC follows the bundle and whose reads carry sequence and the requested variants.")
    add_prefix(p)
    p.add_argument("--profile", default="flat",
                   help=f"tumour copy-number profile: one of {', '.join(PROFILES)}, or a JSON file with a list "
                        "of events ({\"arm\": \"17q\", \"copy\": 3}, {\"gene\": \"ERBB2\", \"copy\": 10, "
                        "\"width\": 1500000}, {\"chrom\":..,\"start\":..,\"end\":..,\"copy\":..}, "
                        "{\"autosomes\": true, \"copy\": 3}: a genome-doubled baseline; later events override earlier "
                        "ones) (default flat)")
    p.add_argument("--tumor-fraction", type=fraction, default=0.0, help="tumour fraction in [0, 1] (default 0: healthy)")
    p.add_argument("--fragments", type=positive_int, default=1_000_000, help="fragments to draw (default 1000000)")
    p.add_argument("--seed", type=nonneg_int, default=1, help="random seed; same seed, same BAM (default 1)")
    p.add_argument("--sex", choices=("female", "male"), default="female", help="sex of the donor (default female)")
    add_genome(p)
    p.add_argument("--duplicate-rate", type=fraction, default=0.03, help="fraction of fragments duplicated (default 0.03)")
    p.add_argument("--read-length", type=positive_int, default=100, help="read length in bp (default 100)")
    p.add_argument("--single-end", action="store_true", help="write single-end reads instead of pairs")
    p.add_argument("--chroms", help="comma-separated chromosomes to simulate (default all of chr1-22, X, Y)")
    p.add_argument("--chrom-naming", choices=("chr1", "1"), default="chr1", help="contig naming style in the BAM")
    p.add_argument("--fasta", action="store_true", help="also write PREFIX.fa for the simulated chromosomes "
                   "(use with --chroms: a whole genome is 3 GB)")
    p.add_argument("--variant", action="append", default=[], metavar="CHROM:POS:REF>ALT:VAF",
                   help="SNV to plant in tumour reads (1-based POS; needs --fasta); repeatable")
    p.add_argument("--target-depth", type=float, default=0.0,
                   help="extra read depth over the variant positions (+-500 bp), or over the coding targets "
                        "with --deep-targets (default 0)")
    p.add_argument("--deep-targets", action="store_true", help="also sequence the MANE coding regions of "
                   "ERBB2/TP53/ARID1B/TOP1 at --target-depth (a capture panel on top of the low-pass background)")
    p.add_argument("--real-codons", action="store_true", help="write the real reference codons of the "
                   "knowledge-base hotspots into PREFIX.fa (so HGVS names can be checked)")
    p.add_argument("--error-rate", type=fraction, default=0.0, help="per-base substitution error rate of the "
                   "reads (needs --fasta; default 0)")
    p.add_argument("--sample", help="read-group sample name (default: prefix file name)")
    g = p.add_argument_group("what real plasma has (validation beyond the model's own assumptions)")
    g.add_argument("--gc-shape", choices=("default",) + GC_SHAPES + ("mixed",), default="default",
                   help="GC response: 'default' (exp of a quadratic around GC 0.42, the basic model), symmetric, "
                        "skewed, plateau (steep high-GC drop), or mixed (one of the three drawn from the seed); "
                        "peak drawn in 0.38-0.50; 'default' with any other option of this group means mixed")
    g.add_argument("--overdispersion", type=fraction, default=None,
                   help="sd of a per-500 kb-bin log-normal count factor (default: none with --gc-shape default, "
                        "else drawn in 0.03-0.10)")
    g.add_argument("--empty-bins", type=fraction, default=0.0, help="share of covered 500 kb bins with no reads (default 0)")
    g.add_argument("--extreme-bins", type=fraction, default=0.0, help="share of covered 500 kb bins 3-8x high (default 0)")
    g.add_argument("--bin-effects", help="systematic per-bin log2 effects to add: an ichorCNA HD_ULP_PoN_*_median "
                   "table (chr, start, end, median) or a TSV chrom, start, end, log2 (0-based)")
    g.add_argument("--region-sd", type=fraction, default=0.0,
                   help="sd of a per-sample log2 offset of each 40 Mb region: arm-scale residuals of the sample's own, "
                        "not shared by a batch (default 0)")
    p.set_defaults(func=run)


def _events(profile: str) -> tuple[str, list[dict]]:
    path = Path(profile)
    if profile in PROFILES:
        return profile, get_profile(profile)
    if path.suffix == ".json" or path.exists():
        data = io.read_json(path)
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a JSON list of events")
        return path.stem, data
    return profile, get_profile(profile)


def _variant(text: str) -> dict:
    try:
        chrom, pos, change, vaf = text.split(":")
        ref, alt = change.split(">")
        v = {"chrom": reference.normalise_chrom(chrom), "pos": int(pos), "ref": ref.upper(), "alt": alt.upper(), "vaf": float(vaf)}
    except ValueError:
        raise InputError(f"--variant {text!r}: expected CHROM:POS:REF>ALT:VAF, e.g. chr17:39723967:T>C:0.05") from None
    indel = len(v["ref"]) != len(v["alt"]) and min(len(v["ref"]), len(v["alt"])) == 1 and v["ref"][0] == v["alt"][0]
    snv = len(v["ref"]) == 1 and len(v["alt"]) == 1 and v["ref"] != v["alt"]
    if not (0 < v["vaf"] <= 1) or not (snv or indel) or set(v["ref"] + v["alt"]) - set("ACGT"):
        raise InputError(f"--variant {text!r}: VAF must be in (0, 1] and REF/ALT single different bases, or a "
                         "VCF-style indel sharing its first base (C>CAT, CAT>C)")
    return v


def _artefacts(args) -> Artefacts | None:
    plain = args.gc_shape == "default" and args.overdispersion is None and not args.empty_bins \
        and not args.extreme_bins and not args.bin_effects and not args.region_sd
    if plain:
        return None
    effects = None
    if args.bin_effects:
        head = io.read_tsv(args.bin_effects, (), kind="bin effects")
        if {"chr", "median"} <= set(head.columns):
            effects = effects_from_ichor(head)
        elif {"chrom", "start", "end", "log2"} <= set(head.columns):
            effects = head.assign(chrom=head["chrom"].astype(str).map(reference.normalise_chrom))
        else:
            raise InputError(f"{args.bin_effects}: expected columns chr, start, end, median (ichorCNA) or "
                             "chrom, start, end, log2")
    return Artefacts(gc_shape="mixed" if args.gc_shape == "default" else args.gc_shape,
                     overdispersion=args.overdispersion, empty_bins=args.empty_bins, extreme_bins=args.extreme_bins,
                     bin_effects=effects, region_sd=args.region_sd)


def run(args) -> int:
    genome = args.genome
    sizes = reference.chrom_sizes(genome)
    chrom_lengths = dict(zip(sizes["chrom"], sizes["length"].astype(int)))
    chroms = tuple(reference.normalise_chrom(c) for c in args.chroms.split(",")) if args.chroms else None
    name, raw = _events(args.profile)
    events = resolve_events(raw, arms=reference.arms(genome), genes=reference.genes(genome))
    variants = tuple(_variant(v) for v in args.variant)
    if variants and not args.fasta:
        raise InputError("--variant needs --fasta (variants are carried in read sequences)")
    regions = tuple((v["chrom"], v["pos"] - 500, v["pos"] + 500) for v in variants)
    if args.deep_targets:  # the panel replaces the +-500 bp windows (no double depth at variants)
        regions = sim_variants.target_regions(vcf_io.read_targets(genome), chroms)
    spec = SimSpec(artefacts=_artefacts(args), events=tuple(events), profile=name, tumour_fraction=args.tumor_fraction, fragments=args.fragments,
                   seed=args.seed, sex=args.sex, genome=genome, duplicate_rate=args.duplicate_rate,
                   read_length=args.read_length, paired=not args.single_end, chroms=chroms, variants=variants,
                   target_regions=regions, target_depth=args.target_depth)
    bins = reference.fine_bins(genome)
    sim = simulate(spec, bins, events, chrom_lengths)
    sample = args.sample or Path(args.prefix).name
    sequences = None
    if args.fasta:
        rng = np.random.default_rng(args.seed + 7919)
        use = chroms or tuple(chrom_lengths)
        sequences = {}
        for c in use:
            sub = bins[bins["chrom"] == c]
            sequences[c] = gc_sequence(sub["gc"].to_numpy(), params.FINE_BIN_SIZE, chrom_lengths[c], rng)
        if args.real_codons:
            sim_variants.plant_codons(sequences, hgvs.transcripts(vcf_io.read_targets(genome)))
        for v in variants:
            sequences[v["chrom"]][v["pos"] - 1:v["pos"] - 1 + len(v["ref"])] = v["ref"].encode()
        write_fasta(sequences, f"{args.prefix}.fa", naming=args.chrom_naming)
    write_bam(sim.fragments, f"{args.prefix}.bam", chrom_lengths=chrom_lengths, read_length=args.read_length,
              paired=not args.single_end, naming=args.chrom_naming, sample=sample, sequences=sequences,
              variant_alt=sim.variant_alt, variants=variants,
              edit_read=sim_variants.read_editor(sequences, sim.fragments["chrom"].to_numpy(), variants, sim.variant_alt,
                                                 error_rate=args.error_rate, seed=args.seed) if sequences else None)
    truth = dict(sim.truth, sample=sample, chrom_naming=args.chrom_naming, bam=f"{Path(args.prefix).name}.bam",
                 fasta=f"{Path(args.prefix).name}.fa" if args.fasta else None)
    io.write_json(json.loads(json.dumps(truth, default=lambda o: o.item() if hasattr(o, "item") else str(o))),
                  f"{args.prefix}.truth.json")
    info(f"dnadx simulate: {truth['fragments_written']:,} fragments ({name}, tumour fraction "
         f"{args.tumor_fraction}) -> {args.prefix}.bam")
    return 0
