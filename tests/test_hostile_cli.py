"""Hostile input on the command line and in batches (issue 21): text that is no text, a full
disk, a batch killed outright, and messages that speak plainly. Run as a user runs it."""

import csv
import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest
import yaml

from engine.cli import main
from engine.loading.yamlio import MAX_FILE_BYTES

from conftest import KB_DIR, REPO

EXAMPLE = KB_DIR / "examples" / "new_ict_key_enterprise.yaml"
PROFILE = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def _json_profile(**changes) -> dict:
    """The example profile as JSON data (dates as text), with ``changes``."""
    return json.loads(json.dumps(dict(PROFILE, **changes), default=str, ensure_ascii=False))


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _cli(*argv, cwd=None, limit=None, **kwargs):
    """``policykb ARGV`` in a subprocess (bytes arguments allowed); ``limit``: the largest file
    it may write, in bytes (RLIMIT_FSIZE, with SIGXFSZ ignored, so a write fails with EFBIG)."""
    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "engine.cli", *argv], cwd=cwd, env=env, stderr=subprocess.PIPE,
                          preexec_fn=limited if limit is not None else None, timeout=300, **kwargs)


def _one_line_error(done) -> str:
    err = done.stderr.decode("utf-8", "replace")
    lines = [line for line in err.splitlines() if line.startswith("policykb: error:")]
    assert done.returncode == 2, err
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


# --- item 7: lone surrogates ------------------------------------------------------------------

def _surrogate_json(path, **changes):
    # json.dumps writes "\ud800" as the escape it is given as: text that is no text.
    path.write_text(json.dumps(_json_profile(**changes)), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["eval"], ["eval", "--format", "json"], ["why", "-", "settlement_subsidy"],
                                     ["why-not", "-", "listing_grant"], ["report", "-", "--out", "OUT.html"]])
def test_a_lone_surrogate_in_a_profile_is_bad_input(tmp_path, capsys, command):
    profile = _surrogate_json(tmp_path / "p.json", name="x\ud800y")
    argv = [str(profile) if a == "-" else str(tmp_path / a) if a == "OUT.html" else a for a in command]
    if len(argv) == 1 or argv[1] == "--format":
        argv.insert(1, str(profile))
    code, out, err = _run(capsys, *argv, "--lang", "en")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("policykb: error: ")
    assert "name" in err and "lone surrogate" in err and "\\ud800" in err
    assert not (tmp_path / "OUT.html").exists()


def test_a_lone_surrogate_in_a_fact_key_is_refused_in_chinese(tmp_path, capsys):
    data = _json_profile()
    data["\udc80" + next(iter(data))] = 1
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps(data), encoding="utf-8")
    code, out, err = _run(capsys, "eval", profile, "--lang", "zh")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "孤立的代理码位" in err and "\\udc80" in err


def test_a_lone_surrogate_in_a_scenario_file_is_bad_input(tmp_path, capsys):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"scenarios": [{"name": "x\ud800", "profile": _json_profile()}]}),
                        encoding="utf-8")
    code, _, err = _run(capsys, "test", scenario)
    assert code == 2 and err.splitlines()[-1].startswith("policykb: error: ") and "lone surrogate" in err


