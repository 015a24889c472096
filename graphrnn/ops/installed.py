"""Node kinds that installed packages register, found through the entry point group ``graphrnn.kinds``.

A package that provides node kinds declares, in its pyproject.toml, one entry point per kind,
named as specs name the kind::

    [project.entry-points."graphrnn.kinds"]
    highway = "mypackage.kinds"             # a module whose import calls register_op(...)
    # or "mypackage.kinds:register"         # a function called with no arguments

Once the package is installed (``pip install mypackage``), ``op: highway`` works in any spec,
from Python and from every ``graphrnn`` command, with no ``--plugin``: the expand stage asks
:func:`installed_kind` for a kind it does not know, which imports only the entry points of that
name.  ``--plugin`` (graphrnn/testing/plugins.py) remains for code that is not installed.
"""
from __future__ import annotations

from importlib.metadata import entry_points
from types import ModuleType

from .registry import OPS

GROUP = "graphrnn.kinds"

__all__ = ["GROUP", "InstalledKindError", "installed_kind", "installed_kind_names"]


class InstalledKindError(ImportError):
    """An installed package's entry point for a node kind failed to load or did not register it."""


def installed_kind_names() -> list[str]:
    """The node kind names installed packages offer (loaded or not), sorted."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def installed_kind(name: str) -> bool:
    """Load the ``graphrnn.kinds`` entry points named ``name``; True when ``name`` is then a
    registered node kind, False when no installed package offers it.

    Raises :class:`InstalledKindError` (naming the package and the entry point) when loading
    one raises, or when it loads but registers no kind of that name.
    """
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    for ep in found:
        where = f"entry point `{ep.name} = {ep.value}` (group {GROUP}) of package " \
                f"`{ep.dist.name if ep.dist else '?'}`"
        if name in OPS:    # two packages may point at one module: loaded once
            break
        try:
            target = ep.load()
            if callable(target) and not isinstance(target, (ModuleType, type)):
                target()
        except Exception as err:     # a broken plugin must not take down the command with a traceback
            raise InstalledKindError(f"{where} failed to load: {type(err).__name__}: {err}") from err
        if name not in OPS:
            raise InstalledKindError(f"{where} loaded but registered no node kind `{name}`")
    return name in OPS
