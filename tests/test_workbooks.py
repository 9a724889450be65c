"""Workbooks too big to read are refused before openpyxl reads them (issue 21, item 1).

Each hostile workbook of :mod:`bombs` is refused by :func:`engine.loading.workbooks.check_workbook`
with a sentence saying which limit it passes, in English and Chinese, in a few megabytes; on the
batch path (:func:`engine.screening.rows.read_rows`, ``policykb batch``) the refusal comes before
openpyxl, which is shown by running it with the address space capped at 1 GiB (without the check
openpyxl runs out of memory there). Real workbooks — the project's template, filled in — pass.
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

import bombs
from conftest import REPO
from engine.errors import ProfileError
from engine.loading.workbooks import BATCH_LIMITS, PROFILE_LIMITS, WorkbookLimits, check_workbook
from engine.rendering.template import FIRST_ROW, columns, write_template
from engine.screening import rows as batch_rows

PYTHON = sys.executable
#: What a refusal may not show: a Python class name.
CLASS_NAMES = ("Error", "Exception", "BadZip", "KeyError", "zipfile", "openpyxl")

#: bomb -> (limits, a phrase of the English refusal, a phrase of the Chinese one)
REFUSALS = {
    ("wide_row", "batch"): ("has a row of more than 16,384 cells", "有一行超过 16,384 个单元格"),
    ("wide_row", "profile"): ("unpacks to 38.1 MiB", "解压后为 38.1 MiB"),
    ("many_rows", "batch"): ("has more than 1,048,576 rows", "超过 1,048,576 行"),
    ("many_rows", "profile"): ("unpacks to 33.6 MiB", "解压后为 33.6 MiB"),
    ("far_cell", "batch"): ("16,384 columns (to column XFD)", "16,384 列（到 XFD 列）"),
    ("far_cell", "profile"): ("reaches column XFD (16,384 columns)", "用到 XFD 列"),
    ("dimension", "batch"): ("spans 1,048,576 rows × 16,384 columns", "占 1,048,576 行 × 16,384 列"),
    ("dimension", "profile"): ("states it reaches row 1,048,576", "声明用到第 1,048,576 行"),
    ("zip", "batch"): ("unpacks to 600 MiB", "解压后为 600 MiB"),
    ("zip", "profile"): ("unpacks to 600 MiB", "解压后为 600 MiB"),
    ("zip_sheet", "batch"): ("unpacks to 600 MiB", "解压后为 600 MiB"),
    ("many_texts", "batch"): ("more than 20,000,000 shared texts", "共享文本超过 20,000,000 条"),
    ("lying_zip", "batch"): ("is damaged", "已损坏"),
    ("lying_zip", "profile"): ("is damaged", "已损坏"),
}
LIMITS = {"batch": BATCH_LIMITS, "profile": PROFILE_LIMITS}
#: What each preset says may be valid, and its advice.
MOST = {"batch": ("a batch workbook may", "split it into several files", "批量筛查的工作簿", "请拆分为几个文件"),
        "profile": ("a profile workbook may", "screen many on the Batch page", "企业信息工作簿", "批量筛查")}


def _refusal(source, limits, name="in.xlsx") -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        check_workbook(source, limits, name=name)
    error = caught.value
    for text in (error.text("en"), error.text("zh")):
        assert "\n" not in text and not any(word in text for word in CLASS_NAMES), text
    return error


@pytest.mark.parametrize("bomb,preset", sorted(REFUSALS))
def test_every_bomb_is_refused_saying_which_limit_in_english_and_chinese_in_little_memory(bomb, preset):
    data = bombs.BOMBS[bomb]()
    tracemalloc.start()
    try:
        error = _refusal(data, LIMITS[preset])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    english, chinese = REFUSALS[bomb, preset]
    assert error.file == "in.xlsx"
    assert english in error.message, error.message
    assert chinese in error.zh, error.zh
    if bomb != "lying_zip":
        may, advice, may_zh, advice_zh = MOST[preset]
        assert may in error.message and advice in error.message, error.message
        assert may_zh in error.zh and advice_zh in error.zh, error.zh
    assert peak < 50 << 20, f"the check held {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("build,english,chinese", [
    (bombs.not_a_zip, "not an .xlsx workbook: the file is not a zip archive", "不是 .xlsx 工作簿"),
    (bombs.old_xls, "old Excel 97–2003 (.xls) workbook", "旧版 Excel 97–2003（.xls）"),
    (bombs.zip_without_workbook, "the archive holds no workbook", "压缩包里没有工作簿"),
    (lambda: b"", "not a zip archive", "不是 zip 压缩包"),
])
def test_a_file_that_is_no_workbook_is_refused_in_words_not_class_names(build, english, chinese):
    error = _refusal(build(), BATCH_LIMITS)
    assert english in error.message and chinese in error.zh


def test_a_path_is_checked_and_named_like_bytes(tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bombs.wide_row_bomb())
    error = _refusal(path, BATCH_LIMITS, name=None)
    assert error.file == str(path) and "row of more than 16,384 cells" in error.message
    with pytest.raises(ProfileError) as caught:
        check_workbook(tmp_path / "missing.xlsx", BATCH_LIMITS)
    assert "cannot read the file" in caught.value.message


def test_the_presets_are_the_documented_figures():
    assert (BATCH_LIMITS.unpacked, BATCH_LIMITS.rows, BATCH_LIMITS.cells, BATCH_LIMITS.columns) == (
        512 << 20, 1_048_576, 20_000_000, 16_384)
    assert (PROFILE_LIMITS.unpacked, PROFILE_LIMITS.rows, PROFILE_LIMITS.cells, PROFILE_LIMITS.columns) == (
        16 << 20, 2_000, 100_000, 1_000)
    import engine.loading.workbooks as module
    for figure in ("16 MiB", "512 MiB", "2,000", "1,048,576", "100,000", "20,000,000", "1,000", "16,384"):
        assert figure in module.__doc__


# --------------------------------------------------------------------------- exact counts

def _sheet_of(rows: int, far: str, style: str) -> bytes:
    """``rows`` rows, each a cell in A and one in column ``far``, written in one of several
    styles (so that the fast and the slow counting both run, across 64 KiB chunk edges)."""
    body = []
    for n in range(1, rows + 1):
        pad = " " * (n % 97)   # rows of varying length: tags fall across chunk edges
        if style == "excel":
            body.append(f'<row r="{n}" spans="1:2"{pad}><c r="A{n}" t="n"><v>1</v></c>'
                        f'<c r="{far}{n}" s="1" t="n"><v>2</v></c></row>')
        elif style == "prefixed":
            body.append(f'<x:row r="{n}"{pad}><x:c r="A{n}"><x:v>1</x:v></x:c><x:c r="{far}{n}"><x:v>2</x:v></x:c>'
                        "</x:row>")
        elif style == "line breaks":
            body.append(f'<row\n r="{n}"{pad}>\n<c\tr="A{n}"/>\n<c\n\tr = "{far}{n}"/>\n</row>\n')
        elif style == "no r on the last":   # openpyxl puts a cell without r= just after the one before
            body.append(f'<row r="{n}"><c r="A{n}"/><c r="{far}{n}"/><c/></row>')
    text = "".join(body)
    if style == "prefixed":
        return (f'<x:sheetData xmlns:x="{bombs._MAIN}">{text}</x:sheetData>').encode()
    return f"<cols><col min='1' max='2'/></cols><sheetData>{text}</sheetData><rowBreaks count='0'/>".encode()


@pytest.mark.parametrize("style", ["excel", "prefixed", "line breaks", "no r on the last"])
def test_rows_columns_and_cells_are_counted_exactly_across_chunks(style):
    rows, far = 6000, "ZZ"                      # ZZ is column 702
    width = 702 + (style == "no r on the last")
    cells = rows * (2 + (style == "no r on the last"))
    data = bombs.workbook([(_sheet_of(rows, far, style), 1)])
    assert len(zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")) > 3 * 65536
    exact = WorkbookLimits(unpacked=1 << 30, rows=rows, cells=rows * width, columns=width)
    check_workbook(data, exact)
    for fewer, phrase in ((dict(rows=rows - 1), "5,999 rows"), (dict(columns=width - 1), f"at most {width - 1:,} columns"),
                          (dict(cells=rows * width - 1), "cells once read"), (dict(cells=cells - 1), "cells")):
        limits = dataclasses.replace(exact, **fewer)
        assert phrase in _refusal(data, limits).message


def test_a_tag_far_longer_than_a_chunk_is_read_without_holding_it():
    long_text = [(b'<sheetData><row r="1"><c r="B1" t="inlineStr"><is><t>', 1), (b"x" * 1024, 4096),
                 (b"</t></is></c><c r=\"C1\" ", 1), (b" " * 1024, 300), (b"/></row></sheetData>", 1)]
    data = bombs.workbook(long_text)
    check_workbook(data, BATCH_LIMITS)
    error = _refusal(data, WorkbookLimits(unpacked=1 << 30, rows=10, cells=100, columns=2))
    assert "reaches column C (3 columns)" in error.message


# --------------------------------------------------------------------------- real workbooks pass

def _filled_template(kb, path: Path, rows: int) -> Path:
    write_template(kb, path)
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    ids = columns(kb)
    for n in range(rows):
        sheet.cell(row=FIRST_ROW + n, column=ids.index("id") + 1, value=f"E{n:05d}")
        sheet.cell(row=FIRST_ROW + n, column=ids.index("name") + 1, value=f"企业{n}")
        sheet.cell(row=FIRST_ROW + n, column=len(ids), value="")   # the row reaches the last column
    book.save(path)
    return path


def test_the_template_filled_with_thousands_of_enterprises_passes_and_reads(kb, tmp_path):
    path = _filled_template(kb, tmp_path / "filled.xlsx", 3000)
    check_workbook(path, BATCH_LIMITS)
    read = list(batch_rows.read_rows(path, kb))
    assert len(read) == 3000 and read[0].cells["name"] == "企业0" and read[-1].cells["id"] == "E02999"
    # a profile sheet may not hold thousands of rows
    assert "rows in a sheet" in _refusal(path, PROFILE_LIMITS).message


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_blank_template_and_one_enterprise_pass_as_a_profile(kb, tmp_path, lang):
    path = write_template(kb, tmp_path / f"template-{lang}.xlsx", lang=lang)
    check_workbook(path, PROFILE_LIMITS)
    check_workbook(path.read_bytes(), BATCH_LIMITS)
    check_workbook(_filled_template(kb, tmp_path / "one.xlsx", 1), PROFILE_LIMITS)


def test_a_workbook_openpyxl_cannot_read_says_so_without_a_class_name(kb, tmp_path):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "not xml at all")
    with pytest.raises(ProfileError) as caught:
        batch_rows.read_rows(path, kb)
    assert caught.value.message.startswith("not a readable .xlsx workbook") and caught.value.zh
    assert not any(word in text for word in CLASS_NAMES for text in (caught.value.message, caught.value.zh))


# --------------------------------------------------------------------------- the batch path, capped

_CAPPED = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    import bombs, engine
    from engine.errors import ProfileError
    from engine.screening.rows import read_rows
    kb = engine.load(Path({kb!r}))
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))   # a regression fails, not hangs
    for name in sys.argv[1:]:
        path = Path({folder!r}) / (name + ".xlsx")
        try:
            for row in read_rows(path, kb):
                pass
        except ProfileError as error:
            print(name, "refused:", error.text())
        except MemoryError:
            print(name, "ran out of memory")
        else:
            print(name, "was read")
""")


