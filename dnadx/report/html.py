"""`report.html`: one self-contained page (figures inline as base64 PNG; no script, no network).

Every value from the results is HTML-escaped; a section whose stage did not run says
"not run" instead of disappearing, so a reader can tell "absent" from "not looked at".
"""

from __future__ import annotations

import base64
import html
import math

import pandas as pd

from dnadx.report import plots as report_plots
from dnadx.report.build import Report

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1a202c;background:#fff}
main{max-width:1150px;margin:0 auto;padding:0 24px 48px}
header{background:#2d3748;color:#fff;padding:18px 24px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;font-size:13px;color:#e2e8f0}
h2{border-bottom:2px solid #e2e8f0;padding-bottom:4px;margin-top:36px}
h3{margin-top:28px} h4{margin:18px 0 6px}
table{border-collapse:collapse;font-size:12px;margin:8px 0} th,td{border:1px solid #e2e8f0;padding:3px 7px;
text-align:left;vertical-align:top} th{background:#f7fafc} td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:11px;font-weight:600;color:#fff}
.pass{background:#2f855a}.warn{background:#d69e2e}.fail{background:#c53030}
.flag{background:#fff5f5;font-weight:600} .na{color:#718096;font-style:italic}
.note{background:#f7fafc;border-left:4px solid #a0aec0;padding:6px 10px;font-size:13px}
.caveat{background:#fffaf0;border-left:4px solid #d69e2e;padding:6px 10px;font-size:13px}
img{max-width:100%;height:auto;border:1px solid #edf2f7} nav a{margin-right:12px;font-size:13px}
section.sample{border-top:1px solid #cbd5e0;margin-top:28px} code{font-size:12px}
"""


def esc(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return html.escape(str(x))


def fmt(x, nd: int = 3) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        if math.isfinite(x) and x.is_integer() and abs(x) >= 1000:
            return f"{x:,.0f}"
        return "" if math.isnan(x) else f"{x:.{nd}g}" if abs(x) >= 1000 else f"{x:.{nd}f}"
    return esc(x)


def img(png: bytes | None, alt: str) -> str:
    if not png:
        return f'<p class="na">{esc(alt)}: no figure</p>'
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def badge(status) -> str:
    s = esc(status) or "unknown"
    return f'<span class="badge {s}">{s}</span>'


def not_run(what: str, how: str) -> str:
    return f'<p class="na">{esc(what)}: not run ({esc(how)}).</p>'


# Count columns shown without decimals (pandas makes them float when a cell is empty).
COUNT_COLUMNS = {"depth", "alt_fragments", "reads kept", "reads_kept", "n_genes", "n_genes_used", "missing_terms",
                 "cluster", "bins", "usable_bins", "bin_size", "bytes", "min_mapq", "exclude_flags", "fine_bin_size"}


def table(df: pd.DataFrame | None, *, nd: int = 3, row_class=None, raw: tuple = ()) -> str:
    """HTML table; cells escaped except columns in ``raw`` (already HTML)."""
    if df is None or df.empty:
        return '<p class="na">no rows</p>'
    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    body = []
    for rec in df.to_dict("records"):
        cls = f' class="{row_class(rec)}"' if row_class and row_class(rec) else ""
        cells = []
        for c, v in rec.items():
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            if c in COUNT_COLUMNS and isinstance(v, float) and v.is_integer():
                v = int(v)
            cells.append(f'<td{" class=num" if num else ""}>{v if c in raw else fmt(v, nd)}</td>')
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _interval(r) -> str:
    return f"{fmt(r['tumor_fraction'])} [{fmt(r['tumor_fraction_low'])}, {fmt(r['tumor_fraction_high'])}]"


def _ploidy(r) -> str:
    """The ploidy, and where another reading competes (summary.tsv's ``ploidy_ambiguous``) that reading beside it."""
    amb = r.get("ploidy_ambiguous")
    note = "" if not isinstance(amb, str) or amb in ("", "no") else f" <span class='na'>(ambiguous: {esc(amb)})</span>"
    return fmt(r.get("ploidy"), 2) + note


def overview(rep: Report) -> str:
    s = rep.summary
    calls = {x["meta"]["sample"]: x["erbb2"] for x in rep.samples}
    view = pd.DataFrame({
        "sample": s["sample"], "patient": s["patient"], "timepoint": s["timepoint"], "type": s["type"],
        "reads kept": s["reads_kept"], "tumour fraction [95% CI]": [_interval(r) for r in s.to_dict("records")],
        "ploidy": [_ploidy(r) for r in s.to_dict("records")],
        "ERBB2 call": [esc(calls[x]["call"]) for x in s["sample"]],
        "ERBB2 copy": s["erbb2_copy_number"], "amplicon score": s["erbb2_amplicon_score"],
        "HER2 DNA prob.": s["her2_dna_probability"], "group": s["group"], "resistance": s["resistance"],
        "QC": [badge(q) for q in s["qc_status"]], "QC reasons": s["qc_reasons"],
    })
    return ("<h2 id='overview'>Batch overview</h2>"
            + img(report_plots.tumour_fraction_overview(s), "tumour fraction with 95% intervals")
            + table(view, raw=("ERBB2 call", "QC", "ploidy"))
            + "<p class='note'>ERBB2 call: one rule for every output (<code>dnadx score</code>, "
              "<code>dnadx variants</code>, this report), from the ERBB2 log2 of <code>dnadx cnv</code> at the "
              "sample's tumour fraction. Samples with no tumour detected, tumour fraction below 0.05, or where an "
              "amplification would not be detectable, are <i>not_assessable</i>.</p>")


def longitudinal_section(rep: Report) -> str:
    out = ["<h2 id='longitudinal'>Longitudinal view</h2>"]
    if not rep.series:
        return out[0] + "<p class='na'>No patient has two or more plasma timepoints in this batch.</p>"
    out.append("<p class='note'>Changes are flagged only where tumour fraction allows the call: the timepoint "
               "without the event must have been able to detect it at the low end of its tumour-fraction interval. "
               "A low-tumour-fraction timepoint is <i>not_assessable</i>, never a switch.</p>")
    t = rep.transitions.copy()
    t["flagged"] = t["flagged"].map(lambda f: "FLAGGED" if f else "")
    for patient, states in rep.series.items():
        out.append(f"<h3>Patient {esc(patient)}</h3>")
        out.append(img(report_plots.patient_timeline(patient, states, rep.transitions), f"patient {patient}"))
        out.append(table(t[t["patient"] == patient].drop(columns="patient"),
                         row_class=lambda r: "flag" if r["flagged"] else None))
    return "".join(out)


def cohort_section(rep: Report) -> str:
    out = ["<h2 id='cohort'>Cohort: groups and clusters</h2>"]
    if rep.clusters is None:
        return out[0] + not_run("dnadx cluster", "no cohort.clusters.tsv in the results folder")
    out.append(img(rep.heatmap, "cohort heatmap") if rep.heatmap else
               "<p class='na'>cohort.heatmap.png: not present.</p>")
    out.append(table(rep.clusters))
    return "".join(out)


def sample_section(x: dict, rep: Report) -> str:
    m, q, e = x["meta"], x["qc"], x["erbb2"]
    sid = m["sample"]
    out = [f"<section class='sample' id='s-{esc(sid)}'><h3>{esc(sid)} {badge(q['status'])}</h3>",
           f"<p>patient {esc(m['patient'])}, timepoint {esc(m['timepoint']) or '-'}, {esc(m['type'])}</p>",
           "<h4>QC</h4>", table(pd.DataFrame(q["checks"]) if q["checks"] else None)]
    out.append("<h4>Copy number</h4>")
    if x.get("cnv") is None:
        out.append(not_run("dnadx cnv", "no <sample>.cnv.json"))
    else:
        out.append(img(x.get("cnv_png"), f"{sid} genome-wide copy number with chr17 zoom"))
        zoom = report_plots.erbb2_zoom(x["bins"], x["cnv"]) if x.get("bins") is not None else None
        out.append(img(zoom, f"{sid} ERBB2 locus") if zoom else "<p class='na'>ERBB2 zoom: no bins table.</p>")
    out.append(f"<p><b>ERBB2</b>: {esc(e['call'])} (source: {esc(e['call_source'])}; {esc(e['call_reason'])}); "
               f"tumour copy {fmt(e['erbb2_copy_number'], 2)}, amplicon score "
               f"{fmt(e['amplicon_score']) if x.get('score') else 'not run'}</p>")
    out.append("<h4>DNADX highlights</h4>")
    if x["highlights"] is None:
        out.append(not_run("dnadx score", "no <sample>.dnadx.tsv"))
    else:
        out.append(f"<p class='note'>Largest |{esc(x['highlights_column'])}| of the 536 DNADX segments.</p>"
                   + table(x["highlights"]))
    out.append("<h4>Model predictions</h4>")
    score = x.get("score")
    if score is None:
        out.append(not_run("dnadx score", "no <sample>.score.json"))
    else:
        status = score.get("predictions_status")
        if status and status != "ok":
            out.append(f"<p class='caveat'>{esc(status)}</p>")
        out.append(f"<p class='caveat'>{esc(rep.methods['model_caveat'])} Input: "
                   f"{esc(score.get('predictions_input'))}.</p>")
        out.append(table(x["predictions"], row_class=lambda r: "na" if r.get("exploratory") else None))
    out.append("<h4>Resistance</h4>")
    if x["resistance_table"] is None:
        out.append(not_run("dnadx variants", "no <sample>.resistance.tsv"))
    else:
        out.append("<p class='note'><i>not_assessable</i> rows say why in <i>detail</i>: at low-pass depth point "
                   "mutations cannot be read, and absence is never reported as wild type.</p>")
        out.append(table(x["resistance_table"], row_class=lambda r: "flag" if r.get("status") == "called" else None))
    return "".join(out) + "</section>"


def methods_section(rep: Report) -> str:
    m = rep.methods
    out = ["<h2 id='methods'>Methods</h2>",
           f"<p>Report written by dnadx {esc(m['version'])}; pipeline run with dnadx {esc(m['run_version']) or 'unknown'}"
           f" (genome {esc(m['genome']) or 'see below'}, analysis bin size {esc(m['bin_size']) or 'see below'}). "
           "Run start and end times are in <code>provenance.json</code> (the only output that carries "
           "timestamps, so reruns are byte-identical).</p>"]
    # the command line (with its output path) is in provenance.json: the report stays identical
    # whichever folder the same inputs were run into
    out.append("<p>Stages: " + ", ".join(f"{esc(k)}: {esc(v)}" for k, v in rep.stages.items()) + ".</p>")
    out.append("<p>Copy number: GC/mappability correction, optional panel of normals, PELT segmentation with a "
               "focal test, tumour fraction and ploidy over clonal copy states with a 95% profile-likelihood "
               "interval. Expected log2 for tumour copy c at tumour fraction p and ploidy &phi;: "
               "log2((2(1&minus;p) + p&middot;c) / (2(1&minus;p) + p&middot;&phi;)).</p>")
    out.append("<h4>Parameters per sample</h4>" + table(m["parameters"]))
    loo = m.get("pon_check")
    if loo is not None and len(loo):
        left = loo.loc[~loo["in_panel"].astype(bool), "normal"].tolist() if "in_panel" in loo else []
        loo = loo.astype(object).where(loo.notna(), "")  # empty cells (no flag, no altered segment) read as NaN
        flagged = loo.loc[loo["flag"] != "", "normal"].tolist()
        out.append("<h4 id='pon-check'>Panel of normals: leave-one-out self-check</h4><p>Each normal called against a "
                   "panel of the other normals (its own row above comes from that call); a normal the copy-state model "
                   "calls tumour is left out of the panel while more than three remain. "
                   + (f"<span class='caveat'>Tumour signal in {esc(', '.join(flagged))}"
                      + (f"; left out of the panel: {esc(', '.join(left))}" if left else "")
                      + ": check these are healthy plasma.</span>" if flagged else "No normal shows tumour signal.")
                   + "</p>" + table(loo))
    out.append("<h4>Reference bundle checksums</h4>")
    if m["manifest_changed"]:
        out.append("<p class='caveat'>The reference bundle differs from the one recorded at run time in: "
                   + esc(", ".join(m["manifest_changed"])) + ".</p>")
    man = m["manifest"]
    out.append("<details><summary>" + (f"{len(man)} files (sha256)" if man is not None else "unavailable")
               + "</summary>" + table(man) + "</details>")
    if rep.problems:
        out.append("<h4>Inputs left out</h4><ul>" + "".join(f"<li>{esc(p)}</li>" for p in rep.problems) + "</ul>")
    return "".join(out)


def render(rep: Report, *, title: str = "dnadx report") -> str:
    """The whole page as one string."""
    n = len(rep.summary)
    nav = "".join(f"<a href='#{a}'>{t}</a>" for a, t in (("overview", "Overview"), ("longitudinal", "Longitudinal"),
                                                          ("cohort", "Cohort"), ("samples", "Samples"),
                                                          ("methods", "Methods")))
    flagged = int(rep.transitions["flagged"].astype(bool).sum()) if len(rep.transitions) else 0
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             "<link rel='icon' href='data:,'>",
             f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
             f"<header><h1>{esc(title)}</h1><p>{n} samples; {flagged} flagged HER2/ERBB2 change(s); stages: "
             + ", ".join(f"{esc(k)} {esc(v)}" for k, v in rep.stages.items()) + "</p></header><main>",
             f"<nav>{nav}</nav>", overview(rep), longitudinal_section(rep), cohort_section(rep),
             "<h2 id='samples'>Samples</h2>", *(sample_section(x, rep) for x in rep.samples), methods_section(rep),
             "</main></body></html>\n"]
    return "".join(parts)
