"""Errors raised by policykb.

One base class, :class:`PolicyKBError`, split by when the problem is found:

- :class:`KnowledgeBaseError` — a ``kb/`` file is malformed or inconsistent (load time);
- :class:`ProfileError` — an enterprise profile is malformed (input time);
- :class:`EvaluationError` — the inference engine failed while evaluating (run time);
- :class:`InstallationError` — the installation cannot run here (a dependency built wrongly),
  with the command that fixes it; like bad input, not an internal error.

Every error carries structured fields (``file``, ``line``, ``column``, ``rule_id``,
``suggestion``, ``allowed``, and ``fact`` — the fact it is about) so that the CLI can print one
clear line and scripts can read the parts; :meth:`PolicyKBError.text` gives the line in Chinese
or English (``zh`` holds the Chinese message where one is written).
"""

from __future__ import annotations

import difflib
from typing import Iterable


class PolicyKBError(Exception):
    """Base class of every error policykb raises on purpose."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: int | None = None, rule_id: str | None = None,
                 suggestion: str | None = None, allowed: Iterable[str] | None = None,
                 zh: str | None = None, fact: str | None = None):
        super().__init__(message)
        self.message = message
        self.zh = zh            # the message in Chinese, where one is written (else English is shown)
        self.fact = fact        # the fact the error is about, for a page to show it at that field
        self.file = file
        self.line = line
        self.column = column
        self.rule_id = rule_id
        self.suggestion = suggestion
        self.allowed = list(allowed) if allowed is not None else None
        #: Further mistakes of the same input, found beside this one (each a PolicyKBError):
        #: the command line prints each on a line of its own, so all are fixed in one go.
        self.also: list[PolicyKBError] = []

    @property
    def location(self) -> str:
        """``file:line:column`` as far as it is known, or an empty string."""
        parts = [str(p) for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(parts)

    def __str__(self) -> str:
        return self.text("en")

    def text(self, lang: str = "en") -> str:
        """The whole message as one line in ``lang`` (``zh`` or ``en``): where, what, the nearest
        known name and what would be valid. A message with no Chinese text is shown in English."""
        zh = lang == "zh" and self.zh is not None
        text = self.zh if zh else self.message
        if self.rule_id:
            text = f"规则 {self.rule_id}：{text}" if zh else f"rule {self.rule_id}: {text}"
        if self.location:
            text = f"{self.location}: {text}"
        if self.suggestion:
            text += f"（是否想写 '{self.suggestion}'？）" if zh else f" (did you mean '{self.suggestion}'?)"
        if self.allowed:
            text += ("；可填：" if zh else "; allowed: ") + ", ".join(map(str, self.allowed))
        return text

    def to_dict(self) -> dict:
        return {
            "error": type(self).__name__, "message": self.message, "file": self.file,
            "line": self.line, "column": self.column, "rule_id": self.rule_id,
            "suggestion": self.suggestion, "allowed": self.allowed,
        }


class KnowledgeBaseError(PolicyKBError):
    """A knowledge-base file is malformed or inconsistent."""


class ProfileError(PolicyKBError):
    """An enterprise profile (or a command-line value) is malformed."""


class EvaluationError(PolicyKBError):
    """The inference engine failed while evaluating a profile; an internal error."""


class InstallationError(PolicyKBError):
    """The installation cannot run here: a dependency does not load; the message says what to run."""


def nearest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``name``, for "did you mean" suggestions."""
    matches = difflib.get_close_matches(str(name), sorted(set(map(str, known))), n=1, cutoff=0.6)
    return matches[0] if matches else None


#: The Chinese words for the reasons a file cannot be written, by errno name.
_WRITE_REASONS_ZH = {"ENOSPC": "磁盘空间不足", "EFBIG": "文件超过了允许的大小", "EROFS": "文件系统是只读的",
                     "EACCES": "没有写入权限", "EPERM": "不允许写入", "EDQUOT": "超出了磁盘配额",
                     "ENOENT": "所在的文件夹不存在", "EISDIR": "这是一个文件夹", "ENOTDIR": "路径中有一项不是文件夹",
                     "EIO": "输入/输出错误", "ENAMETOOLONG": "文件名太长"}


def write_problem(path, exc: OSError, what: str | None = None, path_zh: str | None = None) -> ProfileError:
    """The one-line refusal of an output that cannot be written (a full disk, a file too large,
    a read-only or forbidden folder): ``cannot write PATH: No space left on device``, in English
    and Chinese; ``what`` names the output where the path alone does not (``--reports``),
    ``path_zh`` the output in Chinese where it is words, not a path."""
    import errno
    reason = exc.strerror or "the system refused the write"
    reason_zh = _WRITE_REASONS_ZH.get(errno.errorcode.get(exc.errno or 0, ""), reason)
    where, where_zh = (f"{what}: ", f"{what}：") if what else ("", "")
    return ProfileError(f"{where}cannot write {path}: {reason}",
                        zh=f"{where_zh}无法写入 {path_zh or path}：{reason_zh}")
