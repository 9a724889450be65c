"""Why a database operation failed, in English and Chinese: SQLite's messages and PostgreSQL's
SQLSTATEs worded for the person who ran the command (a full disk, a read-only file, a lock held too
long, a refused password), never a driver's class name."""

from __future__ import annotations

import sqlalchemy as sa

from engine.register import schema


#: Words of SQLite's messages and of PostgreSQL's SQLSTATEs → why, in English and Chinese.
_SQLITE_REASONS = (
    ("database or disk is full", "the disk is full (or the file has reached the size it may have)",
     "磁盘已满（或文件已达到允许的大小）"),
    ("readonly", "the file is read-only", "文件是只读的"),
    ("unable to open database file", "the file cannot be created or opened", "无法创建或打开该文件"),
    ("file is not a database", "the file is not a register (not an SQLite database)",
     "该文件不是案件登记簿（不是 SQLite 数据库）"),
    ("database is locked", f"another program has kept it locked for more than {schema.BUSY_SECONDS} seconds",
     f"另一个程序锁定它已超过 {schema.BUSY_SECONDS} 秒"),
    # A write refused part-way: a file-size limit (EFBIG), or a disk failing.
    ("disk i/o error", "the file could not be written (it may have reached the size it may have, or the "
                       "disk is full or failing)", "文件无法写入（可能已达到允许的大小，或磁盘已满或出现故障）"),
)
_POSTGRES_REASONS = {
    "53100": ("the server's disk is full", "服务器磁盘已满"),
    "25006": ("the database is read-only", "数据库是只读的"),
    "28P01": ("the server refused the password", "服务器拒绝了密码"),
    "28000": ("the server refused the user", "服务器拒绝了该用户"),
    "3D000": ("the database does not exist", "数据库不存在"),
    "42501": ("the user may not do that", "该用户没有权限"),
}


def worded(exc: sa.exc.SQLAlchemyError) -> tuple[str, str]:
    original = getattr(exc, "orig", None) or exc
    text = " ".join(str(original).split()) or type(original).__name__
    state = getattr(original, "sqlstate", None)
    if state in _POSTGRES_REASONS:
        return _POSTGRES_REASONS[state]
    lowered = text.lower()
    for words, reason, reason_zh in _SQLITE_REASONS:
        if words in lowered:
            return reason, reason_zh
    if isinstance(exc, sa.exc.OperationalError) and "connection" in lowered:
        first = str(original).strip().splitlines()[0] if str(original).strip() else text
        return f"cannot reach the server ({first})", f"无法连接服务器（{first}）"
    return text, text
