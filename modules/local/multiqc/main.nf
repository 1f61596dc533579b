// Adapted from nf-core/modules multiqc (biocontainers image); kept local so the pipeline has no network-fetched modules.
process MULTIQC {
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container "${workflow.containerEngine in ['singularity', 'apptainer'] && !task.ext.singularity_pull_docker_container
        ? 'https://depot.galaxyproject.org/singularity/multiqc:1.25.1--pyhdfd78af_0'
        : 'quay.io/biocontainers/multiqc:1.25.1--pyhdfd78af_0'}"

    input:
    path multiqc_files, stageAs: '?/*'
    path multiqc_config

    output:
    path "*multiqc_report.html", emit: report
    path "*_data", emit: data
    path "*_plots", emit: plots, optional: true
    // not on the `versions` topic: MULTIQC consumes that topic, and a process that consumes a topic
    // must not send to it (the topic would never close and the run would hang)
    tuple val("${task.process}"), val('multiqc'), eval('multiqc --version | sed "s/.* //"'), emit: versions_multiqc

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ? "--filename ${task.ext.prefix}.html" : ''
    def config = multiqc_config ? "--config ${multiqc_config}" : ''
    """
    multiqc --force ${args} ${config} ${prefix} .
    """

    stub:
    """
    mkdir multiqc_data
    touch multiqc_report.html
    """
}
