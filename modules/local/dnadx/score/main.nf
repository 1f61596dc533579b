process DNADX_SCORE {
    tag "${meta.id}"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/dnadx/dnadx:0.1.0'

    input:
    // the cnv.json names its bins and seg files, so they are staged next to it
    tuple val(meta), path(cnv_json), path(bins), path(seg)

    output:
    tuple val(meta), path("*.dnadx.tsv"), emit: dnadx
    tuple val(meta), path("*.genes.tsv.gz"), emit: genes
    tuple val(meta), path("*.score.json"), emit: json
    tuple val("${task.process}"), val('dnadx'), eval('dnadx --version | sed "s/^dnadx //"'), emit: versions_dnadx, topic: versions

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    dnadx score ${cnv_json} --prefix ${prefix} ${args}
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.dnadx.tsv ${prefix}.score.json
    echo -n | gzip > ${prefix}.genes.tsv.gz
    """
}
