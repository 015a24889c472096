"""Expand stage: a network Spec with ``use:`` nodes -> a flat primitive Graph.

Modules are inlined with qualified names (``block1.in_gate``); ``$param``
references are substituted; every reference is resolved to primitive nodes;
every record keeps the location of the YAML it came from.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ..errors import GraphError, Location
from ..ops import ACTIVATIONS, EDGE_KINDS, OPS, EdgeKind, InstalledKindError, input_ports, installed_kind
from ..spec import MarkedDict, MarkedList, Spec, did_you_mean
from ..spec.validate import check_arguments
from .ir import INPUT, Edge, Graph, ModuleInstance, Link, Node, edge_label, natural_key
from .reading import Scope, ValueReader

MAX_NODE_SIZE = 1_000_000
MAX_NODES = 100_000
MAX_MODULE_DEPTH = 32


@dataclass
class Instance:
    """A module instance: its inner scope and its ports (port -> qualified nodes)."""

    module: str
    scope: Scope
    ports: dict


class Expander(ValueReader):
    """Builds one Graph; ``load_module(use, from_file, loc) -> Spec`` finds modules."""

    def __init__(self, load_module):
        self.load_module = load_module
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.module_stack: list[str] = []
        self.instances: list[ModuleInstance] = []

    def network(self, spec: Spec) -> Graph:
        if spec.kind != "network":
            raise GraphError("GR109", f"`{spec.name}` is a module, not a network",
                             loc=spec.data.loc,
                             fix="load a network spec that `use:`s this module; to look at the module "
                                 f"alone, with its defaults: `graphrnn show {spec.name}`, or in Python "
                                 f"graphrnn.inspection.load_for_inspection({spec.name!r})")
        data = spec.data
        scope = Scope(prefix="", file=spec.file, params={})
        inputs = {}
        for name, size in data["inputs"].items():
            self.add_node(Node(name, INPUT, size, loc=data["inputs"].key_loc(name)))
            scope.inputs.add(name)
            scope.nodes[name] = name
            inputs[name] = size
        self.body(data, scope)
        outputs = {}
        for name, size in data["outputs"].items():
            loc = data["outputs"].key_loc(name)
            targets = [n for n, _ in self.resolve(name, scope, loc, as_source=True)]
            if len(targets) != 1:
                raise GraphError("GR105", f"output `{name}` names {len(targets)} nodes; it must name one",
                                 loc=loc, fix="name a single node, e.g. `block1.out`")
            node = self.nodes[targets[0]]
            if node.size != size:
                raise GraphError("GR106", f"output `{name}` is declared with size {size} but node "
                                 f"`{node.name}` has size {node.size}",
                                 loc=data["outputs"].value_loc(name),
                                 fix=f"declare `{name}: {node.size}` or change the node's size")
            outputs[name] = node.name
        return Graph(name=spec.name, file=spec.file, doc=str(data.get("doc", "")),
                     over=str(data.get("over", "sequence")),
                     nodes=dict(sorted(self.nodes.items(), key=lambda item: natural_key(item[0]))),
                     edges=tuple(sorted(self.edges, key=lambda e: (e.dst, e.src, e.delay, e.kind, e.param or ""))),
                     inputs=inputs, outputs=outputs, instances=tuple(self.instances))

    def body(self, data: MarkedDict, scope: Scope) -> None:
        nodes = data.get("nodes", {})
        for name in nodes:   # names first, so edges and ports may refer forward
            if name in scope.nodes or name in scope.instances:
                raise GraphError("GR110", f"`{name}` is both an input and a node",
                                 loc=nodes.key_loc(name), fix="rename one of them")
            node_data = nodes[name]
            if "use" in node_data:
                scope.instances[name] = self.instantiate(name, node_data, scope)
            else:
                self.primitive_node(name, node_data, scope, nodes.key_loc(name))
        edges = data.get("edges", MarkedList())
        for index, edge_data in enumerate(edges):
            self.edge(edge_data, scope)

    def primitive_node(self, name, data: MarkedDict, scope: Scope, loc: Location) -> None:
        op = self.value(data, "op", scope, "sum")
        if op not in OPS and not self.installed(op, data, scope):
            self.refuse("GR113", f"unknown node kind `{op}`{did_you_mean(op, OPS)}", data, "op", scope,
                        fix=f"use one of: {', '.join(sorted(OPS))}; kinds of installed packages are found "
                            "through the `graphrnn.kinds` entry point group")
        kind = OPS[op]
        activation = self.value(data, "activation", scope, "identity")
        if activation not in ACTIVATIONS:
            self.refuse("GR113", f"unknown activation `{activation}`{did_you_mean(activation, ACTIVATIONS)}",
                        data, "activation", scope, fix=f"use one of: {', '.join(sorted(ACTIVATIONS))}")
        if "size" in data or not kind.takes_options:
            size = self.integer(data, "size", scope, None, 1)
        else:   # the kind sizes the node from its options (a memory: reads x width)
            size = None
        bias = self.flag(data, "bias", scope, kind.bias_default)
        if bias and not kind.allows_bias:
            raise GraphError("GR104", f"`{op}` nodes have no bias", loc=data.value_loc("bias"),
                             fix="remove `bias:`; put the bias on a sum node that feeds this one")
        initial = self.value(data, "initial", scope, "zeros")
        if isinstance(initial, bool) or not (initial in ("zeros", "learned") or
                                             (isinstance(initial, (int, float)) and np.isfinite(initial))):
            self.refuse("GR104", f"`initial` must be zeros, learned or a finite number, got {initial!r}",
                        data, "initial", scope, fix="write `initial: zeros`")
        initial = float(initial) if isinstance(initial, (int, float)) else initial
        bias_init = self.value(data, "bias_init", scope, "zeros")
        options = self.kind_options(name, kind, data, size, scope)
        if size is None:
            size = kind.size_of(dict(options))
        if size > MAX_NODE_SIZE:
            self.refuse("GR108", f"node `{name}` has size {size} (limit {MAX_NODE_SIZE})", data,
                        "size" if "size" in data else kind.name, scope, fix="use a smaller size")
        qualified = scope.prefix + name
        self.add_node(Node(qualified, op, size, activation, bias, bias_init, initial, loc, options))
        scope.nodes[name] = qualified

    def installed(self, op, data, scope) -> bool:
        """Whether an installed package registers node kind ``op`` (its entry point, loaded now)."""
        if not isinstance(op, str):
            return False
        try:
            return installed_kind(op)
        except InstalledKindError as err:
            self.refuse("GR113", f"node kind `{op}`: {err}", data, "op", scope,
                        fix="fix or reinstall that package, or name another kind")

    def add_node(self, node: Node) -> None:
        if len(self.nodes) >= MAX_NODES:
            raise GraphError("GR108", f"the expanded graph has more than {MAX_NODES} nodes",
                             loc=node.loc, fix="use fewer, larger nodes")
        self.nodes[node.name] = node

    def instantiate(self, name, data: MarkedDict, scope: Scope) -> Instance:
        use = self.value(data, "use", scope)
        loc = data.value_loc("use")
        module = self.load_module(use, scope.file, loc)
        if module.kind != "module":
            raise GraphError("GR109", f"`{use}` is a network, not a module", loc=loc,
                             fix="`use:` a file that starts with `module: <name>`")
        if module.file in self.module_stack or len(self.module_stack) >= MAX_MODULE_DEPTH:
            chain = " -> ".join(self.module_stack + [module.file])
            raise GraphError("GR109", f"module `{use}` uses itself: {chain}", loc=loc,
                             fix="break the recursion; a module cannot contain itself")
        declared = module.data.get("params", MarkedDict())
        params = dict(declared)
        param_locs = {key: declared.value_loc(key) for key in declared}
        for key in data:
            if key == "use":
                continue
            if key not in declared:
                raise GraphError("GR103", f"module `{module.name}` has no parameter `{key}`"
                                 f"{did_you_mean(key, declared)}", loc=data.key_loc(key),
                                 fix=f"its parameters are: {', '.join(declared) or '(none)'}")
            params[key] = self.value(data, key, scope)
            param_locs[key] = self.where(data, key, scope)[0]
        check_arguments(module.data, module.file, params, param_locs, loc)   # the values fit where they go
        inner = Scope(prefix=f"{scope.prefix}{name}.", file=module.file, params=params,
                      param_locs=param_locs)
        self.instances.append(ModuleInstance(scope.prefix + name, module.name,
                                             tuple(sorted(params.items())), data.loc,
                                             tuple(sorted(k for k in declared if k not in data))))
        self.module_stack.append(module.file)
        self.body(module.data, inner)
        self.module_stack.pop()
        ports = {}
        port_data = module.data["ports"]
        for port, refs in port_data.items():
            refs = refs if isinstance(refs, list) else [refs]
            ports[port] = [q for ref in refs
                           for q in self.resolve(ref, inner, port_data.value_loc(port), as_source=None)]
        return Instance(module.name, inner, ports)

    # -- references and edges -------------------------------------------------
    def resolve(self, ref: str, scope: Scope, loc: Location, *, as_source) -> list:
        """(qualified node, input port) pairs that ``ref`` denotes in ``scope``.

        A bare instance name means its ``out`` port as a source and its ``in``
        port as a destination; ``inst.x`` is a port of the instance or, failing
        that, a member of it; ``node.port`` is an input port of a node kind
        that has ports.
        """
        head, _, rest = ref.partition(".")
        if head in scope.nodes and not rest:
            return [(scope.nodes[head], "")]
        if head in scope.instances:
            instance = scope.instances[head]
            if not rest:
                if as_source is None:
                    raise GraphError("GR105", f"`{ref}` is a module instance; name one of its ports",
                                     loc=loc, fix=f"write `{ref}.<port>`; ports: {', '.join(instance.ports)}")
                rest = "out" if as_source else "in"
                if rest not in instance.ports:
                    raise GraphError("GR105", f"module instance `{ref}` has no `{rest}` port",
                                     loc=loc, fix=f"name a port: {', '.join(instance.ports)}")
            port, _, deeper = rest.partition(".")
            if port in instance.ports and not deeper:
                return list(instance.ports[port])
            if port in instance.scope.nodes or port in instance.scope.instances:
                return self.resolve(rest, instance.scope, loc, as_source=as_source)
            known = list(instance.ports) + list(instance.scope.nodes) + list(instance.scope.instances)
            raise GraphError("GR105", f"module instance `{head}` has no port or member `{port}`"
                             f"{did_you_mean(port, known)}", loc=loc,
                             fix=f"its ports are: {', '.join(instance.ports)}")
        known = list(scope.nodes) + list(scope.instances)
        if head in scope.nodes:
            node = self.nodes[scope.nodes[head]]
            ports = () if node.is_input else tuple(input_ports(node))
            if rest in ports:
                return [(node.name, rest)]
            raise GraphError("GR105", f"node `{head}` has no port `{rest}`{did_you_mean(rest, ports)}", loc=loc,
                             fix=f"its ports are: {', '.join(ports)}" if ports else
                             f"write `{head}`; `{node.op}` nodes have no ports")
        raise GraphError("GR105", f"unknown node `{ref}`{did_you_mean(head, known)}", loc=loc,
                         fix=f"declare it under `nodes:` or use one of: {', '.join(known)}")

    def endpoints(self, data, key, scope, *, as_source):
        """[(node, port, loc)] for the ``from`` or ``to`` of an edge."""
        raw = data[key]
        refs = raw if isinstance(raw, list) else [raw]
        locs = raw.item_locs if isinstance(raw, MarkedList) else [data.value_loc(key)]
        out = []
        for ref, loc in zip(refs, locs):
            for name, port in self.resolve(ref, scope, loc, as_source=as_source):
                node = self.nodes[name]
                if as_source and port:
                    raise GraphError("GR105", f"`{ref}` is an input port of `{name}`; edges leave a node "
                                     "from its value", loc=loc, fix=f"write `from: {ref.rsplit('.', 1)[0]}`")
                if not as_source and node.is_input:
                    raise GraphError("GR105", f"`{ref}` is an input; inputs cannot receive edges",
                                     loc=loc, fix="send the edge to a node instead")
                if not as_source and not port and input_ports(node):
                    ports = tuple(input_ports(node))
                    raise GraphError("GR105", f"`{node.op}` node `{name}` has ports; say which one this "
                                     "edge feeds", loc=loc,
                                     fix=f"write `to: {ref}.<port>` with one of: {', '.join(ports)}")
                out.append((name, port, loc))
        return out

    def edge(self, data: MarkedDict, scope: Scope) -> None:
        kind = self.edge_kind(data, scope)
        delay = self.integer(data, "delay", scope, 0, 0)
        link = self.tree_link(data, scope)
        truncate = self.flag(data, "truncate", scope, False)
        trainable = self.flag(data, "trainable", scope, kind.default_trainable)
        weights = self.array(data, "weights", scope)
        init = self.init_scheme(data, scope, kind)
        mask = self.array(data, "mask", scope)
        density = self.value(data, "density", scope)
        share = self.value(data, "share", scope)
        self.edge_options_agree(data, kind, trainable, mask, density)
        sources = self.endpoints(data, "from", scope, as_source=True)
        targets = self.endpoints(data, "to", scope, as_source=False)
        masks = self.pair_masks(data, scope, mask, sources, targets)
        for i, (src, _, src_loc) in enumerate(sources):
            for j, (dst, port, dst_loc) in enumerate(targets):
                edge_mask = None if masks is None else masks[i][j]
                if edge_mask is not None and not np.any(edge_mask):
                    continue      # the mask leaves this pair of a list edge unconnected
                param = None
                if kind.learned or trainable:
                    param = scope.prefix + share if share else edge_label(src, dst, delay, port, link)
                if density is not None:
                    edge_mask = density_mask(param, self.nodes[src].size, self.nodes[dst].size, density)
                self.edges.append(Edge(
                    src, dst, kind.name, delay, truncate, trainable,
                    init if kind.learned else None, to_tuple(weights), to_tuple(edge_mask), param,
                    loc=data.loc, port=port, link=link))

    def pair_masks(self, data, scope, mask, sources, targets):
        """Each (source, destination) pair's mask, or None without a mask (GR112 for a bad one).

        A mask is either one pair's pattern (source size x destination size),
        given to every pair of a list edge, or a matrix over all the listed
        units (the sources' sizes summed x the destinations'), cut into one
        block per pair; a pair whose block is all zero gets no edge, one whose block
        is all ones a plain (unmasked) edge.  A mask
        that connects nothing at all is refused: it would be an edge with no
        effect.
        """
        if mask is None:
            return None
        rows = [self.nodes[src].size for src, _, _ in sources]
        cols = [self.destination_size(dst, port) for dst, port, _ in targets]
        if not np.any(mask):
            self.refuse("GR112", "the mask is all zeros: the edge would connect nothing", data, "mask", scope,
                        fix="put a 1 where a source unit feeds a destination unit, or remove the edge")
        shape = np.shape(mask)
        if shape == (sum(rows), sum(cols)) and (len(rows) > 1 or len(cols) > 1):
            row_at, col_at = np.cumsum([0] + rows), np.cumsum([0] + cols)
            blocks = [[mask[row_at[i]:row_at[i + 1], col_at[j]:col_at[j + 1]] for j in range(len(cols))]
                      for i in range(len(rows))]
            # a block of ones is a whole edge: no mask (unit-level nets get plain edges, or none)
            return [[None if np.all(block == 1) else block for block in row] for row in blocks]
        if len(set(rows)) == 1 and len(set(cols)) == 1 and shape == (rows[0], cols[0]):
            return [[mask] * len(cols) for _ in rows]
        want = [(rows[0], cols[0])] if len(set(rows)) == 1 and len(set(cols)) == 1 else []
        if len(rows) > 1 or len(cols) > 1:
            want.append((sum(rows), sum(cols)))
        if not want:     # single pair sizes differ per pair and no whole matrix: say the whole matrix
            want = [(sum(rows), sum(cols))]
        raise GraphError("GR112", f"edge {sources[0][0]} -> {targets[0][0]}: mask of shape {shape}, expected "
                    + " or ".join(str(w) for w in want)
                    + (f" (one pair's source x destination, or all {sum(rows)} listed source units x all "
                       f"{sum(cols)} listed destination units)" if len(rows) > 1 or len(cols) > 1 else
                       " (source units x destination units)"),
                    loc=data.loc, fix=f"give {want[-1][0]} rows of {want[-1][1]} zeros and ones")

    def destination_size(self, dst: str, port: str) -> int:
        node = self.nodes[dst]
        return input_ports(node)[port] if port else node.size

    def edge_kind(self, data: MarkedDict, scope: Scope) -> EdgeKind:
        """The edge's registered kind (GR104 with a did-you-mean for an unknown one)."""
        name = self.value(data, "kind", scope, "dense")
        if not isinstance(name, str) or name not in EDGE_KINDS:
            self.refuse("GR104", f"unknown edge kind `{name}`{did_you_mean(name, EDGE_KINDS)}", data, "kind",
                        scope, fix=f"use one of: {', '.join(EDGE_KINDS)}")
        return EDGE_KINDS[name]

    def tree_link(self, data: MarkedDict, scope: Scope) -> Link | None:
        """``child: k``, ``children: sum|mean`` or ``parent: true`` as a Link; None for none (GR120 for two)."""
        given = [key for key in ("delay", "child", "children", "parent") if key in data]
        if len(given) > 1:
            raise GraphError("GR120", f"an edge reads one position: give one of `delay`, `child`, `children`, "
                             f"`parent`, "
                             f"not {' and '.join(f'`{k}`' for k in given)}", loc=data.key_loc(given[1]),
                             fix=f"remove `{given[1]}`; write two edges to read both")
        if "child" in data:
            return Link("child", index=self.integer(data, "child", scope, 1, 1))
        if "children" in data:
            pool = self.value(data, "children", scope)
            if pool not in ("sum", "mean"):
                self.refuse("GR104", f"`children` must be sum or mean, got {pool!r}", data, "children", scope,
                            fix="write `children: sum` or `children: mean`")
            return Link("children", pool=pool)
        if "parent" in data:
            return Link("parent")
        return None

    @staticmethod
    def edge_options_agree(data, kind: EdgeKind, trainable, mask, density):
        """The keys the edge's kind needs and refuses (GR104), then those no edge takes together."""
        def refuse(key, why, fix):
            raise GraphError("GR104", why, loc=data.key_loc(key), fix=fix)
        for key, (why, fix) in kind.requires.items():
            if key not in data:
                raise GraphError("GR104", why, loc=data.loc, fix=fix)
        for key, (why, fix) in kind.refuses.items():
            if key in data:
                refuse(key, why, fix)
        if trainable and kind.nothing_to_train is not None:
            refuse("trainable", *kind.nothing_to_train)
        if mask is not None and density is not None:
            refuse("density", "give either `mask` or `density`, not both", "remove one")
        if "weights" in data and "init" in data:
            refuse("init", "give either `weights` (exact values) or `init` (a random scheme), not both",
                   "remove one")


def to_tuple(value):
    """Nested lists -> nested tuples (hashable, immutable); other values as they are."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list):
        return tuple(to_tuple(v) for v in value)
    return value


def density_mask(param: str, rows: int, cols: int, density: float) -> np.ndarray:
    """A fixed random 0/1 pattern with about ``density`` ones.

    It is part of the network's structure, not of its parameters, so it is
    seeded by the edge's parameter name: the same spec always has the same
    mask, whatever ``init(seed=...)`` is used.
    """
    rng = np.random.default_rng(zlib.crc32(param.encode()))
    return (rng.random((rows, cols)) < density).astype(float)


def expand(spec: Spec, load_module) -> Graph:
    """Inline every module of a network spec; returns the primitive Graph."""
    return Expander(load_module).network(spec)
