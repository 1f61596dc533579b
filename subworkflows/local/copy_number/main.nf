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
        // No normals: collect() emits nothing, DNADX_PON does not run and samples get no --pon.
        ch_normal_counts = DNADX_COUNT.out.counts
            .filter { meta, _counts -> meta.type == 'normal' }
            .map { _meta, counts -> counts }
            .collect(sort: { a, b -> a.name <=> b.name })
            .map { counts -> [[id: 'pon'], counts] }
        DNADX_PON(ch_normal_counts, genome)
        ch_pon = DNADX_PON.out.pon
            .map { _meta, pon_file -> pon_file }
            .ifEmpty([])
            .first()
    }

    DNADX_CNV(DNADX_COUNT.out.counts, ch_pon, genome, ch_gc_wig, ch_map_wig)

    emit:
    counts   = DNADX_COUNT.out.counts // channel: [ val(meta), path(counts.tsv.gz) ]
    count_qc = DNADX_COUNT.out.qc     // channel: [ val(meta), path(count-qc.json) ]
    pon      = ch_pon                 // value channel: path(pon) or []
    cnv      = DNADX_CNV.out.cnv      // channel: [ val(meta), path(cnv.json), path(bins.tsv.gz), path(seg) ]
    png      = DNADX_CNV.out.png      // channel: [ val(meta), path(cnv.png) ]
}
