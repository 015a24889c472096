"""JSON Schema validation of a loaded spec, reported as located errors.

The shipped ``schema.json`` is the single source of truth for the structure
of a spec; this module only turns the first (most relevant) violation into a
:class:`SpecError` that points at the offending key or value.
"""
from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from importlib import resources

import jsonschema

from ..errors import Location, SpecError
from .yamlmarks import MarkedDict, MarkedList, load_yaml


@lru_cache(maxsize=1)
def schema() -> dict:
    """The spec's JSON Schema (draft 2020-12), as shipped in the package."""
    return json.loads(resources.files(__package__).joinpath("schema.json").read_text())


@lru_cache(maxsize=1)
def _validator():
    return jsonschema.Draft202012Validator(schema())


def did_you_mean(word: str, choices) -> str:
    """`` (did you mean `x`?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def locate(doc, path, file: str, *, key: bool = False) -> Location:
    """Location of the value (or, with ``key``, the key) at a JSON path."""
    parent, node, loc = None, doc, getattr(doc, "loc", Location(file, 1, 1))
    for step in path:
        parent, node = node, node[step]
        if isinstance(parent, MarkedDict):
            loc = parent.key_loc(step) if key else parent.value_loc(step)
        elif isinstance(parent, MarkedList):
            loc = parent.item_loc(step)
    return loc


def _describe(path, what: str = "the spec") -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or what


def _leaf_errors(error):
    """The innermost errors under anyOf/if-then branches, most specific first."""
    if not error.context:
        return [error]
    leaves = [leaf for sub in error.context for leaf in _leaf_errors(sub)]
    return sorted(leaves, key=lambda e: -len(e.absolute_path))


def schema_error(validator, doc, file: str, *, what: str = "the spec", hints: dict | None = None,
                 docs: str | None = None, special=None) -> SpecError | None:
    """The most relevant violation of ``validator``'s JSON Schema in ``doc``, as a located
    SpecError (GR103 unknown key, with a did-you-mean; GR104 otherwise), or None.

    ``what`` names the document's top level in messages; ``hints`` maps a field name to what it
    expects (the fix); ``docs`` is where a missing key is explained; ``special(leaf, path,
    where, loc)`` may return a SpecError of its own for a violation (None: the generic report).
    Shared by network specs, experiment files and hierarchy files.
    """
    errors = list(validator.iter_errors(doc))
    if not errors:
        return None
    hints = hints or {}
    best = jsonschema.exceptions.best_match(errors)
    # Prefer an unknown-key report: it is the most common typo and the most fixable
    # (a misspelt required key also shows up as "missing"; the typo is the better report).
    candidates = [best] + _leaf_errors(best)
    everything = [leaf for e in errors for leaf in [e] + _leaf_errors(e)]
    for candidate in candidates + everything:
        if candidate.validator == "additionalProperties" and candidate.schema.get("additionalProperties") is False:
            allowed = list(candidate.schema.get("properties", {}))
            key = next((k for k in candidate.instance if k not in allowed), "?")
            path = list(candidate.absolute_path)
            return SpecError("GR103", f"unknown key `{key}` in {_describe(path, what)}{did_you_mean(key, allowed)}",
                             loc=locate(doc, path + [key], file, key=True), fix=f"use one of: {', '.join(allowed)}")
    leaf = max(candidates, key=lambda e: len(e.absolute_path))
    path = list(leaf.absolute_path)
    where = _describe(path, what)
    if special is not None:
        custom = special(leaf, path, where, locate(doc, path, file))
        if custom is not None:
            return custom
    if leaf.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", leaf.message)
        key = missing[0] if missing else "?"
        more = f" ({hints[key]})" if key in hints else (f" (see {docs})" if docs else "")
        return SpecError("GR104", f"{where} is missing the required key `{key}`", loc=locate(doc, path, file),
                         fix=f"add `{key}: ...` to {where}{more}")
    field = next((step for step in reversed(path) if isinstance(step, str)), "")
    message = f"{where}: {leaf.message}"
    if leaf.validator == "anyOf":
        message = f"{where}: {leaf.instance!r} is not allowed here"
    elif leaf.validator == "type" and isinstance(leaf.instance, (dict, list)):
        message = f"{where}: expected {leaf.validator_value}, got a {'mapping' if isinstance(leaf.instance, dict) else 'list'}"
    fix = f"expected {hints[field]}" if field in hints else _fix_for(leaf)
    return SpecError("GR104", message, loc=locate(doc, path, file), fix=fix)


def _spec_names(leaf, path, where, loc):
    """A network spec's references and names break the schema's patterns: say which rule."""
    if leaf.validator != "pattern":
        return None
    if path and path[-1] in ("from", "to", "share") or (len(path) >= 2 and path[-2] in ("from", "to")):
        return SpecError("GR104", f"{where}: {leaf.instance!r} is not a valid reference", loc=loc,
                         fix="write `node`, `node.port` or `module_instance.node` (letters, digits, _)")
    return SpecError("GR104", f"{where}: {leaf.instance!r} is not a valid name", loc=loc,
                     fix="names start with a letter or _ and contain only letters, digits and _ (no dots)")


def check_schema(doc, file: str) -> None:
    """Raise SpecError for the most relevant schema violation of a network or module spec, if any."""
    error = schema_error(_validator(), doc, file, hints=FIELD_HINTS, special=_spec_names)
    if error is not None:
        raise error


def read_text(path, noun: str, loc: Location | None = None, hint: str = "check the path") -> str:
    """A user's text file (a spec, an experiment, a hierarchy, trees): GR100 when it is not
    UTF-8, GR114 when it cannot be read; ``loc`` blames the reference that named it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SpecError("GR100", f"{path} is not UTF-8 text ({err.reason})", loc=Location(str(path)),
                        fix=f"save the {noun} as UTF-8") from None
    except OSError as err:
        raise SpecError("GR114", f"cannot read {noun} {path}: {err.strerror}", loc=loc or Location(str(path)),
                        fix=hint) from None


