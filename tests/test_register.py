"""The case register (engine/register, issue 22) on both back ends: SQLite files, and a real
PostgreSQL server (``$POLICYKB_TEST_POSTGRES_URL``; ``bash .ci/run`` starts a throw-away one).
No mock database: every test writes and reads real tables, and tampers with them by SQL.

Each PostgreSQL test gets a database of its own, made for it and dropped after it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from importlib import metadata
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from conftest import KB_DIR, REPO
from engine.register import (Case, CaseNotFound, ConflictError, Record, RegisterError, default_location,
                             open_register)
from engine.register.canonical import GENESIS, canonical_json
from engine.register.schema import MIGRATIONS, alembic_config, metadata as register_metadata, register_url

PG_URL = os.environ.get("POLICYKB_TEST_POSTGRES_URL", "").strip()
PROFILE = yaml.safe_load((KB_DIR / "examples" / "new_ict_key_enterprise.yaml").read_text(encoding="utf-8"))
NAME = "北京数智云图科技有限公司"


def _postgres_or_skip() -> str:
    if PG_URL:
        return PG_URL
    if os.environ.get("CI"):
        pytest.fail("POLICYKB_TEST_POSTGRES_URL is not set: under CI the register's tests must run on "
                    "PostgreSQL too (bash .ci/run starts a throw-away server and sets it)")
    pytest.skip("no PostgreSQL server: run bash .ci/run (it starts a throw-away one), or set "
                "POLICYKB_TEST_POSTGRES_URL=postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE "
                "for a user who may create databases")


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request, tmp_path):
    """A register's location, empty: an SQLite file's path, or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "registers" / "register.sqlite3")
    else:
        yield from _postgres_database()


@pytest.fixture
def postgres_where():
    """A fresh PostgreSQL database's URL, for a test of PostgreSQL alone."""
    yield from _postgres_database()


def _postgres_database():
    server = sa.make_url(_postgres_or_skip()).set(drivername="postgresql+psycopg")
    name = f"policykb_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture
def register(where):
    with open_register(where) as opened:
        yield opened


@pytest.fixture
def raw(where):
    """A plain SQLAlchemy engine on the same register, for reading and tampering with its rows."""
    engine = sa.create_engine(register_url(where))
    yield engine
    engine.dispose()


def _sql(raw, statement: str, **values):
    with raw.begin() as connection:
        return connection.execute(sa.text(statement), values)


def _result(n: int, status: str = "granted") -> dict:
    return {"kb_version": "k", "as_of": "2024-05-08", "enterprise": f"enterprise {n}",
            "status": {"settlement_subsidy": status}, "benefits": [], "n": n}


def _recorded(register, count: int) -> Case:
    case = register.add_case("甲公司", {"name": "甲公司", "paid_in_capital": "1亿元"})
    for n in range(count):
        register.record(case.id, _result(n), kb_hash="kbhash", kb_version="docs", by="ann", note=f"note {n}")
    return case


# --------------------------------------------------------------------------- cases


