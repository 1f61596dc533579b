//
// SIMULATE_BATCH: a tiny batch of simulated plasma and normal BAMs with known truth,
// so `-profile test` runs wherever Nextflow runs, with no test data to download.
//
include { DNADX_SIMULATE } from '../../../modules/local/dnadx/simulate/main'

workflow SIMULATE_BATCH {
    take:
    spec      // path: CSV with sample,patient,timepoint,type,profile,tumor_fraction,seed,sex
    fragments // value: fragments per simulated BAM

    main:
    ch_spec = channel.fromPath(spec)
        .splitCsv(header: true, strip: true)
        .map { row ->
            def meta = [id: row.sample, patient: row.patient ?: row.sample, timepoint: row.timepoint ?: '',
                        type: row.type ?: 'plasma', profile: row.profile, tumor_fraction: row.tumor_fraction,
                        seed: row.seed, sex: row.sex ?: 'female']
            [meta, fragments]
        }
    DNADX_SIMULATE(ch_spec)

    emit:
    // the samplesheet shape: [ meta, bam, index ], meta reduced to the samplesheet fields
    samples = DNADX_SIMULATE.out.bam.map { meta, bam, bai ->
        [meta.subMap(['id', 'patient', 'timepoint', 'type']), bam, bai]
    }
    truth   = DNADX_SIMULATE.out.truth // channel: [ val(meta), path(truth.json) ]
}
