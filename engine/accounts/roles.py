"""The roles of a shared workbench, in order: each can do what the ones before it can, and more.

=========  =====================================================================
viewer     read cases and decision records; evaluate, explain, compare (nothing is kept)
analyst    add and edit cases, record decisions, run batches
reviewer   an analyst who can also mark a decision reviewed
admin      everything, and the accounts
=========  =====================================================================
"""

from __future__ import annotations

ROLES = ("viewer", "analyst", "reviewer", "admin")

#: Each role's name as people read it.
ROLE_WORDS = {"viewer": {"zh": "查看者", "en": "viewer"}, "analyst": {"zh": "分析员", "en": "analyst"},
              "reviewer": {"zh": "审核员", "en": "reviewer"}, "admin": {"zh": "管理员", "en": "administrator"}}


def allows(role: str | None, needed: str) -> bool:
    """Whether an account of ``role`` may do what needs ``needed`` (an unknown role: nothing)."""
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def role_label(role: str, lang: str = "zh") -> str:
    """The role as people read it, the id after it: ``分析员（analyst）``."""
    word = ROLE_WORDS.get(role, {}).get(lang, role)
    if word == role:
        return role
    return f"{word}（{role}）" if lang == "zh" else f"{word} ({role})"