def test_add_list_search_and_filter(register):
    first = register.add_case(NAME, PROFILE, notes="来访 2024-05", by="ann")
    second = register.add_case("Beta Data Ltd", {"name": "Beta Data Ltd", "registered_in_xicheng": False}, by="bob")
    third = register.add_case("beta again", {"name": "beta again"})
    assert (first.id, first.version, first.created_by, first.erased) == (first.id, 1, "ann", False)
    assert first.profile == json.loads(canonical_json(PROFILE))     # dates come back as ISO text
    assert first.created_at.tzinfo == dt.timezone.utc and first.created_at == first.updated_at
    assert [c.id for c in register.cases()] == [first.id, second.id, third.id]
    assert [c.id for c in register.cases(search="BETA")] == [second.id, third.id]
    assert [c.id for c in register.cases(search="数智")] == [first.id]
    assert register.case(first.id) == first and register.case(NAME) == first
    assert register.case(str(second.id)).id == second.id        # a number given as text
    today = dt.datetime.now(dt.timezone.utc).date()
    assert len(register.cases(since=today, until=today)) == 3
    assert register.cases(since=today + dt.timedelta(days=1)) == []
    assert register.cases(until=(today - dt.timedelta(days=1)).isoformat()) == []
    # By the status of a benefit in the case's latest record (engine.evaluate's result).
    register.record_evaluation(first.id, None, by="ann")
    register.record(second.id, _result(1, "granted"), kb_hash="x", kb_version="y")
    register.record(second.id, _result(2, "denied"), kb_hash="x", kb_version="y")      # the latest
    assert [c.id for c in register.cases(benefit="settlement_subsidy", status="granted")] == [first.id]
    assert [c.id for c in register.cases(benefit="settlement_subsidy", status="denied")] == [second.id]
    assert [c.id for c in register.cases(benefit="cultivation_subsidy", status="denied")] == [first.id]
    assert [c.id for c in register.cases(benefit="settlement_subsidy")] == [first.id, second.id]


def test_many_cases_are_saved_in_one_transaction_all_or_none(register):
    ids = register.add_cases([("甲", {"name": "甲"}), (None, {"paid_in_capital": "1亿元"}, "备注")], by="ann")
    assert [register.case(i).name for i in ids] == ["甲", None]
    assert register.case(ids[1]).notes == "备注" and register.edits(ids[0])[0].edited_by == "ann"
    with pytest.raises(RegisterError):   # the second cannot be stored: the first is not saved either
        register.add_cases([("乙", {"name": "乙"}), ("丙", {"when": object()})])
    assert [c.name for c in register.cases()] == ["甲", None]
    assert register.add_cases([]) == []


def test_what_a_replay_reads_states_and_latest_records(register):
    first, second, third = register.add_cases([("一", {"name": "一"}), ("二", {"name": "二"}), ("三", {"name": "三"})])
    register.record(first, _result(1), kb_hash="old", kb_version="docs", as_of="2024-05-08")
    register.record(first, _result(2, "denied"), kb_hash="new", kb_version="docs", as_of="2024-06-01")
    register.record(second, _result(3), kb_hash="old", kb_version="docs")
    register.erase(second, by="ann")
    assert register.case_states() == [(first, "一", False, True), (second, None, True, False), (third, "三", False, True)]
    assert [s[0] for s in register.case_states(include_erased=False)] == [first, third]
    found = register.latest([third, second, first, 999])
    assert [row[0] for row in found] == [first, third]       # by number; erased and unknown left out
    case_id, name, profile, fields, result = found[0]
    assert (name, profile, result["n"]) == ("一", {"name": "一"}, 2)
    assert fields["kb_hash"] == "new" and fields["as_of"] == dt.date(2024, 6, 1)
    assert fields["seq"] == max(r.seq for r in register.records(first))
    assert found[1][3:] == (None, None)                       # never recorded


def test_a_case_not_found_names_the_nearest(register):
    register.add_case(NAME, PROFILE)
    with pytest.raises(CaseNotFound) as caught:
        register.case("北京数智云图科技公司")
    assert caught.value.suggestion == NAME and NAME in str(caught.value) and caught.value.zh
    with pytest.raises(CaseNotFound, match="no case 99"):
        register.case(99)
    register.add_case(NAME, PROFILE)
    with pytest.raises(RegisterError, match="2 cases are named"):
        register.case(NAME)


def test_an_edit_keeps_every_version(register):
    case = register.add_case("甲公司", {"paid_in_capital": "1亿元"}, by="ann")
    edited = register.edit_case(case.id, {"paid_in_capital": "2亿元"}, 1, by="bob", note="年报更正")
    assert (edited.version, edited.profile) == (2, {"paid_in_capital": "2亿元"})
    renamed = register.edit_case(case.id, None, 2, by="cy", name="甲科技公司", notes="改名")
    assert (renamed.version, renamed.name, renamed.notes, renamed.profile) == (3, "甲科技公司", "改名",
                                                                                {"paid_in_capital": "2亿元"})
    history = register.edits(case.id)
    assert [(e.version, e.edited_by, e.note, e.profile["paid_in_capital"]) for e in history] == [
        (1, "ann", "added", "1亿元"), (2, "bob", "年报更正", "2亿元"), (3, "cy", "", "2亿元")]
    assert history[0].profile_sha256 == hashlib.sha256(
        canonical_json({"paid_in_capital": "1亿元"}).encode()).hexdigest()