def test_arguments_that_are_not_utf8_are_bad_input(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_bytes(EXAMPLE.read_bytes())
    odd = os.fsencode(tmp_path) + b"/\xff.yaml"
    with open(odd, "wb") as handle:
        handle.write(EXAMPLE.read_bytes())
    for argv in ([b"eval", odd, b"--lang", b"en"], [b"why", str(profile).encode(), b"\xff\xfe", b"--lang", b"en"],
                 [b"report", str(profile).encode(), b"--out", os.fsencode(tmp_path) + b"/o\xff.html",
                  b"--lang", b"en"]):
        line = _one_line_error(_cli(*argv))
        assert "argument" in line and "lone surrogate" in line and "\\udcff" in line
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".html")) == []
    line = _one_line_error(_cli(b"why", str(profile).encode(), b"\xff", b"--lang", b"zh"))
    assert "参数 ID" in line and "孤立的代理码位" in line


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("out", ["out.jsonl", "out.csv", "out.xlsx"])
def test_a_lone_surrogate_in_a_json_lines_batch_is_one_error_row(tmp_path, out):
    bad_key = _json_profile(id="C")
    bad_key["\udc80" + next(iter(PROFILE))] = 1
    source = _jsonl(tmp_path / "in.jsonl", [_json_profile(id="A"), _json_profile(id="B", name="x\ud800"),
                                             bad_key, _json_profile(id="D\ud800"), _json_profile(id="E")])
    done = _cli("batch", str(source), "--out", str(tmp_path / out), "--workers", "1", "--quiet", "--lang", "en")
    assert done.returncode == 0, done.stderr.decode()
    if out.endswith(".xlsx"):
        import openpyxl
        book = openpyxl.load_workbook(tmp_path / out, read_only=True)
        cells = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row
                 if isinstance(c, str) and "lone surrogate" in c]
        assert len(cells) == 3   # the three rows, each with its error; the others evaluated
        return
    if out.endswith(".jsonl"):
        rows = [json.loads(line) for line in (tmp_path / out).read_text(encoding="utf-8").splitlines()]
    else:
        with (tmp_path / out).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    assert [str(r["result"]) for r in rows] == ["ok", "error", "error", "error", "ok"]
    assert [r["id"] for r in rows][:3] == ["A", "B", "C"] and rows[4]["id"] == "E"
    for row in rows[1:4]:
        assert "lone surrogate" in row["message"] and "line" in row["message"]


def test_a_lone_surrogate_in_a_csv_json_cell_is_that_rows_error(tmp_path, kb):
    records = next(name for name, fact in kb.facts.items() if fact.type == "records")
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", records])
        writer.writerows([["A", "甲", ""], ["B", "乙", '[{"policy": "\\ud800"}]'], ["C", "丙", ""]])
    done = _cli("batch", str(source), "--out", str(tmp_path / "out.csv"), "--workers", "1", "--quiet")
    assert done.returncode == 0, done.stderr.decode()
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["result"] for r in rows] == ["ok", "error", "ok"]
    assert records in rows[1]["message"] and "lone surrogate" in rows[1]["message"]


def test_a_csv_read_in_an_encoding_that_makes_lone_surrogates_keeps_the_other_rows(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,name\nA,\\ud800x\nB,ok\n", encoding="ascii")
    done = _cli("batch", str(source), "--out", str(tmp_path / "out.jsonl"), "--workers", "1", "--quiet",
                "--encoding", "unicode_escape")
    assert done.returncode == 0, done.stderr.decode()
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["result"] for r in rows] == ["error", "ok"] and "lone surrogate" in rows[0]["message"]


# --- item 10: plain messages, sizes and lengths ----------------------------------------------

def _small_memory():
    resource.setrlimit(resource.RLIMIT_AS, (1024 ** 3, 1024 ** 3))


def test_a_huge_file_is_refused_by_its_size_before_it_is_read(tmp_path):
    """A 2 GiB (sparse) profile and rule file, read by a process allowed 1 GiB of memory: read
    whole, either would stop it with an out-of-memory traceback."""
    import shutil
    profile = tmp_path / "big.yaml"
    with profile.open("wb") as handle:
        handle.truncate(2 * 1024 ** 3)
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    rule_file = sorted(copy.glob("documents/*/rules/*.yaml"))[0]
    with rule_file.open("r+b") as handle:
        handle.truncate(2 * 1024 ** 3)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for argv, named in ((["eval", str(profile)], profile), (["eval", str(EXAMPLE), "--kb", str(copy)], rule_file)):
        done = subprocess.run([sys.executable, "-m", "engine.cli", *argv, "--lang", "en"], env=env,
                              capture_output=True, preexec_fn=_small_memory, timeout=300)
        line = _one_line_error(done)
        assert str(named) in line and f"larger than {MAX_FILE_BYTES // 1024 ** 2} MiB" in line


# --- item 9: a batch killed outright -----------------------------------------------------------

