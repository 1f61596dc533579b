process DNADX_REPORT {
    tag "${meta.id}"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/dnadx/dnadx:0.1.0'

    input:
    // every per-sample and batch output, staged flat into one results folder (names start with the sample id)
    tuple val(meta), path(results, stageAs: 'results/*'), path(samplesheet, stageAs: 'results/samplesheet.csv')

    output:
    tuple val(meta), path("results/summary.tsv"), emit: summary
    tuple val(meta), path("results/report.html"), emit: html
    path "results/multiqc/*_mqc.*", emit: multiqc, optional: true
    tuple val("${task.process}"), val('dnadx'), eval('dnadx --version | sed "s/^dnadx //"'), emit: versions_dnadx, topic: versions

    script:
    def args = task.ext.args ?: ''
    """
    dnadx report results ${args}
    """

    stub:
    """
    touch results/summary.tsv results/report.html
    """
}