def test_the_batch_reader_refuses_every_bomb_before_openpyxl_under_a_1_gib_cap(tmp_path):
    names = ["wide_row", "far_cell", "dimension", "zip", "many_texts", "lying_zip"]
    for name in names:
        (tmp_path / f"{name}.xlsx").write_bytes(bombs.BOMBS[name]())
    script = _CAPPED.format(tests=str(REPO / "tests"), kb=str(REPO / "kb"), folder=str(tmp_path))
    done = subprocess.run([PYTHON, "-c", script, *names], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == names, done.stdout
    for name, line in zip(names, lines):   # refused by the check, saying which limit: not by openpyxl
        assert REFUSALS[name, "batch"][0] in line, line


@pytest.mark.parametrize("name", ["wide_row", "zip"])
def test_policykb_batch_on_a_bomb_exits_2_with_one_line(tmp_path, name):
    path = tmp_path / "in.xlsx"
    path.write_bytes(bombs.BOMBS[name]())
    done = subprocess.run([PYTHON, "-m", "engine.cli", "batch", str(path), "--out", str(tmp_path / "out.csv")],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert str(path) in done.stderr and ("拆分" in done.stderr or "split" in done.stderr)
    assert not (tmp_path / "out.csv").exists()


def test_an_archive_of_too_many_parts_is_refused_before_its_directory_is_read():
    empty = bombs._Part([(b"", 1)])
    data = bombs._zip([(f"xl/media/{n}.bin", empty) for n in range(10_001)])
    error = _refusal(data, BATCH_LIMITS)
    assert "holds 10,001 parts" in error.message and "最多含 10,000 个部件" in error.zh
