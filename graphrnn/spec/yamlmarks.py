"""Safe YAML loading that remembers where every key and item came from.

Mappings load as :class:`MarkedDict` and sequences as :class:`MarkedList`;
both keep the :class:`~graphrnn.errors.Location` of themselves and of each
key/value/item, so later stages can point at the exact spot.  Only PyYAML's
``SafeLoader`` constructors exist: a ``!!python/object`` tag is an error.
Aliases are bounded by the size of the document they would expand to, so a
"billion laughs" file is refused before anything walks it.
"""
from __future__ import annotations

from collections.abc import Mapping

import yaml

from ..errors import Location, SpecError

MAX_TEXT_BYTES = 1_000_000
MAX_EXPANDED_NODES = 100_000


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


class _MarkingLoader(yaml.SafeLoader):
    def __init__(self, text: str, file: str):
        super().__init__(text)
        self.file = file

    def construct_mapping(self, node, deep=False):
        explicit = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        self.flatten_mapping(node)
        merged = len(node.value) - explicit   # flatten_mapping puts `<<:` pairs first
        result = MarkedDict()
        result.loc = _loc(self.file, node.start_mark)
        result.key_locs, result.value_locs = {}, {}
        from_merge = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise SpecError("GR104", "a mapping key must be a plain scalar",
                                loc=_loc(self.file, key_node.start_mark),
                                fix="write keys as plain names (`size:`), not `? [..]` lists") from None
            if key in result and key not in from_merge:
                raise SpecError(
                    "GR110", f"duplicate key `{key}` (YAML would silently keep only the last)",
                    loc=_loc(self.file, key_node.start_mark),
                    fix=f"remove one of the two `{key}` entries; the first is at "
                        f"{result.key_locs[key]}")
            if index < merged:
                from_merge.add(key)
            else:
                from_merge.discard(key)   # an explicit key overrides a merged one, as YAML says
            result[key] = self.construct_object(value_node, deep=True)
            result.key_locs[key] = _loc(self.file, key_node.start_mark)
            result.value_locs[key] = _loc(self.file, value_node.start_mark)
        return result

    def construct_sequence(self, node, deep=False):
        result = MarkedList(self.construct_object(child, deep=True) for child in node.value)
        result.loc = _loc(self.file, node.start_mark)
        result.item_locs = [_loc(self.file, child.start_mark) for child in node.value]
        return result


_MarkingLoader.add_constructor("tag:yaml.org,2002:map", _MarkingLoader.construct_mapping)
_MarkingLoader.add_constructor("tag:yaml.org,2002:seq", _MarkingLoader.construct_sequence)


def expanded_size(node, memo=None) -> int:
    """Number of YAML nodes the document has once every alias is expanded."""
    memo = {} if memo is None else memo
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = 1  # a recursive alias counts once instead of looping
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(expanded_size(k, memo) + expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(expanded_size(v, memo) for v in node.value)
    memo[id(node)] = size
    return size


def load_yaml(text: str, file: str = "<string>"):
    """Parse one YAML document safely; returns MarkedDict/MarkedList/scalars.

    Raises SpecError GR100 (syntax), GR101 (tags), GR108 (size), GR110
    (duplicate keys).
    """
    if len(text.encode("utf-8", "replace")) > MAX_TEXT_BYTES:
        raise SpecError("GR108", f"spec is larger than {MAX_TEXT_BYTES} bytes",
                        loc=Location(file), fix="split it into modules")
    loader = _MarkingLoader(text, file)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError("GR104", "the spec is empty", loc=Location(file, 1, 1),
                            fix="start the file with `graphrnn: 1`")
        size = expanded_size(node)
        if size > MAX_EXPANDED_NODES:
            raise SpecError(
                "GR108", f"YAML aliases expand to {size} nodes (limit {MAX_EXPANDED_NODES})",
                loc=_loc(file, node.start_mark),
                fix="write the repeated parts as a module and `use:` it instead of aliases")
        return loader.construct_document(node)
    except RecursionError:
        raise SpecError("GR108", "the YAML is nested too deeply", loc=Location(file),
                        fix="flatten the nesting; specs need only a few levels") from None
    except yaml.constructor.ConstructorError as err:
        mark = err.problem_mark or err.context_mark
        tag = getattr(err, "problem", "") or ""
        if "recursive" in tag:
            raise SpecError("GR104", "a YAML alias refers to the node that contains it",
                            loc=_loc(file, mark) if mark else Location(file),
                            fix="remove the recursive alias (`&x [*x]`)") from None
        raise SpecError("GR101", f"YAML tag not allowed: {tag.strip()}",
                        loc=_loc(file, mark) if mark else Location(file),
                        fix="remove the `!!` tag; specs are plain data and are loaded "
                            "with a safe loader only") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise SpecError("GR100", f"{err.problem or err.context}",
                        loc=_loc(file, mark) if mark else Location(file),
                        fix="check indentation, colons and brackets near this spot") from None
    except yaml.YAMLError as err:
        raise SpecError("GR100", str(err), loc=Location(file)) from None
    finally:
        loader.dispose()


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
