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
from .yamlmarks import MAX_TEXT_BYTES, MarkedDict, MarkedList, load_yaml


@lru_cache(maxsize=1)
def schema() -> dict:
    """The spec's JSON Schema (draft 2020-12), as shipped in the package."""
    return json.loads(resources.files(__package__).joinpath("schema.json").read_text())


def strict_validator(schema_document: dict):
    """A draft 2020-12 validator whose `integer` is a whole number written as one: `size: 3.0`
    or `1e308` is "not of type 'integer'" (JSON Schema alone would accept any float with a
    zero fraction, and 1e308 would then overflow an int)."""
    checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool))
    cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=checker)
    return cls(schema_document)


@lru_cache(maxsize=1)
def _validator():
    return strict_validator(schema())


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
        step = step if isinstance(step, int) or len(str(step)) < 60 else f"{str(step)[:40]}..."
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or what


def _leaf_errors(error):
    """The innermost errors under anyOf/if-then branches."""
    if not error.context:
        return [error]
    return [leaf for sub in error.context for leaf in _leaf_errors(sub)]


def _is_param_branch(error) -> bool:
    """An error from the `$param` alternative of a value that is not written as a `$param`."""
    pattern = error.schema.get("pattern", "") if isinstance(error.schema, dict) else ""
    return pattern.startswith("^\\$") and not (isinstance(error.instance, str) and error.instance.startswith("$"))


def _most_specific(errors):
    """The deepest error; among equally deep ones a leaf over its anyOf, the rule the value was
    meant for over the `$param` alternative (`size: "16"` is "not of type 'integer'"), and a
    bound of the value's own type over another alternative's type (`init: 1e308` is "greater
    than the maximum", not "not one of zeros, ...")."""
    return max(errors, key=lambda e: (len(e.absolute_path), not e.context, not _is_param_branch(e),
                                      e.validator not in ("type", "enum", "const")))


def _known_in_another_branch(error, key, root: dict) -> bool:
    """Whether an alternative of an anyOf above ``error`` has ``key`` as a property: then
    ``{uniform: -1}`` is a bad `uniform`, not an unknown key of the `normal` alternative."""
    parent = error.parent
    while parent is not None:
        if parent.validator in ("anyOf", "oneOf"):
            for branch in parent.validator_value:
                while isinstance(branch, dict) and "$ref" in branch and branch["$ref"].startswith("#/$defs/"):
                    branch = root.get("$defs", {}).get(branch["$ref"].split("/")[-1], {})
                if isinstance(branch, dict) and key in branch.get("properties", {}):
                    return True
        parent = parent.parent
    return False


def _words(leaf) -> str:
    """The rule that failed, with the expected type or pattern (what an external validator says)."""
    instance = _clip(leaf.instance)
    if leaf.validator == "type":
        expected = leaf.validator_value
        expected = " or ".join(map(repr, expected)) if isinstance(expected, list) else repr(expected)
        got = {dict: "a mapping", list: "a list"}.get(type(leaf.instance))
        return f"{got or instance} is not of type {expected}"
    if leaf.validator == "pattern":
        return f"{instance} does not match the pattern {leaf.validator_value}"
    if leaf.validator == "enum":
        return f"{instance} is not one of {', '.join(map(str, leaf.validator_value))}"
    if leaf.validator == "anyOf":
        return f"{instance} matches none of the allowed forms"
    return leaf.message if len(leaf.message) < 300 else leaf.message[:300] + "..."


def _clip(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:40] + f"... ({len(text)} characters)"


