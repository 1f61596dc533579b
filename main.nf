#!/usr/bin/env nextflow
/*
 * dnadx: liquid-biopsy low-pass WGS pipeline (copy number, tumour fraction, DNADX scores,
 * HER2-related predictions, groups and resistance annotation) for plasma BAM/CRAM batches.
 * Entry workflow only: initialisation -> DNADX -> completion. Params are read here and
 * passed on as inputs. Docs: docs/nextflow.md.
 */
include { DNADX                   } from './workflows/dnadx'
include { PIPELINE_INITIALISATION } from './subworkflows/local/utils_dnadx_pipeline/main'
include { PIPELINE_COMPLETION     } from './subworkflows/local/utils_dnadx_pipeline/main'

workflow {
    main:
    PIPELINE_INITIALISATION(
        params.input,
        params.simulate,
        params.simulate_spec,
        params.simulate_fragments,
        params.validate_params,
    )
    DNADX(
        PIPELINE_INITIALISATION.out.samples,
        params.fasta ? file(params.fasta, checkIfExists: true) : null,
        params.pon ? file(params.pon, checkIfExists: true) : null,
        params.error_model ? file(params.error_model, checkIfExists: true) : null,
        params.genome,
        params.gc_wig ? file(params.gc_wig, checkIfExists: true) : null,
        params.map_wig ? file(params.map_wig, checkIfExists: true) : null,
        file(params.multiqc_config ?: "${projectDir}/assets/multiqc_config.yml", checkIfExists: true),
        params.outdir,
    )
    PIPELINE_COMPLETION(params.outdir)
}