def _children(pid: int) -> set[int]:
    found = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found |= {int(p) for p in handle.read().split()}
        except OSError:
            pass
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaped has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _wait_for(condition, tries=600, pause=0.05):
    """Poll ``condition`` until it holds, at most ``tries`` times (a bound, not a speed test)."""
    for _ in range(tries):
        if condition():
            return True
        time.sleep(pause)
    return condition()


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="reads /proc (Linux)")
def test_workers_die_with_a_batch_killed_outright_and_the_partial_file_says_it_is_incomplete(tmp_path):
    source = _jsonl(tmp_path / "in.jsonl", [_json_profile(id=f"E{n}") for n in range(20000)])
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.incomplete"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    batch = subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", str(source), "--out", str(out),
                              "--workers", "2", "--quiet", "--lang", "en"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Wait until both workers run and rows are being written, then kill the batch outright.
        assert _wait_for(lambda: len(_children(batch.pid)) >= 2 and partial.exists()
                         and partial.stat().st_size > 10_000, tries=2400)
        workers = _children(batch.pid)
        batch.kill()
        batch.wait(timeout=60)
        assert not out.exists(), "the batch finished before it was killed: give it more rows"
        assert _wait_for(lambda: not any(_alive(p) for p in workers)), "workers outlived their batch"
    finally:
        if batch.poll() is None:
            batch.kill()
        for pid in locals().get("workers", ()):   # none should be left; if one is, it goes now
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    first = json.loads(partial.read_text(encoding="utf-8").splitlines()[0])
    assert first["incomplete"] is True and "INCOMPLETE" in first["message"]


@pytest.mark.parametrize("kind", ["csv", "jsonl", "xlsx"])
def test_the_partial_file_says_it_is_incomplete_from_the_start_and_the_finished_one_does_not(
        kb, tmp_path, monkeypatch, kind):
    from engine.screening import batch, writer
    source = _jsonl(tmp_path / "in.jsonl", [_json_profile(id="A"), _json_profile(id="B")])
    seen = []
    real = batch.evaluate_local

    def watching(*args):
        seen.append((tmp_path / f"out.{kind}.incomplete").read_bytes())
        yield from real(*args)

    monkeypatch.setattr(batch, "evaluate_local", watching)
    outcome = batch.run(kb, source, tmp_path / f"out.{kind}", quiet=True, lang="en")
    assert outcome.complete and seen and seen[0].startswith(writer.marker_line(kind, "en").encode())
    assert not (tmp_path / f"out.{kind}.incomplete").exists()
    if kind != "xlsx":
        text = outcome.path.read_text(encoding="utf-8")
        assert "INCOMPLETE" not in text and text.splitlines()[0].startswith("row," if kind == "csv" else '{"row": 1')


# --- item 8: a full disk, a file too large ----------------------------------------------------

@pytest.mark.parametrize("kind", ["csv", "jsonl", "xlsx"])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_batch_whose_output_cannot_be_written_is_one_line_and_leaves_nothing(tmp_path, kind, workers):
    source = _jsonl(tmp_path / "in.jsonl", [_json_profile(id=f"E{n}") for n in range(600)])
    out = tmp_path / f"out.{kind}"
    for limit in (0, 60_000):   # nothing may be written; a few rows may be
        done = _cli("batch", str(source), "--out", str(out), "--workers", workers, "--quiet", "--lang", "en",
                    limit=limit)
        line = _one_line_error(done)
        assert line == f"policykb: error: cannot write {out}: File too large"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
    zh = _one_line_error(_cli("batch", str(source), "--out", str(out), "--workers", workers, "--quiet", limit=0))
    assert zh == f"policykb: error: 无法写入 {out}：文件超过了允许的大小"


def test_a_workbook_that_cannot_be_written_is_refused_before_any_row_is_evaluated(kb, tmp_path, monkeypatch):
    from engine.errors import ProfileError
    from engine.screening import batch
    source = _jsonl(tmp_path / "in.jsonl", [_json_profile(id="A"), _json_profile(id="B")])
    evaluated = []
    real = batch.evaluate_local

    def counting(*args):
        for chunk in real(*args):
            evaluated.append(len(chunk))
            yield chunk

    monkeypatch.setattr(batch, "evaluate_local", counting)
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ProfileError) as refused:
        batch.run(kb, source, tmp_path / "a-file" / "out.xlsx", quiet=True)
    assert evaluated == [] and refused.value.message.startswith(f"cannot write {tmp_path / 'a-file' / 'out.xlsx'}: ")


