//
// COPY_NUMBER: fine-bin counts per BAM, a panel of normals from the type=normal samples
// (unless one is given), then copy number and tumour fraction per sample.
//
include { DNADX_COUNT } from '../../../modules/local/dnadx/count/main'
include { DNADX_PON   } from '../../../modules/local/dnadx/pon/main'
include { DNADX_CNV   } from '../../../modules/local/dnadx/cnv/main'

workflow COPY_NUMBER {
    take:
    ch_samples // channel: [ val(meta), path(bam), path(index) ]
    ch_fasta   // value channel: path(fasta) or [] (needed for CRAM only)
    pon        // value: a user-given PoN file, or null to build one from the type=normal samples
    genome     // value: 'GRCh38' | 'GRCh37'
    ch_gc_wig  // value channel: path(GC WIG) or [] (bin annotation from the reference bundle)
    ch_map_wig // value channel: path(mappability WIG) or []

    main:
    DNADX_COUNT(ch_samples, ch_fasta)

    ch_pon = channel.value([])
    if (pon) {
        ch_pon = channel.value(pon)
    } else {
        // normals -> one PoN; sorted by file name so the PoN does not depend on task completion order.
        // No normals: collect() emits nothing. Fewer than 3: as `dnadx run`, no PoN is built (dnadx pon
        // would refuse them) and the samples, normals included, get copy number without --pon.
        ch_normals = DNADX_COUNT.out.counts
            .filter { meta, _counts -> meta.type == 'normal' }
            .map { _meta, counts -> counts }
            .collect(sort: { a, b -> a.name <=> b.name })
            .branch { counts ->
                pon: buildsPon(counts)
                too_few: true
            }
        ch_normals.too_few.subscribe { counts ->
            log.warn("${counts.size()} normal sample(s): a panel of normals needs at least 3; copy number runs without one (as `dnadx run`)")
        }
        ch_normal_counts = ch_normals.pon.map { counts -> [[id: 'pon'], counts] }
        DNADX_PON(ch_normal_counts, genome)
        // the panel with its normals matrix: each normal of the panel is called against the others only
        ch_pon = DNADX_PON.out.pon
            .map { _meta, pon_file, normals_matrix -> [pon_file, normals_matrix] }
            .ifEmpty([])
            .first()
    }

    DNADX_CNV(DNADX_COUNT.out.counts, ch_pon, genome, ch_gc_wig, ch_map_wig)

    emit:
    counts   = DNADX_COUNT.out.counts // channel: [ val(meta), path(counts.tsv.gz) ]
    count_qc = DNADX_COUNT.out.qc     // channel: [ val(meta), path(count-qc.json) ]
    pon      = ch_pon                 // value channel: path(pon), [path(pon), path(pon-normals)] or []
    cnv      = DNADX_CNV.out.cnv      // channel: [ val(meta), path(cnv.json), path(bins.tsv.gz), path(seg) ]
    png      = DNADX_CNV.out.png      // channel: [ val(meta), path(cnv.png) ]
}

// Whether the normals' counts make a panel of normals: `dnadx pon` needs at least 3 (the same rule as
// `dnadx run`, dnadx/pipeline.py MIN_PON_NORMALS; tests/nextflow checks they agree).
def buildsPon(normal_counts) {
    return normal_counts.size() >= 3
}
