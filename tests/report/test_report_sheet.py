"""`dnadx report --samplesheet` reads sheets with the same parser as `dnadx run` (issue 19): an Excel-saved
(BOM + CRLF) or tab-separated sheet gives the same report as a plain CSV, a UTF-16 sheet the same error, and
bam/index columns are neither required nor opened."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dnadx.core.errors import InputError
from dnadx.report.io import read_sheet
from tests.helpers import run_proc

DATA = Path(__file__).resolve().parents[1] / "data" / "report"
# patient and timepoint differ from the defaults (sample id, empty): a reader that lost them would show
PLAIN = "sample,patient,timepoint,type\nP1_T1,PA,1,plasma\nP1_T2,PA,2,plasma\n"
EXPECTED = [{"sample": "P1_T1", "patient": "PA", "timepoint": "1", "type": "plasma"},
            {"sample": "P1_T2", "patient": "PA", "timepoint": "2", "type": "plasma"}]
VARIANTS = {
    "excel.csv": ("\ufeff" + PLAIN.replace("\n", "\r\n")).encode(),   # Excel "CSV UTF-8"
    "sheet.tsv": PLAIN.replace(",", "\t").encode(),
    "tab-saved.txt": PLAIN.replace(",", "\t").replace("\n", "\r\n").encode(),  # sniffed: no bam column needed
    "semicolon.csv": PLAIN.replace(",", ";").encode(),
    "quoted.csv": "\n".join(",".join(f'"{c}"' for c in ln.split(",")) for ln in PLAIN.splitlines()).encode(),
    # the run's own sheet: its bam/index columns are not required and never opened (these files do not exist)
    "run-sheet.csv": PLAIN.replace("type\n", "type,bam,index\n").replace("plasma\n", "plasma,gone.bam,gone.bai\n")
                          .encode(),
}


def _write(folder: Path, name: str, data: bytes) -> Path:
    (folder / name).write_bytes(data)
    return folder / name


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_sheet_variants_give_the_same_metadata(tmp_path, name):
    assert read_sheet(_write(tmp_path, "plain.csv", PLAIN.encode())) == EXPECTED
    assert read_sheet(_write(tmp_path, name, VARIANTS[name])) == EXPECTED


def test_problems_listed_with_rows(tmp_path):
    sheet = _write(tmp_path, "bad.csv", b"sample,patient\nS1,P,extra\n,P\n")
    with pytest.raises(InputError) as e:
        read_sheet(sheet)
    msg = str(e.value)
    assert msg.startswith(f"{sheet}: 2 problem(s): ") and "\n" not in msg
    assert "row 2: 3 comma-separated fields, the header has 2" in msg and "row 3: sample: empty" in msg


@pytest.fixture
def results(tmp_path) -> Path:
    d = tmp_path / "results"
    d.mkdir()
    for n in ("P1_T1.cnv.json", "P1_T1.score.json", "P1_T1.dnadx.tsv", "P1_T2.cnv.json"):
        shutil.copy(DATA / n, d / n)
    return d


def _report(results: Path, sheet: Path) -> dict[str, bytes]:
    r = run_proc("report", results, "--samplesheet", sheet)
    assert r.returncode == 0, r.stderr
    return {p.name: p.read_bytes() for p in [results / "summary.tsv", results / "report.html",
                                             *sorted((results / "multiqc").iterdir())]}


def test_report_on_excel_and_tsv_sheets_equals_plain_csv(results, tmp_path):
    plain = _report(results, _write(tmp_path, "plain.csv", PLAIN.encode()))
    summary = plain["summary.tsv"].decode().splitlines()
    assert [ln.split("\t")[:3] for ln in summary] == [["sample", "patient", "timepoint"], ["P1_T1", "PA", "1"],
                                                       ["P1_T2", "PA", "2"]]
    for name in ("excel.csv", "sheet.tsv"):
        assert _report(results, _write(tmp_path, name, VARIANTS[name])) == plain, name


def test_utf16_sheet_gets_the_same_error_as_dnadx_run(results, tmp_path):
    sheet = _write(tmp_path, "unicode.csv", PLAIN.replace("type\n", "type,bam\n").encode("utf-16"))
    rep = run_proc("report", results, "--samplesheet", sheet)
    run = run_proc("run", "--input", sheet, "--outdir", tmp_path / "out")
    assert rep.returncode == run.returncode == 2
    msg = rep.stderr.removeprefix("dnadx report: error: ")
    assert msg == run.stderr.removeprefix("dnadx run: error: ") and msg.count("\n") == 1
    assert msg.startswith(f"{sheet}: the samplesheet is UTF-16 text") and "CSV UTF-8" in msg
    assert "Traceback" not in rep.stderr and not (results / "summary.tsv").exists()