@pytest.mark.parametrize("argv", [
    ["report", str(EXAMPLE), "--out", "OUT/r.html"], ["report", str(EXAMPLE), "--out", "OUT/r.md"],
    ["why", str(EXAMPLE), "settlement_subsidy", "--format", "dot", "--out", "OUT/w.dot"],
    ["graph", "--format", "dot", "--out", "OUT/g.dot"], ["template", "--out", "OUT/t.xlsx"],
    ["eval", str(EXAMPLE), "--format", "json"], ["diff", "--old", str(KB_DIR), "--new", str(KB_DIR), str(EXAMPLE)],
])
def test_every_command_writing_a_file_too_large_says_so_in_one_line(tmp_path, argv):
    argv = [a.replace("OUT", str(tmp_path)) for a in argv] + ([] if argv[0] == "graph" else ["--lang", "en"])
    written = next((a for a in argv if a.startswith(str(tmp_path))), None)
    if written is None:   # standard output is a file too large
        with (tmp_path / "stdout").open("wb") as stdout:
            done = _cli(*argv, limit=10, stdout=stdout)
        done.stdout = b""
        expected = "cannot write standard output: File too large"
    else:
        done = _cli(*argv, limit=10)
        expected = f"cannot write {written}: File too large"
    line = _one_line_error(done)
    assert line.endswith(expected), line
    if written is not None:
        assert not os.path.exists(written) and not os.path.exists(written + ".raw")


def test_a_full_disk_is_one_line_in_chinese(tmp_path):
    (tmp_path / "r.html").symlink_to("/dev/full")
    line = _one_line_error(_cli("report", str(EXAMPLE), "--out", str(tmp_path / "r.html")))
    assert line == f"policykb: error: 无法写入 {tmp_path / 'r.html'}：磁盘空间不足"
    with open("/dev/full", "wb") as full:
        line = _one_line_error(_cli("eval", str(EXAMPLE), "--lang", "en", stdout=full))
    assert line == "policykb: error: cannot write standard output: No space left on device"


def _first_id(path) -> tuple[str, int]:
    """The first ``- id:`` of a knowledge-base file and its line, read from the file."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip().startswith("- id:"):
            return line.split(":", 1)[1].strip(), number
    raise AssertionError(f"no id in {path}")


@pytest.mark.parametrize("file", ["rules", "facts.yaml"])
def test_an_id_longer_than_the_limit_is_refused_at_its_line(tmp_path, file):
    import shutil
    from engine.loading.reader import MAX_ID_LENGTH
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    path = sorted(copy.glob("documents/*/rules/*.yaml"))[0] if file == "rules" else copy / file
    old, line = _first_id(path)
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    long_id = "x" * (MAX_ID_LENGTH + 1)
    text[line - 1] = text[line - 1].replace(old, long_id)
    path.write_text("".join(text), encoding="utf-8")
    done = _cli("eval", str(EXAMPLE), "--kb", str(copy), "--lang", "en")
    err = _one_line_error(done)
    assert f"{path}:{line}" in err and f"at most {MAX_ID_LENGTH} characters" in err and long_id not in err


def test_a_row_that_breaks_the_engine_says_so_without_a_python_class_name(kb, tmp_path, monkeypatch):
    from engine.screening import batch, chunks

    class Odd(KeyError):
        pass

    def broken(*args, **kwargs):
        raise Odd("settlement")

    monkeypatch.setattr(chunks, "assess_facts", broken)
    monkeypatch.setattr(chunks, "screen", broken)
    source = _jsonl(tmp_path / "in.jsonl", [_json_profile(id="A")])
    outcome = batch.run(kb, source, tmp_path / "out.jsonl", quiet=True)
    row = json.loads(outcome.path.read_text(encoding="utf-8").splitlines()[0])
    assert row["result"] == "error" and row["message"].startswith("internal error")
    assert "Odd" not in row["message"] and "KeyError" not in row["message"] and "Odd" not in row["message_zh"]


def test_a_value_of_another_kind_is_worded_without_a_python_class_name(kb):
    from engine.errors import ProfileError
    from engine.loading.profile import parse_profile
    from fractions import Fraction
    with pytest.raises(ProfileError) as refused:
        parse_profile(Fraction(1, 3), kb)
    assert "Fraction" not in refused.value.text("en")
    money = next(name for name, fact in kb.facts.items() if fact.type == "money")
    with pytest.raises(ProfileError) as refused:
        parse_profile({money: float("inf")}, kb)
    assert "Infinity is not a finite amount of money" in refused.value.text("en")   # as JSON writes it
