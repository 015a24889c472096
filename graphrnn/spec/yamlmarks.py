"""Safe YAML 1.2 loading that remembers where every key and item came from.

Scalars follow the YAML 1.2 core schema, as editors and JSON-Schema
validators read them: ``1e-3`` is a float, ``on``/``yes``/``no`` are
strings, ``0o17`` is octal and ``017`` is decimal 17, ``2024-01-01`` is a
string.  Mappings load as :class:`MarkedDict` and sequences as
:class:`MarkedList`; both keep the :class:`~graphrnn.errors.Location` of
themselves and of each key/value/item, so later stages can point at the
exact spot.

Safety and limits, each refused with a located SpecError before anything
large is built: only the core tags exist (any ``!!python/...`` or other tag
is GR101); control characters are GR100 at their line:col; aliases are
bounded by the size of the document they would expand to ("billion
laughs"); nesting is bounded (``max_depth``); an integer needs at most 64
bits and a float must be finite.  The document is parsed by libyaml where
PyYAML has it (linear time) and built without recursion.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping

import yaml

from ..errors import Location, SpecError

MAX_TEXT_BYTES = 1_000_000
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 100
MAX_INT = 2 ** 63 - 1

_NULL, _BOOL, _INT, _FLOAT = ("tag:yaml.org,2002:" + t for t in ("null", "bool", "int", "float"))
_STR, _SEQ, _MAP, _MERGE = ("tag:yaml.org,2002:" + t for t in ("str", "seq", "map", "merge"))
_DECIMAL = re.compile(r"[-+]?[0-9]+\Z")
_OCTAL = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_NUMBER = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INFINITY = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")
# What PyYAML's reader refuses (yaml/reader.py): C0 controls but tab/LF/CR, DEL, C1 but NEL, ...
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


class _Yaml12Resolver(yaml.resolver.BaseResolver):
    """The YAML 1.2 core schema's implicit tags (plus `<<` merge keys)."""


for _tag, _pattern, _first in [
        (_NULL, r"(~|null|Null|NULL|)\Z", ["~", "n", "N", ""]),
        (_BOOL, r"(true|True|TRUE|false|False|FALSE)\Z", list("tTfF")),
        (_INT, r"([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z", list("-+0123456789")),
        (_FLOAT, r"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))\Z",
         list("-+0123456789.")),
        (_MERGE, r"<<\Z", ["<"])]:
    _Yaml12Resolver.add_implicit_resolver(_tag, re.compile(_pattern), _first)

try:
    from yaml.cyaml import CParser as _Parser   # libyaml: linear time, its own nesting bound
except ImportError:   # PyYAML without libyaml: the pure-Python parser (recursive; slower)
    _Parser = None


if _Parser is not None:
    class _Composer(_Parser, _Yaml12Resolver):
        def __init__(self, text: str):
            _Parser.__init__(self, text)
            _Yaml12Resolver.__init__(self)
else:
    class _Composer(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
                    _Yaml12Resolver):
        def __init__(self, text: str):
            yaml.reader.Reader.__init__(self, text)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Yaml12Resolver.__init__(self)


class MarkedDict(dict):
    """A dict with ``loc`` (of the mapping), ``key_locs`` and ``value_locs``."""

    loc: Location
    key_locs: dict
    value_locs: dict

    def key_loc(self, key) -> Location:
        return self.key_locs.get(key, self.loc)

    def value_loc(self, key) -> Location:
        return self.value_locs.get(key, self.loc)


class MarkedList(list):
    """A list with ``loc`` (of the sequence) and ``item_locs``."""

    loc: Location
    item_locs: list

    def item_loc(self, index: int) -> Location:
        return self.item_locs[index] if index < len(self.item_locs) else self.loc


def _loc(file: str, mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def _children(node):
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return ()


def _too_deep(root, height: dict, max_depth: int):
    """The first node past ``max_depth`` on a deepest path from the root."""
    node = root
    for _ in range(max_depth - 1):
        node = max(_children(node), key=lambda k: height[id(k)])
    return node


def _scalar(node, file: str):
    value, tag = node.value, node.tag
    if tag in (_STR, _MERGE):   # a merge key is consumed by its mapping (_Builder._split)
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return value in ("true", "True", "TRUE")
    if tag == _INT:
        text = value.lstrip("+-")
        digits = len(text) - 2 if text[:2] in ("0o", "0x") else len(text)
        if digits <= 40:   # checked before int(): a 5,000-digit literal is not converted at all
            number = int(value, 8) if _OCTAL.match(value) else int(value, 16) if _HEX.match(value) else int(value)
            if abs(number) <= MAX_INT:
                return number
        raise SpecError("GR108", f"the integer {_clip(value)} does not fit in 64 bits",
                        loc=_loc(file, node.start_mark), fix=f"give a number of size at most {MAX_INT}")
    if tag == _FLOAT:
        number = float("nan") if _NAN.match(value) else float(value.lower().replace(".inf", "inf"))
        if not math.isfinite(number):
            raise SpecError("GR104", f"{_clip(value)} is not a finite number", loc=_loc(file, node.start_mark),
                            fix="give a finite number (NaN and infinity are not allowed here)")
        return number
    raise SpecError("GR101", f"YAML tag not allowed: {tag}", loc=_loc(file, node.start_mark),
                    fix="remove the `!` tag; these files are plain data (strings, numbers, true/false, "
                        "null, lists, mappings) and are loaded safely")


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:20]}...({len(text)} characters)"


