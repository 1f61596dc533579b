process DNADX_PON {
    tag "${meta.id}"
    label 'process_low'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/dnadx/dnadx:0.1.0'

    input:
    tuple val(meta), path(counts)
    val genome

    output:
    tuple val(meta), path("*.tsv.gz"), emit: pon
    tuple val("${task.process}"), val('dnadx'), eval('dnadx --version | sed "s/^dnadx //"'), emit: versions_dnadx, topic: versions

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    dnadx pon ${counts} --prefix ${prefix} --genome ${genome} ${args}
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    echo -n | gzip > ${prefix}.tsv.gz
    """
}
