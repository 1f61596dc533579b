process DNADX_PON {
    tag "${meta.id}"
    label 'process_low'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/dnadx/dnadx:0.1.0'

    input:
    tuple val(meta), path(counts)
    val genome

    output:
    tuple val(meta), path("*.pon.tsv.gz"), path("*.pon-normals.tsv.gz"), emit: pon
    tuple val(meta), path("*.pon.json"), path("*.pon-loo.tsv"), emit: qc
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
    echo -n | gzip > ${prefix}.pon.tsv.gz
    echo -n | gzip > ${prefix}.pon-normals.tsv.gz
    echo '{}' > ${prefix}.pon.json
    touch ${prefix}.pon-loo.tsv
    """
}
