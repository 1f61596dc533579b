process DNADX_COUNT {
    tag "${meta.id}"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/dnadx/dnadx:0.1.0'

    input:
    tuple val(meta), path(bam), path(index)
    path fasta

    output:
    tuple val(meta), path("*.counts.tsv.gz"), emit: counts
    tuple val(meta), path("*.count-qc.json"), emit: qc
    tuple val("${task.process}"), val('dnadx'), eval('dnadx --version | sed "s/^dnadx //"'), emit: versions_dnadx, topic: versions

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def fasta_arg = fasta ? "--fasta ${fasta}" : ''
    """
    dnadx count ${bam} --prefix ${prefix} --threads ${task.cpus} ${fasta_arg} ${args}
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    echo -n | gzip > ${prefix}.counts.tsv.gz
    echo '{}' > ${prefix}.count-qc.json
    """
}
