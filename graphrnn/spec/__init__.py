"""Load stage: YAML text -> :class:`Spec` (safe, located, schema-checked).

Public entry point: :func:`read_spec`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Location, SpecError
from .validate import check_schema, did_you_mean, schema
from .yamlmarks import MarkedDict, MarkedList, load_yaml

FORMAT_VERSION = 1

__all__ = ["Spec", "read_spec", "schema", "did_you_mean", "MarkedDict", "MarkedList"]


@dataclass(frozen=True)
class Spec:
    """A schema-valid spec document.

    ``kind`` is ``"network"`` or ``"module"``; ``data`` is the loaded
    MarkedDict (every key and value knows its file:line:col); ``file`` is the
    path it came from (or ``<string>``), used to resolve relative modules.
    """

    kind: str
    name: str
    file: str
    data: MarkedDict

    def __str__(self) -> str:
        return f"Spec({self.kind} {self.name!r} from {self.file})"


def read_spec(text: str, file: str = "<string>") -> Spec:
    """Parse and schema-check one spec document; raises SpecError."""
    data = load_yaml(text, file)
    if not isinstance(data, MarkedDict):
        raise SpecError("GR104", "a spec must be a mapping with `graphrnn: 1` at the top",
                        loc=getattr(data, "loc", Location(file, 1, 1)),
                        fix="start the file with `graphrnn: 1`")
    if "graphrnn" not in data:
        raise SpecError("GR111", "missing the format version key `graphrnn`",
                        loc=data.loc, fix="add `graphrnn: 1` as the first line")
    if data["graphrnn"] != FORMAT_VERSION or isinstance(data["graphrnn"], bool):
        raise SpecError("GR111", f"format version {data['graphrnn']!r} is not supported",
                        loc=data.value_loc("graphrnn"),
                        fix=f"this graphrnn reads `graphrnn: {FORMAT_VERSION}`")
    check_schema(data, file)
    kind = "module" if "module" in data else "network"
    name = data.get("module") or data.get("name") or Path(file).stem
    return Spec(kind, str(name), file, data)
