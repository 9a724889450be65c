"""Text that is not text: lone surrogates.

A JSON string may spell ``"\\ud800"``, YAML ``"\\ud800"``, and Python reads a command-line
argument or a file name that is not UTF-8 with ``surrogateescape``: each gives a ``str`` holding
a code point between U+D800 and U+DFFF that is no character. It cannot be written as UTF-8, so
it fails wherever the text is printed, stored or sent on — far from where it came in. It is bad
input, and is refused where it enters: :func:`find_lone_surrogate` says where it is, and
:func:`surrogate_problem` words the refusal in English and Chinese.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
#: How ``repr`` shows a lone surrogate; a cheap test first, since every profile is checked.
_SURROGATE_REPR = re.compile(r"\\ud[89a-f]")


def lone_surrogate(text: str) -> int | None:
    """The position (from 0) of the first lone surrogate in ``text``, or None."""
    found = _SURROGATE.search(text)
    return found.start() if found else None


def find_lone_surrogate(data: Any, where: tuple = ()) -> tuple[tuple, str] | None:
    """The first string in ``data`` (nested dicts, lists, tuples; keys included) holding a lone
    surrogate: its path (keys and indexes) and a printable excerpt; None when there is none."""
    # ``repr`` (C code) escapes every lone surrogate as \udXXX; without one, no walk is needed.
    # A backslash typed before "ud8" merely takes the walk: the walk decides.
    if not _SURROGATE_REPR.search(repr(data)):
        return None
    stack = [(data, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if lone_surrogate(item) is not None:
                return path, shown(item)
        elif isinstance(item, dict):
            for key, value in reversed(list(item.items())):
                if isinstance(key, str) and lone_surrogate(key) is not None:
                    return path + (key,), shown(key)
                stack.append((value, path + (key,)))
        elif isinstance(item, (list, tuple)):
            stack.extend((value, path + (index,)) for index, value in reversed(list(enumerate(item))))
    return None


def shown(text: str, limit: int = 40) -> str:
    """``text`` as it can be printed: each lone surrogate as ``\\udXXX``, at most ``limit`` characters."""
    excerpt = text if len(text) <= limit else text[:limit] + "…"
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", excerpt)


def path_text(path: tuple) -> str:
    """A path from :func:`find_lone_surrogate` as ``profile.name`` or ``cases[2].profile``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{shown(part)}" if out else shown(part))
    return out


def surrogate_problem(where: str, excerpt: str) -> tuple[str, str]:
    """The refusal of a lone surrogate at ``where`` (a field, a file, an argument), in English and Chinese."""
    place_en = f"{where}: " if where else ""
    place_zh = f"{where}：" if where else ""
    return (f"{place_en}the text '{excerpt}' holds a lone surrogate, which is not a character and cannot "
            "be written as UTF-8; send the text as UTF-8 without it",
            f"{place_zh}文本“{excerpt}”含有孤立的代理码位（不是字符，无法写成 UTF-8）；请去掉它，以 UTF-8 发送")


def refuse_in_arguments(values: dict, names: dict) -> None:
    """Refuse a command-line argument holding a lone surrogate (Python reads an argument that is
    not UTF-8 with ``surrogateescape``): ``values`` by destination, ``names`` how each is written
    (``--out``, ``PROFILE``); the message quotes the text around it (a long path's start is no help).

    Raises
    ------
    ProfileError
        For the first such argument, in English and Chinese.
    """
    from engine.errors import ProfileError
    for dest, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            at = lone_surrogate(item) if isinstance(item, str) else None
            if at is not None:
                name, excerpt = names.get(dest, dest), ("…" if at > 20 else "") + shown(item[max(at - 20, 0):])
                raise ProfileError(surrogate_problem(f"argument {name}", excerpt)[0],
                                   zh=surrogate_problem(f"参数 {name}", excerpt)[1])
