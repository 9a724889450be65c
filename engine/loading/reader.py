"""Reading one YAML mapping of a knowledge-base file with located errors (:class:`Reader`), and
the text form quotes are matched in (:func:`normalize`)."""

from __future__ import annotations

import re
from typing import Any

from engine.errors import KnowledgeBaseError, nearest
from engine.loading.yamlio import Mapping
from engine.model import Where


#: The longest id a knowledge base may give a rule, fact, conclusion, benefit or sub-policy:
#: ids are names people read, cite and type, and they are printed in every result.
MAX_ID_LENGTH = 100


class Reader:
    """Checks one YAML mapping's keys and values, raising located errors."""

    def __init__(self, data: Any, what: str, file: str, line: int | None = None):
        self.file = getattr(data, "file", None) or file
        self.line = getattr(data, "line", None) or line
        self.what = what
        if not isinstance(data, dict):
            raise KnowledgeBaseError(f"{what} must be a mapping, not {kind_of(data)}",
                                     file=self.file, line=self.line)
        self.data = data

    def error(self, message, key=None, **extra) -> KnowledgeBaseError:
        mapping = isinstance(self.data, Mapping)
        line = self.data.line_of(key) if (key is not None and mapping) else self.line
        column = (self.data.column_of(key) if key is not None else self.data.column) if mapping else None
        return KnowledgeBaseError(message, file=self.file, line=line, column=column, **extra)

    def keys(self, required: tuple, optional: tuple = ()):
        allowed = required + optional
        for key in self.data:
            if key not in allowed:
                raise self.error(f"unknown key '{key}' in {self.what}", key,
                                 suggestion=nearest(key, allowed), allowed=allowed)
        for key in required:
            if key not in self.data:
                raise self.error(f"{self.what} has no '{key}'")

    def text(self, key, default=None, required=True) -> str:
        value = self.data.get(key, default)
        if value is None and not required:
            return default
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error(f"'{key}' of {self.what} must be non-empty text", key)
        return value.strip()

    def ident(self, key="id") -> str:
        """An id (non-empty text) of at most :data:`MAX_ID_LENGTH` characters."""
        value = self.text(key)
        if len(value) > MAX_ID_LENGTH:
            raise self.error(f"the '{key}' of {self.what} is {len(value):,} characters long ('{value[:30]}…'): "
                             f"ids are at most {MAX_ID_LENGTH} characters", key,
                             zh=f"{self.what} 的 '{key}' 有 {len(value):,} 个字符（'{value[:30]}…'）："
                                f"id 最多 {MAX_ID_LENGTH} 个字符")
        return value

    def list(self, key, default=None) -> list:
        value = self.data.get(key, default)
        if value is None:
            value = []
        if not isinstance(value, list):
            raise self.error(f"'{key}' of {self.what} must be a list", key)
        return value

    def where(self) -> Where:
        return Where(self.file, self.line, getattr(self.data, "column", None))


def kind_of(value) -> str:
    """What a value is, in a person's words (never a Python type name)."""
    import datetime
    if isinstance(value, datetime.date):
        return "a date"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number", type(None): "nothing"}.get(type(value), "a value of another kind")


def normalize(text: str) -> str:
    """Text for quote matching: no white space, full-width punctuation as in the document."""
    text = re.sub(r"\s+", "", text)
    for half, full in ((",", "，"), (";", "；"), (":", "："), ("(", "（"), (")", "）")):
        text = text.replace(half, full)
    return text


def first_difference(text: str, original: str, names=("the text", "the published text")) -> str:
    """Where ``text`` stops matching ``original``, both shown from the first character that
    differs: the longest start of ``text`` found in ``original``, then what each has after it."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if text[:middle] in original:
            low = middle
        else:
            high = middle - 1
    if low == 0:
        return (f"not even its first character is in {names[1]}: {names[0]} has '{text[:16]}…', "
                f"{names[1]} '{original[:16]}…'")
    at = original.find(text[:low]) + low
    return (f"they agree up to '…{text[max(0, low - 12):low]}' (character {low + 1} of {names[0]} is the first "
            f"that differs), then {names[0]} has '{text[low:low + 12]}…' where {names[1]} has "
            f"'{original[at:at + 12]}…'")
