"""What the register hands out: frozen dataclasses of plain data (no database objects).

Times are UTC (``tzinfo=timezone.utc``); profiles and results are the dicts their canonical JSON
reads back as (dates as ISO text), or None once the case was erased.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Case:
    """A case: an enterprise's profile with a name and notes. ``version`` counts its changes (1 when
    added) and is what :meth:`Register.edit_case` compares; an erased case keeps only its number,
    its times, who added it and its hashes."""
    id: int
    name: str | None
    notes: str
    profile: dict | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    erased: bool
    created_by: str

    def to_dict(self) -> dict:
        return _plain(asdict(self))


@dataclass(frozen=True)
class ProfileEdit:
    """One version of a case's profile: the first (version 1, when the case was added) and each
    edit after it, never overwritten (erasure empties ``profile``, the hash stays)."""
    case_id: int
    version: int
    profile: dict | None
    profile_sha256: str
    edited_at: dt.datetime
    edited_by: str
    note: str

    def to_dict(self) -> dict:
        return _plain(asdict(self))


@dataclass(frozen=True)
class Record:
    """A decision record, number ``seq`` of the chain (docs/register.md says what each field is).
    ``reviewed_by`` is outside the chain: the latest review mark, or None."""
    seq: int
    case_id: int
    profile: dict | None
    profile_sha256: str
    kb_hash: str
    kb_version: str
    policykb_version: str
    durable_rules_version: str
    as_of: dt.date | None
    recorded_at: dt.datetime
    recorded_by: str
    note: str
    result: dict | None
    result_sha256: str
    prev_hash: str
    record_hash: str
    reviewed_by: str | None

    def to_dict(self) -> dict:
        return _plain(asdict(self))


@dataclass(frozen=True)
class Verification:
    """What :meth:`Register.verify` found: ``ok``, how many records it checked, and when not ok the
    number of the first bad record and what is wrong with it, as one sentence."""
    ok: bool
    checked: int
    first_bad: int | None
    problem: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def _plain(value):
    """``value`` with dates and times as ISO text, for JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