def _key_name(key) -> str:
    return f"`{_clip(key)}`" if isinstance(key, str) else repr(key)


class _Builder:
    """MarkedDict/MarkedList/scalars from a composed node graph, without recursion."""

    def __init__(self, file: str, max_nodes: int = MAX_EXPANDED_NODES):
        self.file, self.max_nodes = file, max_nodes
        self.built: dict[int, object] = {}
        self.size: dict[int, int] = {}     # values under a node once aliases are expanded (itself included)
        self.height: dict[int, int] = {}   # levels of nesting under a node (a scalar: 1)

    def build(self, root):
        visiting = set()   # started and not finished: the ancestors of where the walk is
        stack = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in self.built:
                continue
            if isinstance(node, yaml.ScalarNode):
                self.built[id(node)] = _scalar(node, self.file)
                self.size[id(node)] = self.height[id(node)] = 1
                continue
            kids = _children(node)
            if not ready:
                if id(node) in visiting:
                    continue
                if node.tag not in (_SEQ, _MAP):
                    raise SpecError("GR101", f"YAML tag not allowed: {node.tag}", loc=_loc(self.file, node.start_mark),
                                    fix="remove the `!` tag; these files are plain data and are loaded safely")
                visiting.add(id(node))
                stack.append((node, True))
                stack.extend((k, False) for k in reversed(kids) if id(k) not in self.built)
                continue
            if any(id(k) not in self.built for k in kids):
                raise SpecError("GR104", "a YAML alias refers to the node that contains it",
                                loc=_loc(self.file, node.start_mark), fix="remove the recursive alias (`&x [*x]`)")
            self.size[id(node)] = 1 + sum(self.size[id(k)] for k in kids)
            self.height[id(node)] = 1 + max((self.height[id(k)] for k in kids), default=0)
            if self.size[id(node)] > self.max_nodes:   # an alias bomb: stop before anything walks it
                return None
            self.built[id(node)] = self._sequence(node) if node.tag == _SEQ else self._mapping(node)
        return self.built[id(root)]

    def _sequence(self, node) -> MarkedList:
        result = MarkedList(self.built[id(child)] for child in node.value)
        result.loc = _loc(self.file, node.start_mark)
        result.item_locs = [_loc(self.file, child.start_mark) for child in node.value]
        return result

    def _merged(self, key_node, value_node) -> list:
        """The (key node, value node) pairs `<<:` brings in, the first source's first."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        if not all(isinstance(s, yaml.MappingNode) for s in sources):
            raise SpecError("GR104", "`<<:` merges a mapping or a list of mappings",
                            loc=_loc(self.file, key_node.start_mark),
                            fix="give `<<:` an alias of a mapping (`<<: *defaults`)")
        pairs = []
        for source in sources:
            explicit, merged = self._split(source)
            pairs += explicit + merged
        return pairs

    def _split(self, node):
        explicit = [(k, v) for k, v in node.value if k.tag != _MERGE]
        merged = [pair for k, v in node.value if k.tag == _MERGE for pair in self._merged(k, v)]
        return explicit, merged

    def _mapping(self, node) -> MarkedDict:
        """Explicit keys first (a duplicate is GR110), then merged keys not already there."""
        result = MarkedDict()
        result.loc = _loc(self.file, node.start_mark)
        result.key_locs, result.value_locs = {}, {}
        explicit, merged = self._split(node)
        for index, (key_node, value_node) in enumerate(explicit + merged):
            key = self.built[id(key_node)]
            if not isinstance(key, str):
                raise SpecError("GR104", f"a mapping key must be text, got {_key_name(key)}",
                                loc=_loc(self.file, key_node.start_mark),
                                fix="write keys as names (`size:`); quote a key that looks like a number "
                                    "or true/false/null (`\"1\":`)")
            if key in result:
                if index >= len(explicit):
                    continue   # merged: an explicit key and an earlier merge source win
                raise SpecError(
                    "GR110", f"duplicate key {_key_name(key)} (YAML would silently keep only the last)",
                    loc=_loc(self.file, key_node.start_mark),
                    fix=f"remove one of the two {_key_name(key)} entries; the first is at {result.key_loc(key)}")
            result[key] = self.built[id(value_node)]
            result.key_locs[key] = _loc(self.file, key_node.start_mark)
            result.value_locs[key] = _loc(self.file, value_node.start_mark)
        return result


def _clamped(mark, text: str):
    """libyaml puts an end-of-input error one line past the last; point at the text's end instead."""
    if mark is None or mark.line < text.count("\n") + (0 if text.endswith("\n") else 1):
        return mark
    lines = text.rstrip("\n").split("\n") or [""]
    return yaml.Mark(mark.name, 0, len(lines) - 1, len(lines[-1]), None, None)


