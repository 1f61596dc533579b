//
// Pipeline initialisation (parameter validation, samplesheet -> channel, or a simulated test
// batch) and completion for dnadx. Mirrors the nf-core template's utils_nfcore_<name>_pipeline.
//
include { validateParameters; paramsSummaryLog; samplesheetToList } from 'plugin/nf-schema'
include { SIMULATE_BATCH } from '../simulate_batch/main'

workflow PIPELINE_INITIALISATION {
    take:
    input              // value: samplesheet CSV path, or null with simulate = true
    simulate           // value: boolean, simulate a tiny batch instead of reading --input
    simulate_spec      // value: CSV describing the simulated batch
    simulate_fragments // value: fragments per simulated BAM
    validate_params    // value: boolean, validate params against nextflow_schema.json

    main:
    if (validate_params) {
        validateParameters()
    }
    log.info(paramsSummaryLog(workflow))

    ch_samples = channel.empty()
    if (input) {
        // nf-schema checks every row (ids, file existence, types) before any task starts
        ch_samples = channel.fromList(samplesheetToList(input, "${projectDir}/assets/schema_input.json"))
            .map { row -> sampleFromRow(row) }
    } else if (simulate) {
        SIMULATE_BATCH(simulate_spec, simulate_fragments)
        ch_samples = SIMULATE_BATCH.out.samples
    } else {
        error("No samples: give --input samplesheet.csv (or use -profile test, which simulates a batch)")
    }

    emit:
    samples = ch_samples // channel: [ val(meta), path(bam), path(index) ]
}

workflow PIPELINE_COMPLETION {
    take:
    outdir // value: results folder

    main:
    workflow.onComplete {
        if (workflow.success) {
            log.info("dnadx: done; results in ${outdir} (summary.tsv, report.html, multiqc/)")
        } else {
            log.error("dnadx: failed; see the error above and .nextflow.log, then resume with -resume")
        }
    }
}

// One samplesheet row [meta, bam, index] -> the pipeline's sample tuple.
// A missing index is looked for next to the BAM/CRAM (.bai / .crai), as samtools writes it.
def sampleFromRow(row) {
    def (meta, bam, index) = row
    def bai = index ?: file("${bam}.${bam.extension == 'cram' ? 'crai' : 'bai'}", checkIfExists: true)
    // absent optional fields arrive as null or []: normalise to plain strings (meta maps are join keys)
    def sample = [
        id: meta.id.toString(),
        patient: (meta.patient ?: meta.id).toString(),
        timepoint: meta.timepoint ? meta.timepoint.toString() : '',
        type: (meta.type ?: 'plasma').toString(),
    ]
    return [sample, bam, bai]
}
