//
// SCORES: DNADX segment scores, ERBB2-amplicon score and HER2-related predictions per sample.
//
include { DNADX_SCORE } from '../../../modules/local/dnadx/score/main'

workflow SCORES {
    take:
    ch_cnv // channel: [ val(meta), path(cnv.json), path(bins.tsv.gz), path(seg) ]

    main:
    DNADX_SCORE(ch_cnv)

    emit:
    dnadx = DNADX_SCORE.out.dnadx // channel: [ val(meta), path(dnadx.tsv) ]
    genes = DNADX_SCORE.out.genes // channel: [ val(meta), path(genes.tsv.gz) ]
    json  = DNADX_SCORE.out.json  // channel: [ val(meta), path(score.json) ]
}
