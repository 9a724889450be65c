"""Safe YAML loading that remembers where every value came from.

The loader is PyYAML's safe loader (no Python object is ever built from a tag; libyaml's
parser where PyYAML has it, which reads the knowledge base ten times faster), extended to

- refuse duplicate keys in a mapping (YAML allows the last one to win silently);
- refuse documents whose aliases would add more than :data:`MAX_EXPANDED_NODES` values to
  what is written ("billion laughs"), and nesting deeper than :data:`MAX_DEPTH`; a long list
  written out in full is only bounded by :data:`MAX_FILE_BYTES`;
- refuse binary files (an image, an archive, a PDF renamed ``.yaml``) by name;
- return :class:`Mapping` / :class:`Sequence` containers that know the line of each key and
  item, so that errors can point at ``file:line``.

Limits are documented in the README ("Input limits").
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any, Callable

import yaml

from engine.errors import PolicyKBError
from engine.loading.unicode_text import find_lone_surrogate, path_text, surrogate_problem

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000

#: The first bytes of files people rename by mistake, and what to call them.
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
          (b"%PDF-", "a PDF document"), (b"PK\x03\x04", "a ZIP archive, such as an .xlsx workbook"),
          (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office (.xls/.doc) file"),
          (b"\x1f\x8b", "a gzip archive"), (b"\x7fELF", "a program"))
#: Byte-order marks of UTF-32 and UTF-16 text (UTF-32 first: its little-endian mark starts
#: with UTF-16's), which is text, only in another encoding.
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
              (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


class Mapping(dict):
    """A dict that remembers the source file and the line of the mapping and of each key."""

    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}
        self.key_columns: dict[Any, int] = {}

    def line_of(self, key) -> int | None:
        return self.key_lines.get(key, self.line)

    def column_of(self, key) -> int | None:
        return self.key_columns.get(key, self.column)


class Sequence(list):
    """A list that remembers the source file and the line of each item."""

    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __init__(self, *args):
        super().__init__(*args)
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int | None:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


#: libyaml's parser where PyYAML was built with it (ten times faster on the knowledge base),
#: with the same safe constructors; otherwise PyYAML's own.
_SafeLoader = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class _PositionedLoader(_SafeLoader):
    """SafeLoader building :class:`Mapping` and :class:`Sequence` with 1-based lines."""

    source_name: str | None = None

    def construct_yaml_map(self, node):
        data = Mapping()
        data.file, data.line, data.column = self.source_name, node.start_mark.line + 1, node.start_mark.column + 1
        yield data
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _loader_error(self, "a mapping key must be a plain value", key_node) from None
            if key in data:
                raise _loader_error(
                    self, f"duplicate key '{key}' (first at line {data.key_lines[key]})", key_node)
            data[key] = self.construct_object(value_node, deep=True)
            data.key_lines[key] = key_node.start_mark.line + 1
            data.key_columns[key] = key_node.start_mark.column + 1

    def construct_yaml_seq(self, node):
        data = Sequence()
        data.file, data.line, data.column = self.source_name, node.start_mark.line + 1, node.start_mark.column + 1
        yield data
        for child in node.value:
            data.append(self.construct_object(child, deep=True))
            data.item_lines.append(child.start_mark.line + 1)


    def _checked_scalar(self, node, construct, what):
        try:
            return construct(self, node)
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            detail = f" ({exc})" if isinstance(exc, ValueError) and ("out of range" in str(exc) or "must be in" in str(exc)) else ""
            raise yaml.MarkedYAMLError(problem=f"'{node.value}' is not {what}{detail}",
                                       problem_mark=node.start_mark) from None

    def construct_checked_timestamp(self, node):
        # A date that is no date (2021-02-30) stays the text it is: the reader of the fact then
        # refuses it by name, in the reader's language, beside every other mistake of the file.
        try:
            return yaml.SafeLoader.construct_yaml_timestamp(self, node)
        except (ValueError, TypeError, OverflowError):
            return node.value

    def construct_checked_int(self, node):
        if len(node.value) > LONG_NUMBER_DIGITS:
            return node.value   # as text: the reader of the fact refuses it with its name (long_number)
        return self._checked_scalar(node, yaml.SafeLoader.construct_yaml_int, "a whole number")

    def construct_checked_float(self, node):
        return self._checked_scalar(node, yaml.SafeLoader.construct_yaml_float, "a number")


#: A number written with more digits than this is kept as its text: no amount, area or date needs
#: them, and the reader of the fact it is given for refuses it by name (turning 5,000 digits into
#: an integer is refused by Python itself, with a message that names no fact).
LONG_NUMBER_DIGITS = 30


def long_number(text: str):
    """``json.loads``'s ``parse_int``: an integer, or a number too long to be one kept as text."""
    return text if len(text) > LONG_NUMBER_DIGITS else int(text)


