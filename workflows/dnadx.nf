/*
 * DNADX: plasma lpWGS batch -> copy number, tumour fraction, DNADX scores, groups,
 * resistance annotation, summary.tsv, report.html and a MultiQC report.
 * Every process is one `dnadx <stage>` call; all logic lives in the dnadx package.
 */
include { COPY_NUMBER  } from '../subworkflows/local/copy_number/main'
include { SCORES       } from '../subworkflows/local/scores/main'
include { CLUSTERING   } from '../subworkflows/local/clustering/main'
include { VARIANTS     } from '../subworkflows/local/variants/main'
include { DNADX_REPORT } from '../modules/local/dnadx/report/main'
include { MULTIQC      } from '../modules/local/multiqc/main'

workflow DNADX {
    take:
    ch_samples     // channel: [ val(meta), path(bam), path(index) ], meta = [id, patient, timepoint, type]
    fasta          // value: FASTA file or null
    pon            // value: PoN file or null (built from type=normal samples when null)
    error_model    // value: variant error model file or null
    genome         // value: 'GRCh38' | 'GRCh37'
    gc_wig         // value: ichorCNA-style GC WIG or null (bundle annotation)
    map_wig        // value: ichorCNA-style mappability WIG or null
    multiqc_config // value: MultiQC config file
    outdir         // value: results folder (software versions are stored under pipeline_info/)

    main:
    ch_fasta = channel.value(fasta ?: [])
    ch_error_model = channel.value(error_model ?: [])

    COPY_NUMBER(ch_samples, ch_fasta, pon, genome, channel.value(gc_wig ?: []), channel.value(map_wig ?: []))
    SCORES(COPY_NUMBER.out.cnv)
    CLUSTERING(SCORES.out.dnadx, SCORES.out.json)
    VARIANTS(ch_samples, COPY_NUMBER.out.cnv, ch_fasta, ch_error_model)

    // sample metadata for the report, one row per sample in id order
    ch_sheet = ch_samples
        .map { meta, _bam, _index -> "${meta.id},${meta.patient},${meta.timepoint},${meta.type}".toString() }
        .toSortedList()
        .map { rows -> (['sample,patient,timepoint,type'] + rows).join('\n') + '\n' }
        .collectFile(name: 'samplesheet.csv')

    // every per-sample and batch file the report reads, in one list
    ch_results = COPY_NUMBER.out.count_qc.map { _meta, qc -> [qc] }
        .mix(COPY_NUMBER.out.cnv.map { _meta, json, bins, seg -> [json, bins, seg] })
        .mix(COPY_NUMBER.out.png.map { _meta, png -> [png] })
        .mix(SCORES.out.dnadx.map { _meta, tsv -> [tsv] })
        .mix(SCORES.out.genes.map { _meta, tsv -> [tsv] })
        .mix(SCORES.out.json.map { _meta, json -> [json] })
        .mix(VARIANTS.out.resistance.map { _meta, tsv -> [tsv] })
        .mix(VARIANTS.out.vcf.map { _meta, vcf -> [vcf] })
        .mix(CLUSTERING.out.clusters.map { _meta, tsv -> [tsv] })
        .mix(CLUSTERING.out.heatmap.map { _meta, png -> [png] })
        .mix(CLUSTERING.out.evidence.map { _meta, json -> [json] })
        .flatten()
        .collect(sort: { a, b -> a.name <=> b.name })
    DNADX_REPORT(ch_results.combine(ch_sheet).map { row -> [[id: 'batch'], row[0..-2], row[-1]] })

    // software versions from the `versions` topic, as MultiQC's software-versions YAML
    ch_versions_yml = channel.topic('versions')
        .map { proc, tool, version -> "${proc.tokenize(':')[-1]}:\n  ${tool}: ${version}" }
        .unique()
        .collectFile(storeDir: "${outdir}/pipeline_info", name: 'dnadx_software_mqc_versions.yml', newLine: true, sort: true)

    ch_multiqc_files = DNADX_REPORT.out.multiqc.flatten().mix(ch_versions_yml)
    MULTIQC(ch_multiqc_files.collect(), multiqc_config)

    emit:
    summary        = DNADX_REPORT.out.summary // channel: [ val(meta), path(summary.tsv) ]
    html           = DNADX_REPORT.out.html    // channel: [ val(meta), path(report.html) ]
    multiqc_report = MULTIQC.out.report       // channel: path(multiqc_report.html)
}