def test_a_stale_version_is_a_conflict_not_a_lost_update(register):
    case = register.add_case("甲公司", {"paid_in_capital": "1亿元"})
    register.edit_case(case.id, {"paid_in_capital": "2亿元"}, 1, by="ann")
    with pytest.raises(ConflictError) as caught:
        register.edit_case(case.id, {"paid_in_capital": "3亿元"}, 1, by="bob")
    assert str(caught.value) == (f"case {case.id} was changed by someone else (version 2, you had 1); "
                                 f"reload it and apply your change again")
    assert caught.value.zh and (caught.value.stored, caught.value.expected) == (2, 1)
    assert register.case(case.id).profile == {"paid_in_capital": "2亿元"}
    assert len(register.edits(case.id)) == 2


def test_two_analysts_editing_at_once_one_wins_one_is_told(where):
    with open_register(where) as register:
        case = register.add_case("甲公司", {"paid_in_capital": "1亿元"})
    outcomes, barrier = [], threading.Barrier(2)

    def analyst(amount):
        with open_register(where) as mine:
            barrier.wait()
            try:
                mine.edit_case(case.id, {"paid_in_capital": amount}, 1)
                outcomes.append("saved")
            except ConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=analyst, args=(a,)) for a in ("2亿元", "3亿元")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(outcomes) == ["conflict", "saved"]
    with open_register(where) as register:
        assert register.case(case.id).version == 2 and len(register.edits(case.id)) == 2


# --------------------------------------------------------------------------- records and the chain


def test_a_record_holds_the_decision_and_the_chain_verifies(register):
    case = register.add_case(NAME, PROFILE, by="ann")
    first = register.record_evaluation(case.id, None, by="ann", note="首次评估")
    import engine
    kb = engine.load()
    assert isinstance(first, Record) and first.seq == 1 and first.prev_hash == GENESIS
    assert (first.kb_hash, first.kb_version) == (kb.version, ", ".join(kb.documents))
    assert first.policykb_version == metadata.version("policykb")
    assert first.durable_rules_version == metadata.version("durable-rules")
    assert first.as_of == dt.date(2021, 9, 15)                 # the profile's application date
    assert first.recorded_at.tzinfo == dt.timezone.utc
    assert (first.recorded_by, first.note, first.reviewed_by) == ("ann", "首次评估", None)
    assert first.result == json.loads(canonical_json(engine.evaluate(PROFILE)))
    assert first.result_sha256 == hashlib.sha256(canonical_json(first.result).encode()).hexdigest()
    assert first.profile_sha256 == hashlib.sha256(canonical_json(PROFILE).encode()).hexdigest()
    second = register.record(case.id, {"status": {}}, kb_hash="other", kb_version="v2", as_of="2024-01-02",
                             profile={"name": "as evaluated"})
    assert (second.seq, second.prev_hash, second.as_of, second.profile) == (
        2, first.record_hash, dt.date(2024, 1, 2), {"name": "as evaluated"})
    assert [r.seq for r in register.records()] == [1, 2] and register.records(case.id) == [first, second]
    assert register.verify().ok and register.verify().checked == 2
    reviewed = register.mark_reviewed(1, "主任")
    assert reviewed.reviewed_by == "主任" and register.records()[0].reviewed_by == "主任"
    assert register.verify().ok                                 # a review is outside the chain


def test_an_empty_register_verifies(register):
    assert register.verify() == register.verify().__class__(True, 0, None, None)