_PositionedLoader.add_constructor("tag:yaml.org,2002:map", _PositionedLoader.construct_yaml_map)
_PositionedLoader.add_constructor("tag:yaml.org,2002:timestamp", _PositionedLoader.construct_checked_timestamp)
_PositionedLoader.add_constructor("tag:yaml.org,2002:int", _PositionedLoader.construct_checked_int)
_PositionedLoader.add_constructor("tag:yaml.org,2002:float", _PositionedLoader.construct_checked_float)
_PositionedLoader.add_constructor("tag:yaml.org,2002:seq", _PositionedLoader.construct_yaml_seq)


def _loader_error(loader, message, node):
    err = yaml.MarkedYAMLError(problem=message, problem_mark=node.start_mark)
    return err


def _check_size(node, source: str, error: Callable[..., PolicyKBError]) -> None:
    """Refuse alias bombs and deep nesting before anything is constructed.

    An alias bomb is measured by what aliases add: the values the document expands to, less
    the nodes it writes. ``sizes`` holds one entry per written node visited so far, so at any
    node ``total - len(sizes)`` is at most what aliases added below it; the test is never
    wrong about a document without aliases, and exact at the root.
    """
    sizes: dict[int, int] = {}

    def size(n, depth):
        if depth > MAX_DEPTH:
            raise error(f"nesting deeper than {MAX_DEPTH} levels", file=source,
                        line=n.start_mark.line + 1)
        key = id(n)
        if key in sizes:
            return sizes[key]
        sizes[key] = 0  # a recursive alias counts as nothing more, and cannot loop
        total = 1
        if isinstance(n, yaml.SequenceNode):
            total += sum(size(c, depth + 1) for c in n.value)
        elif isinstance(n, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in n.value)
        sizes[key] = total
        if total - len(sizes) > MAX_EXPANDED_NODES:
            raise error(f"the document expands to more than {MAX_EXPANDED_NODES:,} values "
                        "through aliases (refused as an alias bomb)", file=source,
                        line=n.start_mark.line + 1)
        return total

    size(node, 0)


