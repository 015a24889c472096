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
from .yamlmarks import MarkedDict, MarkedList


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


def _describe(path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "the spec"


def _leaf_errors(error):
    """The innermost errors under anyOf/if-then branches, most specific first."""
    if not error.context:
        return [error]
    leaves = [leaf for sub in error.context for leaf in _leaf_errors(sub)]
    return sorted(leaves, key=lambda e: -len(e.absolute_path))


def _unknown_key_error(error, doc, file) -> SpecError:
    instance = error.instance
    allowed = list(error.schema.get("properties", {}))
    extras = [k for k in instance if k not in allowed]
    key = extras[0] if extras else "?"
    path = list(error.absolute_path)
    where = _describe(path)
    return SpecError(
        "GR103", f"unknown key `{key}` in {where}{did_you_mean(key, allowed)}",
        loc=locate(doc, path + [key], file, key=True),
        fix=f"use one of: {', '.join(allowed)}")


def check_schema(doc, file: str) -> None:
    """Raise SpecError for the most relevant schema violation, if any."""
    errors = list(_validator().iter_errors(doc))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    # Prefer an unknown-key report: it is the most common typo and the most fixable
    # (a misspelt required key also shows up as "missing"; the typo is the better report).
    candidates = [error] + _leaf_errors(error)
    everything = [leaf for e in errors for leaf in [e] + _leaf_errors(e)]
    for candidate in candidates + everything:
        if candidate.validator == "additionalProperties" and candidate.schema.get("additionalProperties") is False:
            raise _unknown_key_error(candidate, doc, file)
    leaf = max(candidates, key=lambda e: len(e.absolute_path))
    path = list(leaf.absolute_path)
    where = _describe(path)
    if leaf.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", leaf.message)
        raise SpecError("GR104", f"{where} is missing the required key `{missing[0] if missing else '?'}`",
                        loc=locate(doc, path, file),
                        fix=f"add `{missing[0] if missing else '?'}: ...` to {where}")
    if leaf.validator == "pattern" and path and path[-1] in ("from", "to", "share") or \
            (leaf.validator == "pattern" and len(path) >= 2 and path[-2] in ("from", "to")):
        message = f"{where}: {leaf.instance!r} is not a valid reference"
        fix = "write `node`, `node.port` or `module_instance.node` (letters, digits, _)"
    elif leaf.validator == "pattern":
        message = f"{where}: {leaf.instance!r} is not a valid name"
        fix = "names start with a letter or _ and contain only letters, digits and _ (no dots)"
    else:
        field = next((step for step in reversed(path) if isinstance(step, str)), "")
        message = f"{where}: {leaf.message}"
        if leaf.validator == "anyOf":
            message = f"{where}: {leaf.instance!r} is not allowed here"
        fix = f"expected {FIELD_HINTS[field]}" if field in FIELD_HINTS else _fix_for(leaf)
    raise SpecError("GR104", message, loc=locate(doc, path, file), fix=fix)


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
    "kind": "dense | diagonal | identity | broadcast | fixed",
    "over": "sequence (trees come later)",
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