def schema_error(validator, doc, file: str, *, what: str = "the spec", hints: dict | None = None,
                 docs: str | None = None, special=None, blame=None) -> SpecError | None:
    """The most relevant violation of ``validator``'s JSON Schema in ``doc``, as a located
    SpecError (GR103 unknown key, with a did-you-mean; GR104 otherwise, in the words of the rule
    that failed), or None.

    ``what`` names the document's top level in messages; ``hints`` maps a field name to what it
    expects (the fix); ``docs`` is where a missing key is explained; ``special(leaf, path,
    where, loc)`` may return a SpecError of its own for a violation (None: the generic report);
    ``blame(path) -> (loc, notes) | None`` may move the location (a value that came through a
    module parameter is blamed where the parameter was given).
    Shared by network specs, module arguments, experiment files and hierarchy files.
    """
    errors = list(validator.iter_errors(doc))
    if not errors:
        return None
    hints = hints or {}

    def located(path, *, key=False):
        moved = blame(path) if blame is not None else None
        return moved[:2] if moved is not None else (locate(doc, path, file, key=key), ())

    best = jsonschema.exceptions.best_match(errors)
    # best_match descends into anyOf branches by its own relevance; go back to the top-level
    # error it came from, so the value's own rule can win over the `$param` alternative
    best = next((e for e in errors if e is best or any(leaf is best for leaf in _leaf_errors(e))), best)
    # Prefer an unknown-key report: it is the most common typo and the most fixable
    # (a misspelt required key also shows up as "missing"; the typo is the better report).
    candidates = [best] + _leaf_errors(best)
    everything = [leaf for e in errors for leaf in [e] + _leaf_errors(e)]
    for candidate in candidates + everything:
        if candidate.validator == "additionalProperties" and candidate.schema.get("additionalProperties") is False:
            allowed = list(candidate.schema.get("properties", {}))
            key = next((k for k in candidate.instance if k not in allowed), "?")
            if _known_in_another_branch(candidate, key, validator.schema):
                continue
            path = list(candidate.absolute_path)
            loc, notes = located(path + [key], key=True)
            other = _other_file_kind(doc, allowed, file) if not path else None
            if other is not None:
                kind, how = other
                return SpecError("GR103", f"unknown key `{_clip(key)[1:-1]}` in {_describe(path, what)}: "
                                 f"this file is {kind}", loc=loc, notes=notes, fix=how)
            return SpecError("GR103", f"unknown key `{_clip(key)[1:-1]}` in {_describe(path, what)}"
                             f"{did_you_mean(key, allowed)}", loc=loc, notes=notes,
                             fix=f"use one of: {', '.join(allowed)}")
    leaf = _most_specific(candidates)
    path = list(leaf.absolute_path)
    moved = blame(path) if blame is not None else None
    where = moved[2] if moved is not None else _describe(path, what)
    loc, notes = located(path)
    if special is not None:
        custom = special(leaf, path, where, loc)
        if custom is not None:
            return custom
    if leaf.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", leaf.message)
        key = missing[0] if missing else "?"
        more = f" ({hints[key]})" if key in hints else (f" (see {docs})" if docs else "")
        return SpecError("GR104", f"{where} is missing the required key `{key}`", loc=loc, notes=notes,
                         fix=f"add `{key}: ...` to {where}{more}")
    field = next((step for step in reversed(path) if isinstance(step, str)), "")
    fix = f"expected {hints[field]}" if field in hints else _fix_for(leaf)
    code = "GR108" if leaf.validator == "maximum" else "GR104"   # the schema's maximums are the limits
    return SpecError(code, f"{where}: {_words(leaf)}", loc=loc, notes=notes, fix=fix)


# A file's kind shows in its top-level keys.  Handed to another kind's loader (a common slip:
# `graphrnn validate experiment.yaml`), the error says which file it is and what reads it.
FILE_KINDS = (   # a sweep names its experiment under `experiment:`: sweeps are recognised first
    (("sweep", "grid", "overrides"), "a sweep file", "run it: `graphrnn sweep {file}`"),
    (("hierarchy", "levels"), "a history-compressor hierarchy",
     "load it with `graphrnn.models.load_hierarchy` (docs/compressor.md)"),
    (("experiment", "network", "optimizer"), "an experiment file", "train with it: `graphrnn train {file}`"),
    (("nodes", "edges", "module"), "a network spec",
     "check it with `graphrnn validate {file}`; an experiment names it under `network:`"),
)


def _other_file_kind(doc, allowed, file: str) -> tuple[str, str] | None:
    """(kind, what reads it) when ``doc``'s top level has another file kind's keys that the
    schema being checked does not allow, else None."""
    if not isinstance(doc, dict):
        return None
    for keys, kind, how in FILE_KINDS:
        if any(key in doc and key not in allowed for key in keys):
            return kind, how.format(file=file)
    return None