def read_text(path: Path, error: Callable[..., PolicyKBError]) -> str:
    """Read a UTF-8 text file, turning every I/O problem into ``error``."""
    source = str(path)
    limit = f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the limit of a file this tool reads"
    try:
        # The size first: a file far too big is refused before it is read whole.
        if path.stat().st_size > MAX_FILE_BYTES:
            raise error(limit, file=source, zh=f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MiB（可读取的文件大小上限）")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)   # a file that grew meanwhile is read no further
    except FileNotFoundError:
        raise error("no such file", file=source) from None
    except IsADirectoryError:
        raise error("is a folder, not a file", file=source) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", file=source) from None
    if len(data) > MAX_FILE_BYTES:
        raise error(limit, file=source, zh=f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MiB（可读取的文件大小上限）")
    _refuse_binary(data, source, error)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = "save it as UTF-8"
        for encoding in ("gb18030", "big5"):
            try:
                data.decode(encoding)
                hint = f"it looks like {encoding.upper()}; save it as UTF-8"
                break
            except UnicodeDecodeError:
                continue
        raise error(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): {hint}",
                    file=source, line=line) from None
    return text


def _refuse_binary(data: bytes, source: str, error: Callable[..., PolicyKBError]) -> None:
    """Name a file that is not text at all, before it is mistaken for text in some encoding.

    Raises
    ------
    PolicyKBError
        (``error``) for UTF-16/32 text, known binary formats, and any file with a NUL byte.
    """
    for bom, encoding in _WIDE_BOMS:
        if data.startswith(bom):
            raise error(f"the file is {encoding} text; save it as UTF-8", file=source)
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise error(f"not a text file (it looks like {kind})", file=source)
    if b"\0" in data:  # no text encoding this tool reads has NUL bytes
        offset = data.index(b"\0")
        raise error(f"not a text file (it has a NUL byte at offset {offset})", file=source,
                    line=data[:offset].count(b"\n") + 1)


def loads(text: str, source: str, error: Callable[..., PolicyKBError]) -> Any:
    """Parse one YAML document safely; every problem becomes ``error(message, file=, line=)``."""
    loader = _PositionedLoader(text)
    loader.source_name = source
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node, source, error)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in problem:
            tag = problem.split("'")[1] if "'" in problem else problem
            tag = tag.replace("tag:yaml.org,2002:", "!!")
            problem = f"the tag {tag} is not allowed (only plain YAML data is read)"
        elif not problem.startswith("'") and "duplicate key" not in problem and "expands" not in problem:
            # PyYAML's own words ("mapping values are not allowed here"): say what it is first.
            problem = f"malformed YAML: {problem}" + (f" ({exc.context})" if exc.context and exc.problem else "")
        raise error(problem, file=source, line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", file=source) from None
    except RecursionError:
        raise error(f"nesting deeper than {MAX_DEPTH} levels", file=source) from None
    except (ValueError, TypeError, AttributeError) as exc:  # a constructor PyYAML did not guard
        raise error(f"malformed YAML: {exc}", file=source) from None
    finally:
        loader.dispose()


def load_file(path: Path, error: Callable[..., PolicyKBError]) -> Any:
    """Load a YAML (or JSON, which is YAML) file safely with positions."""
    text = read_text(path, error)
    if path.suffix.lower() == ".json":
        data = _load_json(text, str(path), error)
    else:
        data = loads(text, str(path), error)
    refuse_lone_surrogates(data, str(path), error)
    return data


def refuse_lone_surrogates(data: Any, source: str | None, error: Callable[..., PolicyKBError]) -> None:
    """Refuse text holding a lone surrogate (JSON's ``"\\ud800"``; see
    :mod:`engine.loading.unicode_text`) in a key or a value of ``data``, naming where it is.

    Raises
    ------
    PolicyKBError
        (``error``) with the path of the text and the line where it is known.
    """
    found = find_lone_surrogate(data)
    if found is None:
        return
    where, excerpt = found
    line, item = getattr(data, "line", None), data
    for part in where:   # the deepest line known on the way down
        if hasattr(item, "line_of"):
            try:
                line = item.line_of(part) or line
            except (IndexError, TypeError):
                pass
        try:
            item = item[part]
        except (KeyError, IndexError, TypeError):
            break
    message, zh = surrogate_problem(path_text(where), excerpt)
    raise error(message, file=source, line=line, zh=zh)


def _load_json(text: str, source: str, error):
    if not text.strip():
        return None

    def line_of(key) -> int | None:
        # JSON parsers give no positions for keys; the first `"key":` in the text is where
        # a person wrote it (good enough to point at, never used for meaning).
        found = re.search(r'"%s"\s*:' % re.escape(json.dumps(key, ensure_ascii=False)[1:-1]), text)
        return text.count("\n", 0, found.start()) + 1 if found else None

    def no_duplicates(pairs):
        seen = Mapping()
        seen.file = source
        for key, value in pairs:
            if key in seen:
                later = [m.start() for m in re.finditer(r'"%s"\s*:' % re.escape(key), text)]
                line = text.count("\n", 0, later[1]) + 1 if len(later) > 1 else None
                raise error(f"duplicate key '{key}'", file=source, line=line)
            seen[key] = value
            line = line_of(key)
            if line is not None:
                seen.key_lines[key] = line
        return seen

    def bad_constant(name):
        raise error(f"{name} is not a number JSON allows", file=source)

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=bad_constant, parse_int=long_number)
    except json.JSONDecodeError as exc:
        raise error(exc.msg, file=source, line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise error(f"nesting deeper than {MAX_DEPTH} levels", file=source) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise error(f"not usable JSON: {exc}", file=source) from None
    if _depth(data) > MAX_DEPTH:
        raise error(f"nesting deeper than {MAX_DEPTH} levels", file=source)
    return data


def _depth(value, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def plain(value: Any) -> Any:
    """YAML data as JSON data: keys as text, tuples as lists, dates (YAML reads ``2021-05-01`` as
    one) as ISO text — what the register stores and a page sends back."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, _dt.date):   # a datetime too: its day, as a profile's dates are days
        return value.isoformat()[:10]
    return value
