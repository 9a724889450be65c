"""Canonical JSON and the hashes of the register: what is hashed, exactly.

Every profile and result is stored as its canonical JSON — ``json.dumps(x, ensure_ascii=False,
sort_keys=True, separators=(",", ":"))``, dates and times as ISO text — and the sha256 of that
text's UTF-8 bytes. A record's own hash covers every field of the record except the hash itself
and the review marks, with the profile and the result represented only by their sha256: erasing
the texts leaves every hash computable, so the chain still verifies after an erasure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

#: The hash the first record links to.
GENESIS = "0" * 64

#: The fields of a record its hash covers, in the order docs/register.md lists them.
HASHED_FIELDS = ("seq", "case_id", "profile_sha256", "kb_hash", "kb_version", "policykb_version",
                 "durable_rules_version", "as_of", "recorded_at", "recorded_by", "note", "result_sha256",
                 "prev_hash")


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"a {type(value).__name__} cannot be stored as JSON")


def canonical_json(value) -> str:
    """The canonical JSON text of ``value`` (dates as ISO text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain,
                      allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def timestamp(moment: dt.datetime) -> str:
    """A UTC time as the chain writes it: ``2024-05-08T09:30:00.123456Z``, always microseconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(fields: dict) -> str:
    """The hash of a record: sha256 of the canonical JSON of :data:`HASHED_FIELDS`."""
    body = {}
    for name in HASHED_FIELDS:
        value = fields[name]
        if name == "recorded_at":
            value = timestamp(value)
        elif name == "as_of" and value is not None:
            value = value.isoformat()
        body[name] = value
    return sha256_text(canonical_json(body))
