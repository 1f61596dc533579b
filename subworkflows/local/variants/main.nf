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
    // each sample with its own cnv.json (joined on the meta map)
    ch_input = ch_samples.join(ch_cnv.map { meta, json, bins, _seg -> [meta, [json, bins]] })
    DNADX_VARIANTS(ch_input, ch_fasta, ch_error_model)

    emit:
    resistance = DNADX_VARIANTS.out.resistance // channel: [ val(meta), path(resistance.tsv) ]
    vcf        = DNADX_VARIANTS.out.vcf        // channel: [ val(meta), path(variants.vcf.gz) ] (with a FASTA)
}
