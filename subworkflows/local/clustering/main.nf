//
// CLUSTERING: one batch-level call over every sample's DNADX scores.
//
include { DNADX_CLUSTER } from '../../../modules/local/dnadx/cluster/main'

workflow CLUSTERING {
    take:
    ch_dnadx // channel: [ val(meta), path(dnadx.tsv) ]
    ch_json  // channel: [ val(meta), path(score.json) ] (tumour fraction and ERBB2 call per sample)

    main:
    // sorted by file name so the batch (and its output) does not depend on task completion order
    ch_batch = ch_dnadx
        .map { _meta, tsv -> tsv }
        .collect(sort: { a, b -> a.name <=> b.name })
        .map { tsvs -> [[id: 'cohort'], tsvs] }
    ch_jsons = ch_json
        .map { _meta, json -> json }
        .collect(sort: { a, b -> a.name <=> b.name })
    DNADX_CLUSTER(ch_batch.combine(ch_jsons.map { jsons -> [jsons] }))

    emit:
    clusters = DNADX_CLUSTER.out.clusters // channel: [ val(meta), path(cohort.clusters.tsv) ]
    heatmap  = DNADX_CLUSTER.out.heatmap  // channel: [ val(meta), path(cohort.heatmap.png) ] (optional)
    evidence = DNADX_CLUSTER.out.json     // channel: [ val(meta), path(cohort.clusters.json) ]
}
