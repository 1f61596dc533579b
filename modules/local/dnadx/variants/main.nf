process DNADX_VARIANTS {
    tag "${meta.id}"
    label 'process_low'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/dnadx/dnadx:0.1.0'

    input:
    tuple val(meta), path(bam), path(index), path(cnv_files), path(previous_cnv_files)
    path fasta
    path error_model

    output:
    tuple val(meta), path("*.resistance.tsv"), emit: resistance
    tuple val(meta), path("*.variants.vcf.gz"), emit: vcf, optional: true
    tuple val("${task.process}"), val('dnadx'), eval('dnadx --version | sed "s/^dnadx //"'), emit: versions_dnadx, topic: versions

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    // without a FASTA only depth-based assessability and copy-number events are reported (DESIGN, Variants)
    def fasta_arg = fasta ? "--fasta ${fasta}" : ''
    def model_arg = error_model ? "--error-model ${error_model}" : ''
    // copy-number events (ERBB2 amplification/loss, 17p/TP53, ARID1B) come from this sample's cnv.json
    // cnv_files = [cnv.json, bins.tsv.gz] (the json names its bins file), or [] for none
    def cnv_arg = cnv_files ? "--cnv ${cnv_files[0]}" : ''
    // HER2 switching / ERBB2 loss: the patient's earlier timepoints, earliest first (each cnv.json with its
    // bins table staged beside it, so never a single file), [] for none -- as `dnadx run` passes them
    def previous = previous_cnv_files.findAll { f -> f.name.endsWith('.cnv.json') }
    def previous_arg = previous ? "--previous-cnv ${previous.join(' ')}" : ''
    """
    dnadx variants ${bam} --prefix ${prefix} ${cnv_arg} ${fasta_arg} ${model_arg} ${args} ${previous_arg}
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.resistance.tsv
    echo -n | gzip > ${prefix}.variants.vcf.gz
    """
}