@pytest.mark.parametrize("column, value", [("note", "changed afterwards"), ("recorded_by", "someone else"),
                                           ("kb_hash", "forged")])
def test_an_altered_field_names_the_record(register, raw, column, value):
    _recorded(register, 5)
    _sql(raw, f"UPDATE records SET {column} = :value WHERE seq = 3", value=value)
    found = register.verify()
    assert (found.ok, found.first_bad, found.checked) == (False, 3, 2)
    assert found.problem == "record 3 was altered: its hash does not match its contents"


def test_an_altered_result_names_the_record(register, raw):
    _recorded(register, 5)
    text = _sql(raw, "SELECT result_json FROM records WHERE seq = 4").scalar()
    _sql(raw, "UPDATE records SET result_json = :text WHERE seq = 4", text=text.replace("granted", "denied"))
    found = register.verify()
    assert (found.ok, found.first_bad) == (False, 4)
    assert found.problem == "record 4 was altered: its result does not match its hash"


def test_a_rewritten_hash_is_caught_by_the_next_link(register, raw):
    from engine.register.canonical import HASHED_FIELDS, record_hash
    _recorded(register, 5)
    _sql(raw, "UPDATE records SET note = 'forged' WHERE seq = 2")
    from engine.register.schema import records
    with raw.connect() as connection:    # typed columns: the recorded time as a datetime
        row = connection.execute(sa.select(records).where(records.c.seq == 2)).mappings().one()
    _sql(raw, "UPDATE records SET record_hash = :h WHERE seq = 2", h=record_hash({k: row[k] for k in HASHED_FIELDS}))
    found = register.verify()
    assert (found.first_bad, found.problem) == (2, "record 2 was altered: record 3 was linked to another hash")


def test_a_removed_record_is_named(register, raw):
    _recorded(register, 6)
    _sql(raw, "DELETE FROM records WHERE seq = 3")
    found = register.verify()
    assert (found.ok, found.first_bad, found.checked) == (False, 3, 2)
    assert found.problem == "record 3 was removed: record 4 follows record 2"


def test_a_removed_last_record_is_named(register, raw):
    _recorded(register, 4)
    _sql(raw, "DELETE FROM records WHERE seq = 4")
    found = register.verify()
    assert (found.first_bad, found.problem) == (
        4, "record 4 was removed: the chain ends at record 4, the register holds 3")


def test_reordered_records_are_named(register, raw):
    _recorded(register, 5)
    with raw.begin() as connection:       # swap the numbers of records 2 and 4
        connection.execute(sa.text("UPDATE records SET seq = -1 WHERE seq = 2"))
        connection.execute(sa.text("UPDATE records SET seq = 2 WHERE seq = 4"))
        connection.execute(sa.text("UPDATE records SET seq = 4 WHERE seq = -1"))
    found = register.verify()
    assert (found.ok, found.first_bad) == (False, 2)
    assert found.problem == "records were reordered: record 2 holds what was recorded as record 4"


# --------------------------------------------------------------------------- erasure


