"""Reading a spec's values inside the expand stage: ``$param`` substitution, typed values and
errors located where the user wrote them (at a module instance's argument when a value came
through a module parameter)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GraphError, Location
from ..ops import OPS, EdgeKind
from ..spec import MarkedDict, did_you_mean


@dataclass
class Scope:
    """Names visible inside one network or module instance."""

    prefix: str
    file: str
    params: dict
    param_locs: dict = field(default_factory=dict)  # where each parameter's value was written
    nodes: dict = field(default_factory=dict)       # local name -> qualified node
    instances: dict = field(default_factory=dict)   # local name -> Instance
    inputs: set = field(default_factory=set)


class ValueReader:
    """The value-reading half of the Expander (see expand.py)."""

    def value(self, data: MarkedDict, key, scope: Scope, default=None):
        """``data[key]`` with ``$param`` substituted from the scope."""
        if key not in data:
            return default
        return self.substitute(data[key], scope, data.value_loc(key))

    def substitute(self, raw, scope: Scope, loc: Location):
        if isinstance(raw, str) and raw.startswith("$"):
            name = raw[1:]
            if name not in scope.params:
                raise GraphError("GR105", f"unknown module parameter `{raw}`"
                                 f"{did_you_mean(name, scope.params)}", loc=loc,
                                 fix="declare it under `params:` of the module, with a default")
            return scope.params[name]
        if isinstance(raw, dict):
            return {k: self.substitute(v, scope, raw.value_loc(k) if isinstance(raw, MarkedDict) else loc)
                    for k, v in raw.items()}
        return raw

    @staticmethod
    def where(data: MarkedDict, key, scope: Scope) -> tuple:
        """(location, notes) for an error about ``data[key]``.

        A value that came through a module parameter is blamed where the user
        wrote it (the instance's argument), with a note on where it was used.
        """
        raw = data.get(key)
        if isinstance(raw, str) and raw[1:] in scope.param_locs:
            return scope.param_locs[raw[1:]], (f"passed to `{raw}`, used at {data.value_loc(key)}",)
        return data.value_loc(key), ()

    def kind_options(self, name, kind, data: MarkedDict, size: int, scope: Scope) -> tuple:
        """The options a kind reads from the mapping named after it (``memory: {...}``), checked."""
        if not kind.takes_options:
            for other in OPS.values():
                if other.takes_options and other.name in data:
                    self.refuse("GR104", f"`{other.name}:` options belong to `op: {other.name}` nodes, "
                                f"and `{name}` is a `{kind.name}` node", data, other.name, scope,
                                fix=f"write `op: {other.name}`, or remove `{other.name}:`")
            return ()
        raw = data.get(kind.name, MarkedDict())
        if not isinstance(raw, dict):
            self.refuse("GR104", f"`{kind.name}` must be a mapping of options", data, kind.name, scope,
                        fix=f"write `{kind.name}: {{{', '.join(f'{k}: {v}' for k, v in kind.options.items())}}}`")
        options = dict(kind.options)
        for key in raw:
            if key not in kind.options:
                loc = raw.key_loc(key) if isinstance(raw, MarkedDict) else data.value_loc(kind.name)
                raise GraphError("GR103", f"unknown {kind.name} option `{key}`{did_you_mean(key, kind.options)}",
                                 loc=loc, fix=f"use one of: {', '.join(kind.options)}")
            options[key] = self.value(raw, key, scope)
        problem = kind.check_options(options, size)
        if problem:
            key, message = problem
            if key in raw and isinstance(raw, MarkedDict):
                self.refuse("GR104", f"node `{name}`: {message}", raw, key, scope, fix=f"fix `{key}:`")
            where = kind.name if kind.name in data else "size"
            self.refuse("GR104", f"node `{name}`: {message}", data, where, scope,
                        fix=f"fix `{kind.name}:` or `size:`")
        return tuple(sorted(options.items()))

    def refuse(self, code, message, data, key, scope, fix):
        loc, notes = self.where(data, key, scope)
        raise GraphError(code, message, loc=loc, notes=notes, fix=fix)

    def integer(self, data, key, scope, default, minimum):
        value = self.value(data, key, scope, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.refuse("GR104", f"`{key}` must be an integer >= {minimum}, got {value!r}", data, key,
                        scope, fix=f"give `{key}` a whole number >= {minimum}")
        return value

    def flag(self, data, key, scope, default):
        value = self.value(data, key, scope, default)
        if not isinstance(value, bool):
            self.refuse("GR104", f"`{key}` must be true or false, got {value!r}", data, key, scope,
                        fix=f"write `{key}: true` or `{key}: false`")
        return value

    def array(self, data, key, scope):
        """``data[key]`` as a finite float array (weights, masks), or None when absent."""
        value = self.value(data, key, scope)
        if value is None:
            return None
        try:
            array = np.asarray(value, dtype=float)
        except (ValueError, TypeError):
            self.refuse("GR112", f"`{key}` is not a rectangular array of numbers", data, key, scope,
                        fix="give every row the same number of values")
        if not np.all(np.isfinite(array)):
            self.refuse("GR112", f"`{key}` contains a non-finite value (nan or inf)", data, key, scope,
                        fix="use finite numbers")
        return array

    def init_scheme(self, data, scope, kind: EdgeKind):
        init = self.value(data, "init", scope, kind.default_init)
        numbers = [init] if isinstance(init, (int, float)) else list(init.values()) if isinstance(init, dict) else []
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) for v in numbers):
            self.refuse("GR112", f"`init` needs finite numbers, got {init!r}", data, "init", scope,
                        fix="e.g. `init: {uniform: 0.1}`")
        if init == "orthogonal" and kind.param_rank != 2:
            has = "a number" if kind.param_rank == 0 else "a vector"
            self.refuse("GR112", f"`orthogonal` init needs a matrix; a `{kind.name}` edge has {has}",
                        data, "init", scope, fix="use `init: {uniform: 0.1}` or make the edge dense")
        return init

    # -- network and module bodies -------------------------------------------
