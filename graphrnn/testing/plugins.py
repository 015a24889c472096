"""Import the Python code that registers custom node kinds (``graphrnn check --plugin``).

A spec never executes code: a custom node kind is registered in Python
(:func:`graphrnn.ops.register_op`) and named in YAML (``op: highway``).  A
*plugin* is the module that does the registering; :func:`load_plugin` imports
it by dotted name (``mypackage.kinds``) or by file path
(``examples/custom_kind/kind.py``).  An *installed* package needs no plugin:
it declares its kinds under the ``graphrnn.kinds`` entry point group, which
graphrnn/ops/installed.py loads when a spec names one.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["load_plugin", "PluginError"]


class PluginError(ImportError):
    """A plugin could not be found or imported; the message says which and why."""


def _is_path(target: str) -> bool:
    return target.endswith(".py") or "/" in target or "\\" in target or Path(target).is_file()


def module_name_for(path: Path) -> str:
    """The name a plugin file is imported under: stable for one resolved path."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"graphrnn_plugin_{stem}_{digest}"


def load_plugin(target: str) -> ModuleType:
    """Import ``target``, a dotted module name or a ``.py`` file path; returns the module.

    A file is imported under a name derived from its resolved path
    (:func:`module_name_for`) and registered in ``sys.modules``, so loading
    the same file twice runs it once.  Raises :class:`PluginError` when the
    module cannot be found or raises while importing (a kind registered
    twice, for example).
    """
    target = str(target)
    if _is_path(target):
        path = Path(target).resolve()
        if not path.is_file():
            raise PluginError(f"plugin file `{target}` not found (looked at {path})")
        name = module_name_for(path)
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise PluginError(f"cannot import `{target}`: not a Python source file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as err:
            del sys.modules[name]
            raise PluginError(f"plugin `{target}` raised {type(err).__name__}: {err}") from err
        return module
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as err:
        if err.name and target.startswith(err.name):
            raise PluginError(f"no module named `{target}` (give a dotted module name on sys.path "
                              f"or a path to a .py file)") from err
        raise PluginError(f"plugin `{target}` raised {type(err).__name__}: {err}") from err
    except Exception as err:
        raise PluginError(f"plugin `{target}` raised {type(err).__name__}: {err}") from err
