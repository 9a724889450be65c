"""Safe YAML loading with positions (engine/loading/yamlio.py)."""

import time

import pytest

from engine.loading import yamlio
from engine.errors import ProfileError
from engine.loading.yamlio import MAX_EXPANDED_NODES, load_file, loads


def test_every_key_and_item_remembers_its_line():
    data = loads("a: 1\nb:\n  - x\n  - y\nc: {d: 2}\n", "f.yaml", ProfileError)
    assert data.line_of("a") == 1 and data.line_of("b") == 2 and data.line_of("c") == 5
    assert data["b"].item_lines == [3, 4]
    assert data.file == "f.yaml"


def test_a_duplicate_key_is_an_error_naming_both_lines():
    with pytest.raises(ProfileError) as err:
        loads("industry: ict\nname: x\nindustry: finance\n", "p.yaml", ProfileError)
    assert err.value.line == 3 and "first at line 1" in err.value.message


def test_python_tags_are_refused_without_building_anything():
    with pytest.raises(ProfileError, match="tag !!python/object/apply:os.system is not allowed"):
        loads("a: !!python/object/apply:os.system ['echo hacked']\n", "p.yaml", ProfileError)


def test_malformed_yaml_reports_line_and_column():
    with pytest.raises(ProfileError) as err:
        loads("a: [1, 2\nb: 3\n", "p.yaml", ProfileError)
    assert err.value.file == "p.yaml" and err.value.line is not None and err.value.column is not None


def test_an_alias_bomb_is_refused_fast():
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 9):
        prev = chr(ord("a") + n - 1)
        cur = chr(ord("a") + n)
        levels.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    started = time.perf_counter()
    with pytest.raises(ProfileError, match="alias bomb"):
        loads("\n".join(levels) + "\n", "bomb.yaml", ProfileError)
    assert MAX_EXPANDED_NODES < 9 ** 9
    del started  # speed is not asserted here; the refusal happens before expansion


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes("name: 企业\n".encode("gbk"))
    with pytest.raises(ProfileError, match="not UTF-8"):
        load_file(path, ProfileError)


def test_json_files_are_read_with_duplicate_keys_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"industry": "ict", "industry": "finance"}', encoding="utf-8")
    with pytest.raises(ProfileError, match="duplicate key"):
        load_file(path, ProfileError)
    path.write_text('{"industry": ', encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        load_file(path, ProfileError)
    assert err.value.line == 1


def test_nan_in_json_is_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"paid_in_capital": NaN}', encoding="utf-8")
    with pytest.raises(ProfileError, match="NaN"):
        load_file(path, ProfileError)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ProfileError, match="no such file"):
        load_file(tmp_path / "nope.yaml", ProfileError)


# Issue 10, item 8: the alias-bomb limit counts what aliases add, not the values written out.
def test_a_long_plain_list_is_read_not_called_an_alias_bomb(monkeypatch):
    # The limit is lowered so that the list is small to compose; the measure is the same one
    # that refused the 300,000-item list (bounded by the file size, not by this limit).
    monkeypatch.setattr(yamlio, "MAX_EXPANDED_NODES", 1_000)
    items = 3_000
    data = loads("items:\n" + "- x\n" * items, "long.yaml", ProfileError)
    assert len(data["items"]) == items


def test_aliases_adding_just_over_the_limit_are_refused_and_just_under_are_read(monkeypatch):
    monkeypatch.setattr(yamlio, "MAX_EXPANDED_NODES", 10_000)
    # One anchored list of 100 values, repeated through aliases: each alias adds 101 nodes.
    block = "a: &a [" + ", ".join(["x"] * 100) + "]\n"
    under = 10_000 // 101
    data = loads(block + "b: [" + ", ".join(["*a"] * under) + "]\n", "ok.yaml", ProfileError)
    assert len(data["b"]) == under
    with pytest.raises(ProfileError, match="through aliases \\(refused as an alias bomb\\)"):
        loads(block + "b: [" + ", ".join(["*a"] * (under + 1)) + "]\n", "bomb.yaml", ProfileError)


@pytest.mark.parametrize("content, words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file (it looks like a PNG image)"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not a text file (it looks like a PDF document)"),
    (b"PK\x03\x04\x14\x00\x06\x00", "not a text file (it looks like a ZIP archive, such as an .xlsx workbook)"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "not a text file (it looks like a JPEG image)"),
    (b"name: x\n\x00\x01\x02", "not a text file (it has a NUL byte at offset 8)"),
    ("name: 企业\n".encode("utf-16"), "the file is UTF-16 text; save it as UTF-8"),
])
def test_a_binary_file_is_named_as_such_not_as_an_encoding(tmp_path, content, words):
    path = tmp_path / "p.yaml"
    path.write_bytes(content)
    with pytest.raises(ProfileError) as err:
        load_file(path, ProfileError)
    assert words in err.value.message and "GB18030" not in err.value.message


def test_plain_data_is_json_data_with_dates_as_days():
    import datetime as dt
    import json
    data = loads("name: 甲\napplication_date: 2021-05-01\nlist: [1, 2021-06-30]\n", "p.yaml", ProfileError)
    plain = yamlio.plain({**data, "when": dt.datetime(2021, 7, 1, 9, 30), "pair": (1, 2), 3: "three"})
    assert plain == {"name": "甲", "application_date": "2021-05-01", "list": [1, "2021-06-30"],
                     "when": "2021-07-01", "pair": [1, 2], "3": "three"}
    json.dumps(plain)
