"""The register's errors: one line each, in English and Chinese, like every policykb error."""

from __future__ import annotations

from engine.errors import PolicyKBError


class RegisterError(PolicyKBError):
    """The register cannot do what was asked: it cannot be created, opened or written (a folder
    that is a file, a full disk, a read-only file, a server that does not answer), or the request
    does not fit what it holds (an erased case). Nothing was written when it is raised."""


class ConflictError(RegisterError):
    """Optimistic locking: the case was changed by someone else since it was read.

    ``case_id``, ``stored`` (the version in the register) and ``expected`` (the one the caller
    had) say which; the caller reloads the case and applies the change again."""

    def __init__(self, case_id: int, stored: int, expected: int):
        super().__init__(
            f"case {case_id} was changed by someone else (version {stored}, you had {expected}); "
            f"reload it and apply your change again",
            zh=f"案件 {case_id} 已被他人修改（当前版本 {stored}，您的是 {expected}）；请重新载入后再修改一次")
        self.case_id, self.stored, self.expected = case_id, stored, expected


class CaseNotFound(RegisterError):
    """No case has that number or name; ``suggestion`` is the nearest name, if any is near."""

    def __init__(self, ref, suggestion: str | None = None):
        what = f"no case {ref}" if isinstance(ref, int) else f"no case is named '{ref}'"
        what_zh = f"没有编号为 {ref} 的案件" if isinstance(ref, int) else f"没有名为“{ref}”的案件"
        super().__init__(what, zh=what_zh, suggestion=suggestion)
        self.ref = ref
