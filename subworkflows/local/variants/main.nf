//
// VARIANTS: ERBB2/TP53/ARID1B calling (with a FASTA) and resistance annotation per sample.
//
include { DNADX_VARIANTS } from '../../../modules/local/dnadx/variants/main'

workflow VARIANTS {
    take:
    ch_samples     // channel: [ val(meta), path(bam), path(index) ]
    ch_cnv         // channel: [ val(meta), path(cnv.json), path(bins.tsv.gz), path(seg) ]
    ch_fasta       // value channel: path(fasta) or [] (depth-only assessability)
    ch_error_model // value channel: path(error model) or [] (built-in default)

    main:
    // each sample's earlier timepoints (same patient, timepoint order) for HER2 switching / ERBB2 loss,
    // as `dnadx run` passes them: [meta, [T1.cnv.json, T1.bins.tsv.gz, T2.cnv.json, ...]] ([] for none)
    ch_previous = ch_cnv
        .map { meta, json, bins, _seg -> [meta.patient ?: meta.id, [meta, json, bins]] }
        .groupTuple()
        .flatMap { _patient, rows -> earlierTimepoints(rows) }
    // each sample with its own cnv.json and its earlier timepoints' (joined on the meta map)
    ch_input = ch_samples
        .join(ch_cnv.map { meta, json, bins, _seg -> [meta, [json, bins]] })
        .join(ch_previous)
    DNADX_VARIANTS(ch_input, ch_fasta, ch_error_model)

    emit:
    resistance = DNADX_VARIANTS.out.resistance // channel: [ val(meta), path(resistance.tsv) ]
    vcf        = DNADX_VARIANTS.out.vcf        // channel: [ val(meta), path(variants.vcf.gz) ] (with a FASTA)
}

// One patient's samples ([meta, cnv.json, bins.tsv.gz] each) -> per sample [meta, the cnv.json and bins
// of its earlier plasma timepoints, earliest first] for `dnadx variants --previous-cnv`; normals get [].
// Timepoints are ordered as `dnadx run` and `dnadx report` order them (dnadx/report/longitudinal.py
// timepoint_key: numbers numerically, then labels in natural order "T2" < "T10", empty last; ties by
// sample id); tests/nextflow checks the two agree.
def earlierTimepoints(rows) {
    def key = { tp ->
        def text = tp == null ? '' : tp.toString().trim()
        if (!text) {
            return [[2, 0]]
        }
        if (text.isBigDecimal()) {
            return [[0, 0], [0, text.toBigDecimal()]]
        }
        def parts = (text =~ /\d+(?:\.\d+)?|\D+/).collect { p -> p ==~ /\d+(?:\.\d+)?/ ? [0, p.toBigDecimal()] : [1, p.toLowerCase()] }
        return [[1, 0]] + parts
    }
    def compareKeys = { a, b ->
        def k = (0..<Math.min(a.size(), b.size())).find { i -> a[i] != b[i] }
        if (k == null) {
            return a.size() <=> b.size()
        }
        return (a[k][0] <=> b[k][0]) ?: (a[k][1] <=> b[k][1])
    }
    def plasma = rows
        .findAll { row -> row[0].type != 'normal' }
        .sort(false) { x, y -> compareKeys.call(key.call(x[0].timepoint), key.call(y[0].timepoint)) ?: (x[0].id <=> y[0].id) }
    def earlier = plasma.withIndex().collect { row, i -> [row[0], plasma.take(i).collectMany { r -> [r[1], r[2]] }] }
    return earlier + rows.findAll { row -> row[0].type == 'normal' }.collect { row -> [row[0], []] }
}
