"""Write a spec back to YAML text: the "dump" of the load -> dump -> load round trip.

    text = dumps(net)                      # or dumps(net.spec), dumps(mapping)
    again = graphrnn.loads(text, net.spec.file)

The text is the spec document as loaded (``net.spec.data``), written as plain
dicts, lists and scalars by a ``yaml.SafeDumper`` in the document's own key
order.  It is the spec as written, modules unexpanded: ``use:`` entries stay
``use:`` entries, so reload it with the same file name (``net.spec.file``)
and relative module paths still resolve.  Comments and YAML anchors are not
kept (aliases are written out in full).
"""
from __future__ import annotations

from collections.abc import Mapping

import yaml

from ..spec.yamlmarks import plain

__all__ = ["dumps", "plain"]


class _Dumper(yaml.SafeDumper):
    """SafeDumper that indents block sequences under their key and writes
    multi-line strings (``doc: |``) as literal blocks."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dumps(source) -> str:
    """YAML text of a spec: ``source`` is a Network (its ``spec``), a Spec, or a mapping.

    Raises ValueError for a Network built without a spec (``net.spec is None``).
    """
    data = getattr(source, "spec", source)
    if data is None:
        raise ValueError("this network was built from a Graph, not a spec: there is no YAML to dump")
    data = getattr(data, "data", data)
    if not isinstance(data, Mapping):
        raise TypeError(f"cannot dump a {type(source).__name__}: give a Network, a Spec or a mapping")
    return yaml.dump(plain(data), Dumper=_Dumper, sort_keys=False, default_flow_style=None,
                     allow_unicode=True, width=100)
