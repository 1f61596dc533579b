//
// CLUSTERING: one batch-level call over every sample's DNADX scores.
//
include { DNADX_CLUSTER } from '../../../modules/local/dnadx/cluster/main'

workflow CLUSTERING {
    take:
    ch_dnadx // channel: [ val(meta), path(dnadx.tsv) ]

    main:
    // sorted by file name so the batch (and its output) does not depend on task completion order
    ch_batch = ch_dnadx
        .map { _meta, tsv -> tsv }
        .collect(sort: { a, b -> a.name <=> b.name })
        .map { tsvs -> [[id: 'cohort'], tsvs] }
    DNADX_CLUSTER(ch_batch)

    emit:
    clusters = DNADX_CLUSTER.out.clusters // channel: [ val(meta), path(cohort.clusters.tsv) ]
    heatmap  = DNADX_CLUSTER.out.heatmap  // channel: [ val(meta), path(cohort.heatmap.png) ] (optional)
}