def _reader_error(text: str, file: str) -> SpecError:
    found = _NON_PRINTABLE.search(text)
    index = found.start() if found else 0
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    code = ord(text[index]) if found else 0
    escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return SpecError("GR100", f"character #x{code:04x} is not allowed in YAML (a control character)",
                     loc=Location(file, line, col), fix="delete the character, or write it as an escape "
                                                        f"inside a double-quoted string (\"{escape}\")")


def load_yaml(text: str, file: str = "<string>", *, max_depth: int | None = MAX_DEPTH,
              max_bytes: int = MAX_TEXT_BYTES, max_nodes: int = MAX_EXPANDED_NODES):
    """Parse one YAML document safely; returns MarkedDict/MarkedList/scalars.

    Raises SpecError GR100 (syntax, control characters), GR101 (tags),
    GR104 (non-text keys, NaN/infinity, recursive aliases), GR108 (size,
    alias expansion, nesting deeper than ``max_depth``, integers past 64
    bits), GR110 (duplicate keys).  ``max_depth`` None: libyaml's own bound
    (1,000 levels) only.
    """
    if len(text) > max_bytes or len(text.encode("utf-8", "replace")) > max_bytes:
        raise SpecError("GR108", f"the text is larger than {max_bytes} bytes",
                        loc=Location(file), fix="split it into smaller files (specs: into modules)")
    if "\x00" in text or _NON_PRINTABLE.search(text):
        raise _reader_error(text, file)
    composer = _Composer(text)
    try:
        node = composer.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = _clamped(err.problem_mark or err.context_mark, text)
        problem = err.problem or err.context or "not valid YAML"
        if "nesting depth" in problem or "flow level" in (err.context or ""):
            raise SpecError("GR108", "the YAML is nested too deeply (more than 1000 levels of brackets or "
                                     "indentation)", loc=_loc(file, mark) if mark else Location(file),
                            fix="flatten the nesting") from None
        raise SpecError("GR100", problem, loc=_loc(file, mark) if mark else Location(file),
                        fix="check indentation, colons and brackets near this spot") from None
    except yaml.reader.ReaderError:
        raise _reader_error(text, file) from None
    except RecursionError:   # only the pure-Python parser (no libyaml) recurses
        raise SpecError("GR108", "the YAML is nested too deeply", loc=Location(file),
                        fix="flatten the nesting") from None
    except yaml.YAMLError as err:
        raise SpecError("GR100", str(err), loc=Location(file),
                        fix="check indentation, colons and brackets") from None
    finally:
        composer.dispose()
    if node is None:
        raise SpecError("GR104", "the file is empty", loc=Location(file, 1, 1),
                        fix="start the file with `graphrnn: 1`")
    builder = _Builder(file, max_nodes)
    value = builder.build(node)
    if value is None and node.tag in (_SEQ, _MAP):   # stopped at a node past the value limit
        size, distinct = max(builder.size.values()), len(builder.size)
    else:
        size, distinct = builder.size[id(node)], len(builder.size)
    if size > max_nodes:
        what = (f"YAML aliases expand to {size} values" if size > distinct
                else f"the document has {size} values")
        raise SpecError("GR108", f"{what} (limit {max_nodes})", loc=_loc(file, node.start_mark),
                        fix="write the repeated parts as a module and `use:` it" if size > distinct
                        else "split it into smaller files (specs: into modules)")
    if max_depth is not None and builder.height[id(node)] > max_depth:
        deep = _too_deep(node, builder.height, max_depth)
        raise SpecError("GR108", f"the YAML is nested more than {max_depth} levels deep",
                        loc=_loc(file, deep.start_mark), fix="flatten the nesting; specs need only a few levels")
    return value


def plain(value):
    """``value`` with every mapping a dict and every sequence a list (marks dropped)."""
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value
