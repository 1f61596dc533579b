"""Samplesheets as people write them (Excel CSV UTF-8 with BOM and CRLF, TSV, semicolons, quotes, trailing
empty lines and columns), and one clear error for what dnadx cannot read (UTF-16, non-UTF-8, workbooks)."""

from __future__ import annotations

import pytest

from dnadx.core.errors import InputError
from dnadx.core.samplesheet import check_builds, read_samplesheet

PLAIN = "sample,bam,patient,timepoint,type\nS1,s1.bam,P1,1,plasma\nS2,s2.bam,P1,2,normal\n"


@pytest.fixture
def folder(tmp_path):
    for s in ("s1", "s2", "a b,c"):
        (tmp_path / f"{s}.bam").write_bytes(b"")
        (tmp_path / f"{s}.bam.bai").write_bytes(b"")
    return tmp_path


def _read(folder, name, data: bytes):
    (folder / name).write_bytes(data)
    return read_samplesheet(folder / name)


def _expected(folder):
    return _read(folder, "plain.csv", PLAIN.encode())


@pytest.mark.parametrize("name, data", [
    ("bom.csv", ("\ufeff" + PLAIN).encode()),
    ("crlf.csv", PLAIN.replace("\n", "\r\n").encode()),
    ("excel.csv", ("\ufeff" + PLAIN.replace("\n", "\r\n")).encode()),
    ("blank-lines.csv", (PLAIN + "\n\r\n").encode()),
    ("trailing-column.csv", PLAIN.replace("\n", ",\n").encode()),
    ("excel-empty-rows.csv", (PLAIN.replace("\n", ",,\n") + ",,,,,,\n").encode()),
    ("quoted.csv", "\n".join(",".join(f'"{c}"' for c in line.split(",")) for line in PLAIN.splitlines()).encode()),
    ("sheet.tsv", PLAIN.replace(",", "\t").encode()),
    ("tab-saved.txt", PLAIN.replace(",", "\t").replace("\n", "\r\n").encode()),  # Excel "Text (Tab delimited)"
    ("tab-named.csv", PLAIN.replace(",", "\t").encode()),                      # sniffed from the header
    ("semicolon.csv", PLAIN.replace(",", ";").encode()),                        # Excel with a decimal comma
    ("spaces.csv", PLAIN.replace(",", " , ").encode()),
    ("no-final-newline.csv", PLAIN.rstrip("\n").encode()),
])
def test_accepted_variants_read_the_same(folder, name, data):
    assert _read(folder, name, data) == _expected(folder)


def test_quoted_delimiter_inside_a_path(folder):
    got = _read(folder, "q.csv", b'sample,bam\nS1,"a b,c.bam"\n')
    assert got[0].bam == (folder / "a b,c.bam").resolve()


def test_row_numbers_are_file_lines(folder):
    with pytest.raises(InputError) as e:
        _read(folder, "gap.csv", b"sample,bam,type\n\nS1,s1.bam,tumour\n")
    assert "row 3: type: 'tumour'" in str(e.value)
    samples = _read(folder, "gap2.csv", b"sample,bam\n\nS1,s1.bam\n\nS2,s2.bam\n")
    with pytest.raises(InputError, match=r"sample S2 \(row 5\) is GRCh37"):
        check_builds("gap2.csv", samples, {"S1": "GRCh38", "S2": "GRCh37"}, "GRCh38")


@pytest.mark.parametrize("name, data, needles", [
    ("utf16.csv", PLAIN.encode("utf-16"), ["UTF-16 text", "CSV UTF-8"]),
    ("utf16be.csv", b"\xfe\xff" + PLAIN.encode("utf-16-be"), ["UTF-16 text", "CSV UTF-8"]),
    ("utf16-nobom.csv", PLAIN.encode("utf-16-le"), ["UTF-16 text without a byte-order mark", "CSV UTF-8"]),
    ("utf32.csv", PLAIN.encode("utf-32"), ["UTF-32 text", "CSV UTF-8"]),
    ("sheet.xlsx", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, ["spreadsheet workbook", "CSV UTF-8"]),
    ("sheet.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, ["Excel 97-2003 workbook (.xls)", "CSV UTF-8"]),
    ("latin1.csv", "sample,bam,patient\nS1,s1.bam,Müller\n".encode("cp1252"),
     ["line 2: byte 0xfc is not UTF-8", "Windows-1252", "CSV UTF-8"]),
    ("open-quote.csv", b'sample,bam\n"S1,s1.bam\n', ["quote opened and never closed"]),
    ("empty.csv", b"\n\r\n", ["empty samplesheet"]),
    ("wrong-header.csv", b"\xef\xbb\xbfname,file\nS1,s1.bam\n", ["missing column(s) sample, bam", "header read: name, file"]),
])
def test_unreadable_sheets_get_one_clear_error(folder, name, data, needles):
    with pytest.raises(InputError) as e:
        _read(folder, name, data)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(folder / name))
    for n in needles:
        assert n in msg, msg


def test_header_and_field_count_problems_listed_together(folder):
    with pytest.raises(InputError) as e:
        _read(folder, "bad.csv", b"sample,bam,,type,type\nS1,s1.bam,,plasma,plasma,extra\n")
    msg = str(e.value)
    for n in ("header: column 3 has no name", "header: column 'type' appears more than once",
              "row 2: 6 comma-separated fields, the header has 5"):
        assert n in msg, msg
