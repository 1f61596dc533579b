process DNADX_SIMULATE {
    tag "${meta.id}"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/dnadx/dnadx:0.1.0'

    input:
    // meta carries the truth spec of one sample: profile, tumor_fraction, seed, sex
    tuple val(meta), val(fragments)

    output:
    tuple val(meta), path("*.bam"), path("*.bam.bai"), emit: bam
    tuple val(meta), path("*.truth.json"), emit: truth
    tuple val("${task.process}"), val('dnadx'), eval('dnadx --version | sed "s/^dnadx //"'), emit: versions_dnadx, topic: versions

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    dnadx simulate --prefix ${prefix} --profile ${meta.profile} --tumor-fraction ${meta.tumor_fraction} \\
        --seed ${meta.seed} --sex ${meta.sex} --fragments ${fragments} ${args}
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.bam ${prefix}.bam.bai
    echo '{}' > ${prefix}.truth.json
    """
}