def test_erasure_removes_the_data_and_keeps_the_chain(register, raw, where):
    keep = register.add_case("乙公司", {"name": "乙公司"})
    case = register.add_case(NAME, PROFILE, notes="联系人 王女士", by="ann")
    register.record(keep.id, _result(0), kb_hash="k", kb_version="v")
    register.record_evaluation(case.id, None, by="ann", note="首次")
    register.edit_case(case.id, dict(PROFILE, paid_in_capital="2亿元"), 1)
    register.record_evaluation(case.id, None)
    register.record(keep.id, _result(1), kb_hash="k", kb_version="v")
    before = {r.seq: r for r in register.records()}
    erased = register.erase(case.id, by="dpo", reason="企业申请删除")
    assert (erased.name, erased.notes, erased.profile, erased.erased, erased.version) == (None, "", None, True, 3)
    assert register.verify().ok and register.verify().checked == 4
    assert [c.id for c in register.cases()] == [keep.id]
    assert [c.id for c in register.cases(include_erased=True)] == [keep.id, case.id]
    for record in register.records(case.id):
        assert (record.profile, record.result) == (None, None)
        assert (record.profile_sha256, record.result_sha256, record.record_hash) == (
            before[record.seq].profile_sha256, before[record.seq].result_sha256, before[record.seq].record_hash)
    assert all(e.profile is None for e in register.edits(case.id))
    assert register.records(keep.id)[0].result == _result(0)
    assert register.erasures()[0]["erased_by"] == "dpo" and register.erasures()[0]["reason"] == "企业申请删除"
    with pytest.raises(RegisterError, match="was erased"):
        register.edit_case(case.id, PROFILE, 3)
    with pytest.raises(RegisterError, match="was erased"):
        register.record(case.id, _result(2), kb_hash="k", kb_version="v")
    # The raw rows: the name, the notes, the profile and the result are nowhere.
    with raw.connect() as connection:
        rows = [tuple(row) for table in ("cases", "profile_edits", "records")
                for row in connection.execute(sa.text(f"SELECT * FROM {table}"))]
    text = repr(rows)
    for gone in (NAME, "王女士", "数智", "1.2亿元", "2亿元"):
        assert gone not in text, gone
    assert "乙公司" in text
    if not where.startswith("postgresql"):
        # SQLite: zeroed in the file itself, and the write-ahead log emptied.
        files = [p for p in Path(where).parent.iterdir() if p.name.startswith("register.sqlite3")]
        for path in files:
            assert NAME.encode() not in path.read_bytes(), path.name


# --------------------------------------------------------------------------- concurrency and faults


