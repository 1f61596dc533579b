process DNADX_CLUSTER {
    tag "${meta.id}"
    label 'process_low'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/dnadx/dnadx:0.1.0'

    input:
    // each sample's score.json is staged beside its dnadx.tsv: `dnadx cluster` reads tumour fraction
    // and ERBB2 call from it
    tuple val(meta), path(scores), path(score_jsons)

    output:
    tuple val(meta), path("*.clusters.tsv"), emit: clusters
    tuple val(meta), path("*.clusters.json"), emit: json
    tuple val(meta), path("*.heatmap.png"), emit: heatmap, optional: true
    tuple val("${task.process}"), val('dnadx'), eval('dnadx --version | sed "s/^dnadx //"'), emit: versions_dnadx, topic: versions

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    dnadx cluster ${scores} --prefix ${prefix} ${args}
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.clusters.tsv ${prefix}.clusters.json ${prefix}.heatmap.png
    """
}