def read_document(text: str, file: str, noun: str, name_key: str, version: int = 1) -> MarkedDict:
    """A YAML document other than a spec (an experiment, a hierarchy), loaded safely with its
    locations, checked to be a mapping that starts with ``graphrnn: <version>``."""
    data = load_yaml(text, file)
    if not isinstance(data, MarkedDict):
        raise SpecError("GR104", f"{noun} must be a mapping with `graphrnn: {version}` at the top",
                        loc=getattr(data, "loc", Location(file, 1, 1)),
                        fix=f"start the file with `graphrnn: {version}` and `{name_key}: NAME`")
    if "graphrnn" not in data:
        raise SpecError("GR111", "missing the format version key `graphrnn`", loc=data.loc,
                        fix=f"add `graphrnn: {version}` as the first line")
    if data["graphrnn"] != version or isinstance(data["graphrnn"], bool):
        raise SpecError("GR111", f"format version {data['graphrnn']!r} is not supported",
                        loc=data.value_loc("graphrnn"), fix=f"this graphrnn reads `graphrnn: {version}`")
    return data


FIELD_HINTS = {
    "from": "a node name, `node.port`, or a list of them",
    "to": "a node name, `node.port`, or a list of them",
    "size": "a positive integer (or a `$param` inside a module)",
    "delay": "an integer >= 0 (or a `$param` inside a module)",
    "init": "zeros | ones | glorot | orthogonal | a number | {uniform: r} | {normal: std}",
    "bias_init": "zeros | ones | glorot | orthogonal | a number | {uniform: r} | {normal: std}",
    "weights": "a number, a list (one per destination unit) or a list of rows (source x destination)",
    "initial": "zeros | learned | a number",
    "density": "a number in (0, 1]",
    "kind": "the name of a registered edge kind (docs/spec.md, Edges)",
    "over": "sequence (the default) | tree (recursive nets over tree batches; see docs/trees.md)",
}


def _fix_for(error) -> str:
    if error.validator == "enum":
        return "use one of: " + ", ".join(map(str, error.validator_value))
    if error.validator == "const":
        return f"write {error.validator_value!r}"
    if error.validator == "type":
        return f"give a value of type {error.validator_value}"
    if error.validator == "minimum":
        return f"give a value >= {error.validator_value}"
    return "see docs/spec.md for the allowed values"