def _writers(where, writers: int, each: int):
    with open_register(where) as register:
        case = register.add_case("并发", {"name": "并发"})
    errors, barrier = [], threading.Barrier(writers)

    def writer(n):
        try:
            with open_register(where) as mine:
                barrier.wait()
                for k in range(each):
                    mine.record(case.id, _result(n * 1000 + k), kb_hash="k", kb_version="v", by=f"writer {n}")
        except Exception as exc:   # noqa: BLE001 - reported below
            errors.append(f"writer {n}: {exc}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors, errors[:3]
    with open_register(where) as register:
        found = register.records()
        assert [r.seq for r in found] == list(range(1, writers * each + 1))
        assert len({r.result["n"] for r in found}) == writers * each       # none lost, none twice
        assert register.verify() == register.verify().__class__(True, writers * each, None, None)


def test_fifty_concurrent_writers_on_postgresql(postgres_where):
    _writers(postgres_where, 50, 10)


def test_twenty_concurrent_writers_on_sqlite(tmp_path):
    _writers(str(tmp_path / "register.sqlite3"), 20, 10)


_LOOP = textwrap.dedent("""
    import sys
    from engine.register import open_register
    register = open_register(sys.argv[1])
    case = register.add_case("killed", {"name": "killed"})
    n = 0
    while True:
        register.record(case.id, {"n": n, "padding": "x" * 20000}, kb_hash="k", kb_version="v", note=str(n))
        n += 1
        print(n, flush=True)
""")


def test_a_process_killed_while_recording_leaves_only_whole_records(where):
    child = subprocess.Popen([sys.executable, "-c", _LOOP, where], stdout=subprocess.PIPE, text=True,
                             cwd=REPO)
    try:
        for _ in range(30):
            line = child.stdout.readline()
            assert line, "the recording process stopped"
        time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    with open_register(where) as register:
        found = register.verify()
        assert found.ok, found.problem
        assert found.checked >= 30
        assert all(r.result["n"] == r.seq - 1 for r in register.records())
        register.record(1, {"after": True}, kb_hash="k", kb_version="v")   # and the chain goes on
        assert register.verify().ok


def test_a_folder_that_cannot_be_made_is_one_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(RegisterError) as caught:
        open_register(blocker / "register.sqlite3")
    message = str(caught.value)
    assert "\n" not in message and "cannot write" in message and str(blocker) in message
    assert caught.value.zh and "无法写入" in caught.value.text("zh")
    with pytest.raises(RegisterError, match="it is a folder"):
        open_register(tmp_path)


_FULL = textwrap.dedent("""
    import resource, signal, sys, os
    from engine.register import open_register, RegisterError
    register = open_register(sys.argv[1])
    case = register.add_case("full", {"name": "full"})
    register.record(case.id, {"n": 0}, kb_hash="k", kb_version="v")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)    # a write past the limit fails with EFBIG instead
    limit = sum(os.path.getsize(p) for p in [sys.argv[1], sys.argv[1] + "-wal"] if os.path.exists(p)) + 200000
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    for n in range(1, 10000):
        try:
            register.record(case.id, {"n": n, "padding": "y" * 50000}, kb_hash="k", kb_version="v")
        except RegisterError as exc:
            print("ERROR", n, exc.text("en"))
            print("ZH", exc.text("zh"))
            sys.exit(0)
    print("never full")
""")


def test_a_full_disk_is_one_clear_error_and_nothing_half_written(tmp_path):
    path = tmp_path / "register.sqlite3"
    done = subprocess.run([sys.executable, "-c", _FULL, str(path)], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ERROR"), done.stdout
    _, failed_at, message = lines[0].split(" ", 2)
    assert message == (f"cannot record a decision in the register {path}: the file could not be written (it "
                       f"may have reached the size it may have, or the disk is full or failing); nothing was written")
    assert "文件无法写入" in lines[1]
    with open_register(path) as register:
        found = register.verify()
        assert found.ok and found.checked == int(failed_at), found


@pytest.fixture
def small_disk(tmp_path):
    """A folder on a 2 MiB tmpfs of its own: a disk that fills up (needs root and mount)."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): the file-size limit test stands in")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_is_the_disk_is_full(small_disk):
    path = small_disk / "register.sqlite3"
    with open_register(path) as register:
        case = register.add_case("满", {"name": "满"})
        with pytest.raises(RegisterError) as caught:
            for n in range(1000):
                register.record(case.id, {"n": n, "padding": "z" * 50000}, kb_hash="k", kb_version="v")
        assert str(caught.value) == (f"cannot record a decision in the register {path}: the disk is full (or the "
                                     f"file has reached the size it may have); nothing was written")
        assert "磁盘已满" in caught.value.text("zh")
        found = register.verify()
        assert found.ok and found.checked == n, found


@pytest.mark.skipif(os.geteuid() != 0, reason="as another user a read-only file is simply read-only: "
                                                "this test drops root's power to write anything")
def test_a_read_only_file_is_one_clear_error(tmp_path):
    path = tmp_path / "register.sqlite3"
    with open_register(path) as register:
        register.add_case("甲", {"name": "甲"})
    os.chmod(path, 0o444)
    code = ("import sys\nfrom engine.register import open_register, RegisterError\n"
            "try:\n    open_register(sys.argv[1]).add_case('乙', {})\nexcept RegisterError as exc:\n"
            "    print(exc)\n")
    # Root writes any file: without CAP_DAC_OVERRIDE it is held to the file's mode like anyone.
    done = subprocess.run(["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-c",
                           code, str(path)], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    message = done.stdout.strip()
    assert message == f"cannot write to the register {path}: the file is read-only; nothing was written"
    os.chmod(path, 0o644)
    with open_register(path) as register:
        assert [c.name for c in register.cases()] == ["甲"]


def test_a_server_that_does_not_answer_is_one_clear_error():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]          # nothing listens there once closed
    with pytest.raises(RegisterError) as caught:
        open_register(f"postgresql://nobody:secret@127.0.0.1:{port}/none")
    message = str(caught.value)
    assert "\n" not in message and "cannot reach the server" in message
    assert "secret" not in message and f"127.0.0.1:{port}" in message


# --------------------------------------------------------------------------- where, migrations, export


def test_the_default_location_and_addresses(monkeypatch, tmp_path):
    monkeypatch.delenv("POLICYKB_REGISTER", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_location() == str(tmp_path / "data" / "policykb" / "register.sqlite3")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_location() == str(Path.home() / ".local" / "share" / "policykb" / "register.sqlite3")
    monkeypatch.setenv("POLICYKB_REGISTER", str(tmp_path / "mine.sqlite3"))
    with open_register() as register:
        assert register.where == str(tmp_path / "mine.sqlite3") and register.backend == "sqlite"
    assert register_url("postgresql://u:p@h:5/db").drivername == "postgresql+psycopg"
    assert register_url("postgresql+psycopg://u@h/db").database == "db"
    assert register_url(f"sqlite:///{tmp_path}/x.sqlite3").database == f"{tmp_path}/x.sqlite3"
    for wrong, words in (("mysql://u@h/db", "not mysql://"), ("postgresql+psycopg2://u@h/db", "psycopg driver"),
                         ("sqlite://", "in-memory")):
        with pytest.raises(RegisterError, match=words):
            register_url(wrong)


def test_migrations_are_idempotent_and_match_the_tables(where):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    for _ in range(2):
        with open_register(where) as register:
            register.add_case("甲", {"name": "甲"})
    with open_register(where) as register:
        assert len(register.cases()) == 2
    engine = sa.create_engine(register_url(where))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            heads = ScriptDirectory.from_config(alembic_config()).get_heads()
            assert len(heads) == 1 and context.get_current_heads() == tuple(heads)
            assert compare_metadata(context, register_metadata) == []
            assert connection.execute(sa.text("SELECT count(*) FROM chain_head")).scalar() == 1
    finally:
        engine.dispose()


def test_alembic_at_the_command_line_sees_one_head():
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", str(MIGRATIONS.parent / "alembic.ini"), "heads"],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    newest = max(p.name.split("_")[0] for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    assert done.stdout.split() == [newest, "(head)"]


def test_sqlite_is_in_wal_mode_with_foreign_keys(tmp_path):
    with open_register(tmp_path / "r.sqlite3") as register:
        with register._engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_export_every_case_and_record_formula_safe(register, tmp_path):
    import openpyxl
    case = register.add_case('=HYPERLINK("http://evil","click")', {"name": "x"}, notes="+1 call")
    register.add_case("plain", {"name": "plain"})
    register.record(case.id, _result(0), kb_hash="k", kb_version="v", note="-2 risky")
    assert register.export(tmp_path / "out.jsonl") == 3
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["kind"] for line in lines] == ["case", "case", "record"]
    assert lines[0]["name"].startswith("=HYPERLINK") and lines[2]["result"] == _result(0)
    register.export(tmp_path / "out.csv")
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["kind"] for row in rows] == ["case", "case", "record"]
    assert rows[0]["name"] == "'" + '=HYPERLINK("http://evil","click")' and rows[0]["notes"] == "'+1 call"
    assert rows[2]["note"] == "'-2 risky" and json.loads(rows[2]["result"]) == _result(0)
    register.export(tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert book.sheetnames == ["cases", "records"]
    cell = book["cases"]["B2"]
    assert cell.value == '=HYPERLINK("http://evil","click")' and cell.data_type == "s"
    assert book["records"].max_row == 2
    with pytest.raises(RegisterError, match="write a .jsonl, .csv or .xlsx"):
        register.export(tmp_path / "out.txt")
    assert not list(tmp_path.glob(".*.partial"))


def test_a_write_on_sqlite_takes_the_write_lock_at_its_start(tmp_path):
    """BEGIN IMMEDIATE, not sqlite3's deferred BEGIN: a second writer waits from the first statement."""
    import sqlite3
    path = tmp_path / "r.sqlite3"
    with open_register(path) as register:
        with register._writer.begin() as connection:
            connection.execute(sa.text("SELECT 1"))          # a read only, yet the lock is held
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
        with register._engine.begin() as connection:          # a read begins deferred
            connection.execute(sa.text("SELECT 1"))
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            other.close()
