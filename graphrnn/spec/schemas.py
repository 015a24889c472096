"""The JSON Schemas graphrnn ships, for editors and validators: ``graphrnn schema KIND``.

Each file kind has one schema, shipped as package data beside the code that
reads the files: specs (spec/schema.json), experiments
(train/experiment_schema.json), hierarchies (models/hierarchy_schema.json)
and sweeps (sweep/sweep_schema.json).  They are found by path from the
package's folder, so this module imports nothing above its floor.

An editor with yaml-language-server (VS Code's YAML extension) validates
and completes a file whose first line is::

    # yaml-language-server: $schema=<path or URL of the schema>

(``graphrnn schema spec --path`` prints the installed file's path;
``graphrnn schema spec > spec.schema.json`` writes a copy).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import Location, SpecError

PACKAGE = Path(__file__).resolve().parents[1]

#: file kind -> the schema's path inside the package
SCHEMAS = {
    "spec": "spec/schema.json",
    "experiment": "train/experiment_schema.json",
    "hierarchy": "models/hierarchy_schema.json",
    "sweep": "sweep/sweep_schema.json",
}


def schema_path(kind: str) -> Path:
    """The installed schema file of a file kind; GR114 when this installation lacks it."""
    if kind not in SCHEMAS:
        raise SpecError("GR104", f"no schema for `{kind}`", loc=Location("<command line>"),
                        fix=f"use one of: {', '.join(SCHEMAS)}")
    path = PACKAGE / SCHEMAS[kind]
    if not path.is_file():
        raise SpecError("GR114", f"the {kind} schema is not installed ({path})", loc=Location(str(path)),
                        fix="reinstall graphrnn; this version may not read that kind of file yet")
    return path


def schema_text(kind: str) -> str:
    """The schema of a file kind as JSON text (checked to be JSON)."""
    text = schema_path(kind).read_text(encoding="utf-8")
    json.loads(text)
    return text


def modeline(kind: str) -> str:
    """The first line that points yaml-language-server at the installed schema."""
    return f"# yaml-language-server: $schema={schema_path(kind).as_uri()}"


def cmd_schema(args) -> int:
    if args.path:
        print(schema_path(args.kind))
    elif args.modeline:
        print(modeline(args.kind))
    else:
        print(schema_text(args.kind), end="")
    return 0


def add_schema_parser(commands) -> None:
    """The `schema` subcommand (cli.py calls this)."""
    p = commands.add_parser(
        "schema", help="print the JSON Schema of a file kind (for editors and validators)",
        description="Print the JSON Schema (draft 2020-12) of specs, experiments, hierarchies or "
                    "sweeps.  Editors with yaml-language-server validate a YAML file whose first line "
                    "is `# yaml-language-server: $schema=PATH` (--modeline prints that line).",
        epilog="Example: graphrnn schema spec > spec.schema.json; check-jsonschema --schemafile "
               "spec.schema.json specs/elman.yaml")
    p.add_argument("kind", choices=list(SCHEMAS), metavar="KIND", help="spec | experiment | hierarchy | sweep")
    show = p.add_mutually_exclusive_group()
    show.add_argument("--path", action="store_true", help="print the installed schema file's path instead")
    show.add_argument("--modeline", action="store_true",
                      help="print the `# yaml-language-server: $schema=...` line for the installed file")
    p.set_defaults(func=cmd_schema)
