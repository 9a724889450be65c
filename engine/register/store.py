"""The register: cases, their edits, and the chain of decision records, on SQLite or PostgreSQL.

Every method runs in a transaction of its own and hands back plain data (:mod:`engine.register.data`).
Writes: a case's edit is an ``UPDATE … WHERE version = :expected`` (optimistic locking: no lost
update, a :class:`ConflictError` instead); a record is appended with the chain's head locked
(``SELECT … FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), its number, link and hash
computed under that lock and written with the head in the same transaction, so records go one at
a time and a killed process leaves only whole ones. docs/register.md describes the record, the
chain, verification and erasure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
from importlib import metadata as importlib_metadata
from typing import Iterable, Iterator, Mapping

import sqlalchemy as sa

from engine.errors import nearest
from engine.register import schema
from engine.register.canonical import GENESIS, HASHED_FIELDS, canonical_json, record_hash, sha256_text
from engine.register.data import Case, ProfileEdit, Record, Verification
from engine.register.errors import CaseNotFound, ConflictError, RegisterError
from engine.register.failures import worded as _reason
from engine.register.schema import cases, chain_head, erasures, profile_edits, records, reviews

UTC = dt.timezone.utc

# Statements built once: SQLAlchemy then compiles each once and caches it, where a statement built
# on every call (``insert().values(**fields)``) costs more than the SQLite commit it belongs to.
_HEAD = sa.select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1)
_HEAD_LOCKED = _HEAD.with_for_update()
_CASE_BY_ID = sa.select(cases).where(cases.c.id == sa.bindparam("case_id"))
_CASE_BY_NAME = sa.select(cases).where(cases.c.name == sa.bindparam("case_name")).order_by(cases.c.id)
_INSERT_RECORD = records.insert()
_INSERT_CASE = cases.insert()
_LAST_SEQ = (sa.select(records.c.case_id, sa.func.max(records.c.seq).label("seq"))
             .where(records.c.case_id.in_(sa.bindparam("ids", expanding=True))).group_by(records.c.case_id)
             .subquery())
_LATEST = (sa.select(cases.c.id, cases.c.name, cases.c.profile_json, records.c.seq, records.c.kb_hash, records.c.as_of,
                     records.c.profile_sha256, records.c.policykb_version, records.c.result_json)
           .select_from(cases.outerjoin(_LAST_SEQ, _LAST_SEQ.c.case_id == cases.c.id)
                        .outerjoin(records, records.c.seq == _LAST_SEQ.c.seq))
           .where(cases.c.id.in_(sa.bindparam("ids", expanding=True)), cases.c.erased.is_(False),
                  cases.c.profile_json.is_not(None))
           .order_by(cases.c.id))
_INSERT_EDIT = profile_edits.insert()
_MOVE_HEAD = (chain_head.update().where(chain_head.c.id == 1)
              .values(seq=sa.bindparam("head_seq"), hash=sa.bindparam("head_hash")))


def open_register(where: str | os.PathLike | None = None) -> "Register":
    """Open (creating it when missing) the register at ``where``: a path (an SQLite file, its folder
    made), a ``sqlite:///`` URL, a ``postgresql://`` or ``postgresql+psycopg://`` URL, or None for
    :func:`engine.register.schema.default_location`. Its tables are migrated to the newest.

    Raises
    ------
    RegisterError
        When it cannot be created, opened or migrated: one line saying why.
    """
    url = schema.register_url(schema.default_location() if where is None else where)
    return Register(url)


def _now() -> dt.datetime:
    """Now, in UTC without a zone, as the tables store it."""
    return dt.datetime.now(UTC).replace(tzinfo=None)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@functools.lru_cache(maxsize=None)
def _version_of(distribution: str) -> str:
    """The installed version of ``distribution`` (read once per process: reading it costs more than
    writing a record)."""
    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def _a_date(value, what: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise RegisterError(f"{what}: {value!r} is not a date (write 2024-05-08)",
                            zh=f"{what}：{value!r} 不是日期（请写成 2024-05-08）") from None


def _json(value, what: str, what_zh: str) -> str:
    if not isinstance(value, Mapping):
        raise RegisterError(f"{what} must be a mapping of names to values, not {type(value).__name__}",
                            zh=f"{what_zh}必须是名称到值的映射")
    try:
        return canonical_json(dict(value))
    except (TypeError, ValueError) as exc:
        raise RegisterError(f"{what} cannot be stored: {exc}", zh=f"{what_zh}无法保存：{exc}") from None


def _loads(text: str | None):
    return None if text is None else json.loads(text)


class Register:
    """A case register (see the module's docstring); open one with :func:`open_register`.

    Use it as a context manager, or call :meth:`close`. One object may be shared by threads.
    """

    def __init__(self, url: sa.URL):
        self.url = url
        self.where = schema.describe(url)
        self.backend = url.get_backend_name()
        self._engine = schema.connect(url)
        self._writer = self._engine.execution_options(policykb_write=True)
        try:
            with self._failing("open", "打开", write=False):
                schema.migrate(self._engine)
        except BaseException:
            self._engine.dispose()
            raise

    # ----------------------------------------------------------------------- plumbing

    def __enter__(self) -> "Register":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Register {self.where}>"

    def close(self) -> None:
        """Close every connection (the register can be opened again)."""
        self._engine.dispose()

    def forget_inherited_connections(self) -> None:
        """In a process started by ``fork``: let go of the connections inherited from the parent
        without closing them (they are the parent's; SQLite forbids using them across a fork)."""
        self._engine.dispose(close=False)

    @contextlib.contextmanager
    def _failing(self, action: str, action_zh: str, write: bool = True) -> Iterator[None]:
        """Any database failure inside, as one :class:`RegisterError` line."""
        try:
            yield
        except sa.exc.SQLAlchemyError as exc:
            reason, reason_zh = _reason(exc)
            tail, tail_zh = ("; nothing was written", "；未写入任何内容") if write else ("", "")
            raise RegisterError(f"cannot {action} the register {self.where}: {reason}{tail}",
                                zh=f"无法{action_zh}案件登记簿 {self.where}：{reason_zh}{tail_zh}") from None

    @contextlib.contextmanager
    def _write(self, action: str = "write to", action_zh: str = "写入") -> Iterator[sa.Connection]:
        with self._failing(action, action_zh), self._writer.begin() as connection:
            yield connection

    @contextlib.contextmanager
    def _read(self, isolation: str | None = None) -> Iterator[sa.Connection]:
        engine = self._engine
        if isolation and self.backend == "postgresql":
            engine = engine.execution_options(isolation_level=isolation)
        with self._failing("read", "读取", write=False), engine.begin() as connection:
            yield connection

    #: A write and a read transaction, for a room keeping its tables here (engine.accounts).
    writing, reading = _write, _read

    # ----------------------------------------------------------------------- cases

    @staticmethod
    def _case(row) -> Case:
        return Case(id=row.id, name=row.name, notes=row.notes, profile=_loads(row.profile_json),
                    version=row.version, created_at=_utc(row.created_at), updated_at=_utc(row.updated_at),
                    erased=bool(row.erased), created_by=row.created_by)

    def _case_row(self, connection: sa.Connection, ref):
        """The row of the case ``ref`` (a number, or an exact name; a name of digits that no case
        has is read as a number)."""
        if isinstance(ref, bool) or not isinstance(ref, (int, str)):
            raise CaseNotFound(ref)
        if isinstance(ref, str):
            rows = connection.execute(_CASE_BY_NAME, {"case_name": ref}).all()
            if len(rows) == 1:
                return rows[0]
            if len(rows) > 1:
                numbers = ", ".join(str(row.id) for row in rows)
                raise RegisterError(f"{len(rows)} cases are named '{ref}' (numbers {numbers}): give the number",
                                    zh=f"有 {len(rows)} 个案件名为“{ref}”（编号 {numbers}）：请给出编号")
            if not ref.strip().isdigit():
                names = connection.execute(sa.select(cases.c.name).where(cases.c.name.is_not(None))).scalars()
                raise CaseNotFound(ref, nearest(ref, names))
            ref = int(ref.strip())
        row = connection.execute(_CASE_BY_ID, {"case_id": ref}).first()
        if row is None:
            raise CaseNotFound(ref)
        return row

    def add_case(self, name: str | None, profile: Mapping, notes: str = "", by: str = "") -> Case:
        """Save a new case (version 1); its profile is also kept as the first :class:`ProfileEdit`."""
        text = _json(profile, "the profile", "企业信息")
        digest, now = sha256_text(text), _now()
        with self._write() as connection:
            case_id = connection.execute(_INSERT_CASE, dict(
                name=name or None, notes=notes or "", profile_json=text, profile_sha256=digest, version=1,
                created_at=now, updated_at=now, created_by=by or "", erased=False)).inserted_primary_key[0]
            connection.execute(_INSERT_EDIT, dict(
                case_id=case_id, version=1, profile_json=text, profile_sha256=digest, edited_at=now,
                edited_by=by or "", note="added"))
            return self._case(self._case_row(connection, case_id))

    def add_cases(self, entries: Iterable[tuple], by: str = "") -> list[int]:
        """Save many new cases in one transaction — all of them, or none (a full disk leaves no
        half import): each entry ``(name, profile)`` or ``(name, profile, notes)``, as
        :meth:`add_case` takes them. Their numbers, in order."""
        rows, now = [], _now()
        for name, profile, *notes in entries:
            text = _json(profile, "the profile", "企业信息")
            rows.append((name or None, notes[0] if notes else "", text, sha256_text(text)))
        added = []
        with self._write() as connection:
            for name, notes, text, digest in rows:
                case_id = connection.execute(_INSERT_CASE, dict(
                    name=name, notes=notes, profile_json=text, profile_sha256=digest, version=1, created_at=now,
                    updated_at=now, created_by=by or "", erased=False)).inserted_primary_key[0]
                connection.execute(_INSERT_EDIT, dict(case_id=case_id, version=1, profile_json=text,
                                                      profile_sha256=digest, edited_at=now, edited_by=by or "",
                                                      note="added"))
                added.append(case_id)
        return added

    def case(self, ref: int | str) -> Case:
        """The case numbered ``ref``, or named exactly ``ref``.

        Raises
        ------
        CaseNotFound
            With the nearest name as ``suggestion``.
        """
        with self._read() as connection:
            return self._case(self._case_row(connection, ref))

    def cases(self, search: str | None = None, benefit: str | None = None, status: str | None = None,
              since=None, until=None, include_erased: bool = False) -> list[Case]:
        """The cases, by number: ``search`` in the name (any case of letters); ``benefit`` and/or
        ``status``: the case's latest record gives that benefit (any conclusion's id) that status
        (granted, denied, undetermined, superseded), or some status / some benefit when only one is
        given; ``since``/``until``: last changed on or after / on or before these dates."""
        query = sa.select(cases).order_by(cases.c.id)
        if not include_erased:
            query = query.where(cases.c.erased.is_(False))
        start, end = _a_date(since, "since"), _a_date(until, "until")
        if start:
            query = query.where(cases.c.updated_at >= dt.datetime.combine(start, dt.time()))
        if end:
            query = query.where(cases.c.updated_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
        with self._read() as connection:
            found = [self._case(row) for row in connection.execute(query)]
            if search:
                wanted = search.casefold()
                found = [case for case in found if case.name and wanted in case.name.casefold()]
            if benefit or status:
                latest = (sa.select(records.c.case_id, sa.func.max(records.c.seq).label("seq"))
                          .group_by(records.c.case_id).subquery())
                results = dict(connection.execute(
                    sa.select(records.c.case_id, records.c.result_json)
                    .join(latest, records.c.seq == latest.c.seq)).all())
                found = [case for case in found
                         if _has_status(_loads(results.get(case.id)), benefit, status)]
        return found

    def edit_case(self, ref: int | str, profile: Mapping | None, expected_version: int, by: str = "",
                  note: str = "", name: str | None = None, notes: str | None = None) -> Case:
        """Change a case's profile (None: keep it) and, when given, its name and notes, if it is
        still at ``expected_version``; the new version is kept as a :class:`ProfileEdit`.

        Raises
        ------
        ConflictError
            When someone changed the case since ``expected_version`` was read.
        RegisterError
            When the case was erased.
        """
        text = None if profile is None else _json(profile, "the profile", "企业信息")
        now = _now()
        with self._write() as connection:
            row = self._case_row(connection, ref)
            if row.erased:
                raise _erased(row.id)
            text = row.profile_json if text is None else text
            digest = sha256_text(text)
            changes = dict(profile_json=text, profile_sha256=digest, version=cases.c.version + 1, updated_at=now)
            if name is not None:
                changes["name"] = name or None
            if notes is not None:
                changes["notes"] = notes
            done = connection.execute(cases.update().where(
                cases.c.id == row.id, cases.c.version == expected_version, cases.c.erased.is_(False))
                .values(**changes))
            if done.rowcount != 1:
                stored = connection.execute(sa.select(cases.c.version, cases.c.erased)
                                            .where(cases.c.id == row.id)).one()
                if stored.erased:
                    raise _erased(row.id)
                raise ConflictError(row.id, stored.version, expected_version)
            connection.execute(profile_edits.insert().values(
                case_id=row.id, version=expected_version + 1, profile_json=text, profile_sha256=digest,
                edited_at=now, edited_by=by or "", note=note or ""))
            return self._case(self._case_row(connection, row.id))

    def edits(self, ref: int | str) -> list[ProfileEdit]:
        """Every version of the case's profile, the first (when it was added) first."""
        with self._read() as connection:
            row = self._case_row(connection, ref)
            return [ProfileEdit(case_id=e.case_id, version=e.version, profile=_loads(e.profile_json),
                                profile_sha256=e.profile_sha256, edited_at=_utc(e.edited_at),
                                edited_by=e.edited_by, note=e.note)
                    for e in connection.execute(sa.select(profile_edits).where(profile_edits.c.case_id == row.id)
                                                .order_by(profile_edits.c.version))]

    # ----------------------------------------------------------------------- records

    def record(self, ref: int | str, result: Mapping, *, kb_hash: str, kb_version: str, as_of=None,
               by: str = "", note: str = "", profile: Mapping | None = None) -> Record:
        """Append a decision record: ``result`` (the whole result, as :func:`engine.evaluate`
        returns it) for the case's profile (``profile``: the one evaluated, by default the case's
        current one) under the knowledge base ``kb_hash`` / ``kb_version``, judged at ``as_of``,
        by ``by``, because ``note``. One transaction: the whole record or nothing."""
        result_text = _json(result, "the result", "结果")
        profile_text = None if profile is None else _json(profile, "the profile", "企业信息")
        day = _a_date(as_of, "as of")
        with self._write("record a decision in", "记录决定到") as connection:
            head = connection.execute(self._head_query(lock=True)).one()
            row = self._case_row(connection, ref)
            if row.erased:
                raise _erased(row.id)
            profile_text = row.profile_json if profile_text is None else profile_text
            fields = dict(
                seq=head.seq + 1, case_id=row.id, profile_sha256=sha256_text(profile_text),
                kb_hash=str(kb_hash), kb_version=str(kb_version), policykb_version=_version_of("policykb"),
                durable_rules_version=_version_of("durable-rules"), as_of=day, recorded_at=_now(),
                recorded_by=by or "", note=note or "", result_sha256=sha256_text(result_text),
                prev_hash=head.hash)
            fields["record_hash"] = record_hash(fields)
            connection.execute(_INSERT_RECORD, dict(fields, profile_json=profile_text, result_json=result_text))
            connection.execute(_MOVE_HEAD, {"head_seq": fields["seq"], "head_hash": fields["record_hash"]})
        return self._record(dict(fields, profile_json=profile_text, result_json=result_text), None)

    def record_evaluation(self, ref: int | str, kb=None, *, as_of=None, by: str = "", note: str = "") -> Record:
        """Evaluate the case's current profile under ``kb`` (a loaded knowledge base, its folder, or
        None for the bundled one) with the engine's :func:`~engine.inferring.evaluation.evaluate`,
        and record it: ``kb_hash`` is the knowledge base's content hash (``kb.version``, a digest
        of every file), ``kb_version`` the documents it encodes; ``as_of`` the date the evaluation
        judged at (``as_of``, else the profile's application date, else today, as the result says)."""
        from engine.inferring.evaluation import evaluate, knowledge_base
        base = knowledge_base(kb)
        case = self.case(ref)
        if case.erased:
            raise _erased(case.id)
        result = evaluate(case.profile, as_of=as_of, kb=base)
        return self.record(case.id, result, kb_hash=base.version, kb_version=", ".join(base.documents),
                           as_of=as_of or result.get("as_of"), by=by, note=note, profile=case.profile)

    def _head_query(self, lock: bool):
        return _HEAD_LOCKED if lock and self.backend == "postgresql" else _HEAD

    @staticmethod
    def _record(row: Mapping, reviewed_by: str | None) -> Record:
        return Record(seq=row["seq"], case_id=row["case_id"], profile=_loads(row["profile_json"]),
                      profile_sha256=row["profile_sha256"], kb_hash=row["kb_hash"], kb_version=row["kb_version"],
                      policykb_version=row["policykb_version"], durable_rules_version=row["durable_rules_version"],
                      as_of=row["as_of"], recorded_at=_utc(row["recorded_at"]), recorded_by=row["recorded_by"],
                      note=row["note"], result=_loads(row["result_json"]), result_sha256=row["result_sha256"],
                      prev_hash=row["prev_hash"], record_hash=row["record_hash"], reviewed_by=reviewed_by)

    def records(self, ref: int | str | None = None) -> list[Record]:
        """The records (of the case ``ref``, or all), in chain order."""
        with self._read() as connection:
            query = sa.select(records).order_by(records.c.seq)
            if ref is not None:
                query = query.where(records.c.case_id == self._case_row(connection, ref).id)
            rows = [row._mapping for row in connection.execute(query)]
            marks = self._reviews(connection, [row["seq"] for row in rows] if ref is not None else None)
            return [self._record(row, marks.get(row["seq"])) for row in rows]

    @staticmethod
    def _reviews(connection: sa.Connection, seqs: list[int] | None) -> dict[int, str]:
        query = sa.select(reviews.c.seq, reviews.c.reviewed_by).order_by(reviews.c.id)
        if seqs is not None:
            if not seqs:
                return {}
            query = query.where(reviews.c.seq.in_(seqs))
        return {seq: who for seq, who in connection.execute(query)}   # the latest mark wins

    def case_states(self, include_erased: bool = True) -> list[tuple[int, str | None, bool, bool]]:
        """Every case as ``(number, name, erased, has a profile)``, by number — without reading
        the profiles (what a replay chooses from)."""
        query = (sa.select(cases.c.id, cases.c.name, cases.c.erased, cases.c.profile_json.is_not(None))
                 .order_by(cases.c.id))
        if not include_erased:
            query = query.where(cases.c.erased.is_(False))
        with self._read() as connection:
            return [(i, name, bool(erased), bool(has)) for i, name, erased, has in connection.execute(query)]

    def latest(self, case_ids: Iterable[int]) -> list[tuple]:
        """Each case of ``case_ids`` that is not erased and has a profile, by number, as
        ``(number, name, profile, fields, result)``: ``fields`` the latest record's ``seq``,
        ``kb_hash``, ``as_of``, ``profile_sha256`` and ``policykb_version`` and ``result`` its
        stored result, or both None when the case was never recorded. One query (a replay's
        worker reads its own cases with it)."""
        ids = sorted(set(case_ids))
        if not ids:
            return []
        with self._read() as connection:
            rows = connection.execute(_LATEST, {"ids": ids}).all()
        found = []
        for row in rows:
            fields = None if row.seq is None else {
                "seq": row.seq, "kb_hash": row.kb_hash, "as_of": row.as_of, "profile_sha256": row.profile_sha256,
                "policykb_version": row.policykb_version}
            found.append((row.id, row.name, _loads(row.profile_json), fields, _loads(row.result_json)))
        return found

    def mark_reviewed(self, seq: int, by: str) -> Record:
        """Mark record ``seq`` as reviewed by ``by``. The mark is a row of its own (``reviews``,
        append-only: a later mark is added, none is changed) and is outside the hash chain: a
        record's hash is fixed when it is written, and a review comes after."""
        if not by:
            raise RegisterError("say who reviewed the record", zh="请说明由谁审核了该记录")
        with self._write() as connection:
            row = connection.execute(sa.select(records).where(records.c.seq == seq)).first()
            if row is None:
                raise RegisterError(f"no record {seq}", zh=f"没有第 {seq} 号记录")
            connection.execute(reviews.insert().values(seq=seq, reviewed_by=by, reviewed_at=_now()))
            return self._record(row._mapping, by)

    # ----------------------------------------------------------------------- verification

    def verify(self) -> Verification:
        """Recompute the chain from the first record (docs/register.md, "Verification"); name the
        first record that was altered, removed or reordered."""
        with self._read("REPEATABLE READ") as connection:
            checked, previous = 0, GENESIS
            for row in connection.execute(sa.select(records).order_by(records.c.seq)
                                          .execution_options(yield_per=500)):
                row = row._mapping
                seq, expected = row["seq"], checked + 1
                if seq != expected:
                    if expected == 1:
                        problem = f"record 1 was removed: the chain starts at record {seq}"
                    else:
                        gap = f"record {expected}" if seq == expected + 1 else f"records {expected}–{seq - 1}"
                        problem = (f"{gap} {'was' if seq == expected + 1 else 'were'} removed: "
                                   f"record {seq} follows record {expected - 1}")
                    return Verification(False, checked, expected, problem)
                problem = self._check(connection, row, previous)
                if problem:
                    bad, text = problem
                    return Verification(False, checked, bad, text)
                previous = row["record_hash"]
                checked += 1
            head = connection.execute(self._head_query(lock=False)).one()
            if head.seq > checked:
                gap = f"record {checked + 1}" if head.seq == checked + 1 else f"records {checked + 1}–{head.seq}"
                return Verification(False, checked, checked + 1,
                                    f"{gap} {'was' if head.seq == checked + 1 else 'were'} removed: the chain "
                                    f"ends at record {head.seq}, the register holds {checked}")
            if head.seq < checked:
                return Verification(False, checked, head.seq + 1,
                                    f"record {head.seq + 1} was not added by the register: the chain ends at "
                                    f"record {head.seq}")
            if head.hash != previous:
                return Verification(False, checked, checked,
                                    f"record {checked} was altered: its hash is not the one the chain ends with")
        return Verification(True, checked, None, None)

    @staticmethod
    def _check(connection: sa.Connection, row: Mapping, previous: str) -> tuple[int, str] | None:
        """What is wrong with record ``row`` following a record whose hash is ``previous``, or None."""
        seq = row["seq"]
        fields = {name: row[name] for name in HASHED_FIELDS}
        if record_hash(fields) != row["record_hash"]:
            # A record moved to another place still hashes right with the number it was given.
            top = connection.execute(sa.select(sa.func.max(records.c.seq))).scalar() or seq
            for place in range(1, top + 2):
                if place != seq and record_hash(dict(fields, seq=place)) == row["record_hash"]:
                    return seq, (f"records were reordered: record {seq} holds what was recorded as "
                                 f"record {place}")
            return seq, f"record {seq} was altered: its hash does not match its contents"
        if row["prev_hash"] != previous:
            # Its own hash holds, so the one before it was rewritten, hash and all.
            return seq - 1, (f"record {seq - 1} was altered: record {seq} was linked to another hash")
        for part, what in (("profile", "profile"), ("result", "result")):
            text = row[f"{part}_json"]
            if text is not None and sha256_text(text) != row[f"{part}_sha256"]:
                return seq, f"record {seq} was altered: its {what} does not match its hash"
        return None

    # ----------------------------------------------------------------------- erasure

    def erase(self, ref: int | str, by: str = "", reason: str = "") -> Case:
        """Erase a case's data on request: its name, notes and profile, the profile of each of its
        edits, and the profile and result of each of its records go; every hash stays, so the
        chain still verifies. A row of ``erasures`` says who erased it, when and why. Erasing an
        erased case again changes nothing."""
        now = _now()
        with self._write("erase a case in", "删除案件于") as connection:
            row = self._case_row(connection, ref)
            if row.erased:
                return self._case(row)
            connection.execute(cases.update().where(cases.c.id == row.id).values(
                name=None, notes="", profile_json=None, erased=True, updated_at=now, version=cases.c.version + 1))
            connection.execute(profile_edits.update().where(profile_edits.c.case_id == row.id)
                               .values(profile_json=None))
            connection.execute(records.update().where(records.c.case_id == row.id)
                               .values(profile_json=None, result_json=None))
            connection.execute(erasures.insert().values(case_id=row.id, erased_at=now, erased_by=by or "",
                                                        reason=reason or ""))
            case = self._case(self._case_row(connection, row.id))
        self._scrub()
        return case

    def erasures(self) -> list[dict]:
        """Every erasure: ``case_id``, ``erased_at``, ``erased_by``, ``reason``, oldest first."""
        with self._read() as connection:
            return [dict(case_id=e.case_id, erased_at=_utc(e.erased_at), erased_by=e.erased_by, reason=e.reason)
                    for e in connection.execute(sa.select(erasures).order_by(erasures.c.id))]

    def _scrub(self) -> None:
        """Let erased text leave the files too, as far as the back end allows: SQLite zeroes freed
        space (``secure_delete``) and the write-ahead log is checkpointed and emptied; PostgreSQL's
        ``VACUUM`` frees the old row versions for reuse (it does not overwrite them at once)."""
        try:
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                if self.backend == "sqlite":
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                else:
                    connection.exec_driver_sql("VACUUM cases, profile_edits, records")
        except sa.exc.SQLAlchemyError:
            pass   # the erasure itself is committed; the files are cleaned at the next checkpoint/vacuum

    # ----------------------------------------------------------------------- export

    def export(self, path, kind: str | None = None) -> int:
        """Write every case and every record to ``path`` as JSON Lines, CSV or XLSX (``kind``, else
        the suffix), text cells safe from spreadsheet formulas; returns how many rows were written."""
        from engine.register.exporting import export
        return export(self.cases(include_erased=True), self.records(), path, kind)


def _erased(case_id: int) -> RegisterError:
    return RegisterError(f"case {case_id} was erased: it can no longer be changed or recorded",
                         zh=f"案件 {case_id} 已被删除：不能再修改或记录")


def _has_status(result: dict | None, benefit: str | None, status: str | None) -> bool:
    """Whether a result gives ``benefit`` the status ``status`` (either may be None: any)."""
    if not isinstance(result, dict):
        return False
    statuses: dict[str, str] = {}
    listed = result.get("benefits")
    if isinstance(listed, list):
        statuses.update({b["id"]: b["status"] for b in listed
                         if isinstance(b, dict) and "id" in b and isinstance(b.get("status"), str)})
    elif isinstance(listed, dict):
        for key, value in listed.items():
            if isinstance(value, dict) and isinstance(value.get("status"), str):
                statuses[key] = value["status"]
            elif isinstance(value, str):
                statuses[key] = value
    if isinstance(result.get("status"), dict):   # engine.evaluate: every conclusion's status
        statuses.update({k: v for k, v in result["status"].items() if isinstance(v, str)})
    for superseded in result.get("superseded") or []:
        key = superseded.get("id") if isinstance(superseded, dict) else superseded
        if isinstance(key, str) and statuses.get(key) in (None, "granted"):
            statuses[key] = "superseded"
    if benefit is not None:
        return benefit in statuses and (status is None or statuses[benefit] == status)
    return status in statuses.values()