def _spec_names(leaf, path, where, loc):
    """A network spec's references and names break the schema's patterns: say which rule."""
    if leaf.validator != "pattern" or _is_param_branch(leaf) and path and path[-1] in FIELD_HINTS:
        return None
    if isinstance(leaf.instance, str) and leaf.instance.startswith("$"):
        return SpecError("GR104", f"{where}: {_clip(leaf.instance)} is not a valid `$param` reference "
                         f"(pattern {leaf.validator_value})", loc=loc,
                         fix="write `$` and a parameter name the module declares under `params:`")
    if path and path[-1] in ("from", "to", "share") or (len(path) >= 2 and path[-2] in ("from", "to")):
        return SpecError("GR104", f"{where}: {_clip(leaf.instance)} is not a valid reference "
                         f"(pattern {leaf.validator_value})", loc=loc,
                         fix="write `node`, `node.port` or `module_instance.node` (letters, digits, _)")
    return SpecError("GR104", f"{where}: {_clip(leaf.instance)} is not a valid name "
                     f"(pattern {leaf.validator_value})", loc=loc,
                     fix="names start with a letter or _ and contain only letters, digits and _ (no dots)")


def check_schema(doc, file: str) -> None:
    """Raise SpecError for the most relevant schema violation of a network or module spec, if any."""
    error = schema_error(_validator(), doc, file, hints=FIELD_HINTS, special=_spec_names)
    if error is not None:
        raise error


def check_arguments(module: MarkedDict, file: str, params: dict, param_locs: dict, use_loc: Location) -> None:
    """The module's body with its parameters' values in place of ``$name`` must fit the schema
    too (``{use: gru2, size: "16"}`` puts a string where an integer belongs); the error is
    located at the argument, with a note on where the module uses it.  A parameter declared
    without a default (``size: null``) and not given is demanded (GR104 at the ``use:``)."""
    missing = [name for name, value in params.items() if value is None]
    if missing:
        raise SpecError("GR104", f"module `{module.get('module')}` needs `{missing[0]}`, which has no default",
                        loc=use_loc, fix=f"give it where the module is used: `{missing[0]}: ...` beside `use:`")
    used_at: dict = {}

    def substitute(value, loc):
        if isinstance(value, str) and value.startswith("$") and value[1:] in params:
            used_at[id(params[value[1:]]), value[1:]] = loc
            return params[value[1:]]
        if isinstance(value, MarkedDict):
            copy = MarkedDict((k, substitute(v, value.value_loc(k))) for k, v in value.items())
            copy.loc, copy.key_locs, copy.value_locs = value.loc, value.key_locs, value.value_locs
            return copy
        if isinstance(value, MarkedList):
            copy = MarkedList(substitute(v, value.item_loc(i)) for i, v in enumerate(value))
            copy.loc, copy.item_locs = value.loc, value.item_locs
            return copy
        return value

    body = MarkedDict((k, substitute(v, module.value_loc(k)) if k != "params" else v) for k, v in module.items())
    body.loc, body.key_locs, body.value_locs = module.loc, module.key_locs, module.value_locs

    def blame(path):
        raw = module
        try:
            for step in path:
                raw = raw[step]
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(raw, str) and raw.startswith("$") and raw[1:] in param_locs:
            return (param_locs[raw[1:]], (f"`{raw}` is used at {locate(module, path, file)} "
                                          f"({_describe(path)})",),
                    f"`{raw[1:]}` of module `{module.get('module')}`")
        return None

    error = schema_error(_validator(), body, file, hints=FIELD_HINTS, special=_spec_names, blame=blame)
    if error is not None:
        raise error


def read_text(path, noun: str, loc: Location | None = None, hint: str = "check the path",
              max_bytes: int = MAX_TEXT_BYTES) -> str:
    """A user's text file (a spec, an experiment, a hierarchy, trees): GR108 past ``max_bytes``
    (found without reading more than that), GR100 when it is not UTF-8, GR114 when it cannot be
    read; ``loc`` blames the reference that named it."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise SpecError("GR114", f"cannot read {noun} {path}: {reason}", loc=loc or Location(str(path)),
                        fix=hint) from None
    if len(raw) > max_bytes:
        raise SpecError("GR108", f"the {noun} {path} is larger than {max_bytes:,} bytes", loc=loc or Location(str(path)),
                        fix="split it into smaller files" + (" (specs: into modules)" if noun == "spec" else ""))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SpecError("GR100", f"{path} is not UTF-8 text ({err.reason})", loc=Location(str(path)),
                        fix=f"save the {noun} as UTF-8") from None


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
    "uniform": "a half-width r > 0 (at most 1e6): weights drawn from U(-r, r)",
    "normal": "a standard deviation > 0 (at most 1e6)",
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
