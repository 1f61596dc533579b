process DNADX_CNV {
    tag "${meta.id}"
    label 'process_low'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/dnadx/dnadx:0.1.0'

    input:
    tuple val(meta), path(counts)
    path pon    // [] , a PoN file, or [PoN, its normals matrix] (a normal of that panel is called with --leave-out)
    val genome
    path gc_wig  // ichorCNA-style GC WIG, or [] for the bundle's annotation
    path map_wig // ichorCNA-style mappability WIG, or []

    output:
    tuple val(meta), path("*.cnv.json"), path("*.bins.tsv.gz"), path("*.seg"), emit: cnv
    tuple val(meta), path("*.cnv.png"), emit: png
    tuple val("${task.process}"), val('dnadx'), eval('dnadx --version | sed "s/^dnadx //"'), emit: versions_dnadx, topic: versions

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    // one staged file, or several (a blank-separated list, not a Collection): compare by name
    def pon_names = pon ? pon.toString().tokenize(' ') : []
    def panel = pon_names.find { n -> n.endsWith('.pon.tsv.gz') } ?: (pon_names ? pon_names[0] : null)
    def loo = meta.type == 'normal' && pon_names.any { n -> n.endsWith('.pon-normals.tsv.gz') }
    def pon_arg = panel ? "--pon ${panel}" + (loo ? " --leave-out ${meta.id}" : '') : ''
    def wig_args = gc_wig ? "--gc-wig ${gc_wig} --map-wig ${map_wig}" : ''
    """
    dnadx cnv ${counts} --prefix ${prefix} --genome ${genome} ${pon_arg} ${wig_args} ${args}
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    echo '{}' > ${prefix}.cnv.json
    echo -n | gzip > ${prefix}.bins.tsv.gz
    touch ${prefix}.seg ${prefix}.cnv.png
    """
}
