"""PyTorch interop: ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` <-> graphrnn stacks.

    from graphrnn.interop.torch import from_torch, to_torch
    net, params = from_torch(torch.nn.LSTM(4, 8, num_layers=2))
    y = net.run(params, x).y              # x: (T, B, 4) -> y: (T, B, 8)
    module = to_torch(net, params)        # float64 nn.LSTM, same function

PyTorch is optional: importing this module without it raises an ImportError
that says ``pip install torch``; ``import graphrnn`` never imports torch.

The network
-----------
A torch module with ``num_layers = L`` is the graphrnn network (see
:func:`stack_spec`)::

    inputs:  {x: input_size}
    outputs: {layerL: hidden_size}          # the last layer's h
    nodes:   layer1 .. layerL: {use: lstm | gru | rnn_tanh | rnn_relu,
                                size: hidden_size[, bias: false]}
    edges:   x -> layer1, layer1 -> layer2, ..., layer(L-1) -> layerL

Shapes: graphrnn is time-major, x is (T, B, input_size) and ``trace.y`` is
(T, B, hidden_size), the sequence of the top layer's h: the first element of
what the torch module returns for a (T, B, input_size) input and the zero
initial state (h0 = c0 = 0 in torch; ``initial: zeros`` in the library
modules).  A module built with ``batch_first=True`` is accepted (the
weights do not depend on it), but graphrnn's inputs stay time-major: feed it
``x.transpose(1, 0, 2)``.  Inter-layer ``dropout`` is applied by torch only
in training mode; the network computes the module's eval-mode function.

Parameters (float64 numpy, layer k = 1..L, torch suffix ``_l{k-1}``, ``src``
is ``x`` for layer 1 and ``layer{k-1}.h`` above it).  Dense weights are
stored (source, destination), the transpose of torch's (out, in) blocks;
torch stacks the gates' blocks along its first axis in the order
LSTM i, f, g, o; GRU r, z, n; RNN one block:

============================  ==========================================
graphrnn                      torch
============================  ==========================================
``src->layerk.G``             ``weight_ih[G block].T``   (in, hidden)
``layerk.h->layerk.G@1``      ``weight_hh[G block].T``   (hidden, hidden)
  (GRU n: ``layerk.h->layerk.hn@1``)
``layerk.G.bias``             ``bias_ih[G] + bias_hh[G]`` (hidden,)
GRU ``layerk.n.bias``         ``bias_ih[n]`` (b_in, outside r * (...))
GRU ``layerk.hn.bias``        ``bias_hh[n]`` (b_hn, inside r * (W_hn h + b_hn))
============================  ==========================================

For an RNN the gate G is the single node ``h``.  graphrnn keeps one bias
per gate node where torch keeps two whose sum is all that matters, so
:func:`to_torch` puts the sum in ``bias_ih`` and zeros in ``bias_hh``,
except GRU's n gate, whose b_in and b_hn act differently and stay apart.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as err:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError("graphrnn.interop.torch needs PyTorch, an optional dependency of graphrnn: "
                      "pip install torch") from err

from ..compiler import loads
from ..graph.ir import edge_label
from ..ops import EDGE_KINDS
from ..runtime import Network

__all__ = ["from_torch", "to_torch", "stack_spec", "SUPPORTED"]

SUPPORTED = "torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN (nonlinearity 'tanh' or 'relu')"


@dataclass(frozen=True)
class _Cell:
    """How one library module's parameters lie in torch's stacked blocks.

    ``ih``/``hh``: the member receiving each gate block of weight_ih/weight_hh;
    ``bias_ih``: the member whose bias takes each block of bias_ih;
    ``bias_hh``: the member whose bias takes each block of bias_hh when it is
    not the same as ``bias_ih`` (GRU's n gate: b_hn belongs to node ``hn``).
    """

    module: str
    torch_class: str
    ih: tuple
    hh: tuple
    bias_hh: tuple

    @property
    def gates(self) -> int:
        return len(self.ih)


CELLS = {
    "lstm": _Cell("lstm", "LSTM", ("i", "f", "g", "o"), ("i", "f", "g", "o"), ("i", "f", "g", "o")),
    "gru": _Cell("gru", "GRU", ("r", "z", "n"), ("r", "z", "hn"), ("r", "z", "hn")),
    "rnn_tanh": _Cell("rnn_tanh", "RNN", ("h",), ("h",), ("h",)),
    "rnn_relu": _Cell("rnn_relu", "RNN", ("h",), ("h",), ("h",)),
}


@dataclass(frozen=True)
class _Stack:
    module: str          # a key of CELLS
    input_size: int
    hidden_size: int
    num_layers: int
    bias: bool


# -- the spec -------------------------------------------------------------------
def stack_spec(module: str, input_size: int, hidden_size: int, num_layers: int = 1,
               bias: bool = True) -> str:
    """The YAML text of a plain stack of ``num_layers`` library ``module`` instances.

    ``module`` is one of ``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu``.  The
    network reads ``x`` (input_size) and outputs the last layer's h, named
    ``layer{num_layers}`` (hidden_size).
    """
    if module not in CELLS:
        raise ValueError(f"module {module!r} is not one of {', '.join(CELLS)}")
    cls = CELLS[module].torch_class
    bias_arg = "" if bias else ", bias: false"
    lines = [
        "graphrnn: 1",
        f"name: torch_{module}",
        "doc: |",
        f"  {num_layers} layer(s) of the library module `{module}`, the form of",
        f"  torch.nn.{cls}(input_size={input_size}, hidden_size={hidden_size}, "
        f"num_layers={num_layers}, bias={bias}); see graphrnn.interop.torch.",
        "over: sequence",
        f"inputs: {{x: {input_size}}}",
        f"outputs: {{layer{num_layers}: {hidden_size}}}",
        "nodes:",
    ]
    lines += [f"  layer{k}: {{use: {module}, size: {hidden_size}{bias_arg}}}"
              for k in range(1, num_layers + 1)]
    lines += ["edges:", "  - {from: x, to: layer1}"]
    lines += [f"  - {{from: layer{k}, to: layer{k + 1}}}" for k in range(1, num_layers)]
    return "\n".join(lines) + "\n"


def _source(layer: int) -> str:
    return "x" if layer == 1 else f"layer{layer - 1}.h"


def _names(cell: _Cell, layer: int, bias: bool):
    """graphrnn names of layer ``layer``'s parameters, per torch gate block."""
    me = f"layer{layer}"
    ih = [edge_label(_source(layer), f"{me}.{g}", 0) for g in cell.ih]
    hh = [edge_label(f"{me}.h", f"{me}.{g}", 1) for g in cell.hh]
    b_ih = [f"{me}.{g}.bias" for g in cell.ih] if bias else []
    b_hh = [f"{me}.{g}.bias" for g in cell.bias_hh] if bias else []
    return ih, hh, b_ih, b_hh


# -- torch -> graphrnn -------------------------------------------------------------
def _torch_cell(module) -> str:
    if isinstance(module, nn.LSTM):
        return "lstm"
    if isinstance(module, nn.GRU):
        return "gru"
    if isinstance(module, nn.RNN):
        if module.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nn.RNN with nonlinearity={module.nonlinearity!r} is not supported; "
                             "supported: 'tanh', 'relu'")
        return f"rnn_{module.nonlinearity}"
    raise TypeError(f"from_torch takes {SUPPORTED}; got {type(module).__module__}.{type(module).__name__}")


def from_torch(module) -> tuple[Network, dict[str, np.ndarray]]:
    """The graphrnn network and float64 parameters of a PyTorch RNN module.

    ``module``: ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (tanh or relu), any
    ``num_layers``, ``bias`` True or False, any dtype or device.  Returns
    ``(net, params)`` with ``net`` the stack described in the module
    docstring and ``params`` a ``dict[str, ndarray]`` (float64) such that
    ``net.run(params, x).y`` equals ``module(torch.as_tensor(x))[0]`` for a
    time-major x of shape (T, B, input_size) and the zero initial state.

    Biases: graphrnn keeps one per gate node, the sum ``bias_ih + bias_hh``,
    except GRU's n gate: ``layerk.n.bias`` = b_in, ``layerk.hn.bias`` = b_hn.

    Refused (ValueError, naming the attribute): ``bidirectional=True``,
    ``proj_size > 0``.  Accepted with a note: ``batch_first=True`` (the
    weights are the same; graphrnn inputs stay time-major, transpose them),
    ``dropout > 0`` (torch applies it between layers in training mode only;
    the network computes the eval-mode function, and a warning says so when
    the module is in training mode).
    """
    kind = _torch_cell(module)
    cls = type(module).__name__
    if module.bidirectional:
        raise ValueError(f"{cls} with bidirectional=True is not supported: graphrnn's library stacks "
                         "run forward in time only; supported: bidirectional=False")
    if getattr(module, "proj_size", 0) > 0:
        raise ValueError(f"{cls} with proj_size={module.proj_size} is not supported: the library "
                         "`lstm` module has no projection of h; supported: proj_size=0")
    if module.dropout > 0 and module.num_layers > 1 and module.training:
        warnings.warn(f"{cls} has dropout={module.dropout} and is in training mode; the graphrnn "
                      "network has no dropout and computes the module's eval-mode function",
                      stacklevel=2)
    stack = _Stack(kind, module.input_size, module.hidden_size, module.num_layers, bool(module.bias))
    net = loads(stack_spec(kind, stack.input_size, stack.hidden_size, stack.num_layers, stack.bias),
                file=f"<from_torch {cls}>")
    cell, size = CELLS[kind], stack.hidden_size

    def array(name):
        return getattr(module, name).detach().to(device="cpu", dtype=torch.float64).numpy().copy()

    def blocks(name):
        return np.split(array(name), cell.gates, axis=0)

    params: dict[str, np.ndarray] = {}
    for k in range(1, stack.num_layers + 1):
        ih, hh, b_ih, b_hh = _names(cell, k, stack.bias)
        suffix = f"_l{k - 1}"
        for name, block in zip(ih, blocks("weight_ih" + suffix)):
            params[name] = block.T.copy()
        for name, block in zip(hh, blocks("weight_hh" + suffix)):
            params[name] = block.T.copy()
        if stack.bias:
            for name in set(b_ih) | set(b_hh):
                params[name] = np.zeros(size)
            for name, block in zip(b_ih, blocks("bias_ih" + suffix)):
                params[name] += block
            for name, block in zip(b_hh, blocks("bias_hh" + suffix)):
                params[name] += block
    assert set(params) == set(net.params), sorted(set(params) ^ set(net.params))
    return net, dict(sorted(params.items()))


# -- graphrnn -> torch ---------------------------------------------------------------
def _refuse(network: Network, why: str) -> ValueError:
    return ValueError(f"to_torch: network {network.name!r} is not a plain stack of one of the library "
                      f"modules {', '.join(CELLS)} (x -> layer1 -> layer2 -> ..., output = the last "
                      f"layer's h): {why}")


def _analyse(network: Network):
    """The stack that ``network`` is, and the map of its parameter names onto stack_spec's."""
    ir = network.ir
    instances = list(ir.instances)
    if not instances:
        raise _refuse(network, "it has no module instances")
    modules = sorted({inst.module for inst in instances})
    if len(modules) != 1 or modules[0] not in CELLS:
        raise _refuse(network, f"it uses the module(s) {', '.join(modules)}")
    nested = [inst.name for inst in instances if "." in inst.name]
    if nested:
        raise _refuse(network, f"nested instances {', '.join(nested)}")
    settings = {(dict(inst.params).get("size"), dict(inst.params).get("bias")) for inst in instances}
    if len(settings) != 1:
        raise _refuse(network, "its layers differ in size or bias; a torch module has one hidden_size "
                               "and one bias flag for all layers")
    if len(ir.inputs) != 1 or len(ir.outputs) != 1:
        raise _refuse(network, f"it has inputs {list(ir.inputs)} and outputs {list(ir.outputs)}; "
                               "it needs one of each")
    (input_name, input_size), = ir.inputs.items()
    (size, bias), = settings

    # the chain: the input feeds one instance, each instance's h feeds the next
    owner = {node: node.split(".", 1)[0] for node in ir.nodes if "." in node}
    fed_by: dict[str, set] = {inst.name: set() for inst in instances}
    for edge in ir.edges:
        dst = owner.get(edge.dst)
        if dst in fed_by and owner.get(edge.src) != dst:
            fed_by[dst].add(edge.src)
    order, source = [], input_name
    while len(order) < len(instances):
        nxt = [name for name, srcs in fed_by.items() if srcs == {source} and name not in order]
        if len(nxt) != 1:
            feeds = "; ".join(f"`{name}` reads {', '.join(f'`{s}`' for s in sorted(srcs)) or 'nothing'}"
                              for name, srcs in fed_by.items() if name not in order)
            raise _refuse(network, f"cannot follow the chain from `{source}` ({feeds}); in a plain "
                                   "stack the input feeds the first layer only and each layer reads "
                                   "only the h of the layer below")
        order.append(nxt[0])
        source = f"{nxt[0]}.h"

    stack = _Stack(modules[0], input_size, size, len(order), bool(bias))
    canonical = loads(stack_spec(stack.module, input_size, size, stack.num_layers, stack.bias),
                      file="<to_torch canonical>")
    rename_map = {input_name: "x"}
    rename_map.update({f"{old}.": f"layer{k}." for k, old in enumerate(order, 1)})

    def rename(node: str) -> str:
        if node == input_name:
            return "x"
        head, dot, rest = node.partition(".")
        return rename_map[head + dot] + rest if head + dot in rename_map else "?" + node

    def node_key(node):
        return (node.op, node.size, node.activation, node.bias, node.initial)

    def edge_key(edge, src, dst):
        # constant weights are structure; a parameter's starting values are not
        return (src, dst, edge.kind, edge.delay, edge.truncate, edge.mask,
                edge.weights if edge.param is None else None, edge.param is not None)

    mine = {rename(n): node_key(node) for n, node in ir.nodes.items()}
    want = {n: node_key(node) for n, node in canonical.ir.nodes.items()}
    if mine != want:
        extra = sorted(n.lstrip("?") for n in set(mine) - set(want))
        differ = sorted(n for n in set(mine) & set(want) if mine[n] != want[n])
        raise _refuse(network, f"extra nodes {extra}" if extra else f"nodes differ: {differ}")
    mine_edges = sorted(edge_key(e, rename(e.src), rename(e.dst)) for e in ir.edges)
    want_edges = sorted(edge_key(e, e.src, e.dst) for e in canonical.ir.edges)
    if mine_edges != want_edges:
        def describe(key):
            src, dst, kind, delay, truncate, mask, weights, learned = key
            return (f"{src.lstrip('?')} -> {dst.lstrip('?')} {kind}" + (f" delay {delay}" if delay else "")
                    + (" truncated" if truncate else "") + (" masked" if mask is not None else "")
                    + (" learned" if learned and not EDGE_KINDS[kind].learned else ""))
        extra = sorted({describe(k) for k in set(mine_edges) - set(want_edges)})
        lacking = sorted({describe(k) for k in set(want_edges) - set(mine_edges)})
        raise _refuse(network, "its edges differ from the stack's: "
                               + "; ".join(bit for bit in (
                                   f"has {', '.join(extra[:3])}" + (" ..." if len(extra) > 3 else "")
                                   if extra else "",
                                   f"lacks {', '.join(lacking[:3])}" + (" ..." if len(lacking) > 3 else "")
                                   if lacking else "") if bit))
    out_node = next(iter(ir.outputs.values()))
    if rename(out_node) != f"layer{stack.num_layers}.h":
        raise _refuse(network, f"its output is `{out_node}`, not the last layer's h")

    names: dict[str, str] = {}   # network's parameter name -> stack_spec's
    for edge in ir.edges:
        if edge.param is not None:
            new = edge_label(rename(edge.src), rename(edge.dst), edge.delay)
            if names.setdefault(edge.param, new) != new:
                raise _refuse(network, f"parameter `{edge.param}` is shared by several edges")
    for n, node in ir.nodes.items():
        if node.bias:
            names[f"{n}.bias"] = f"{rename(n)}.bias"
    if sorted(names.values()) != sorted(canonical.params) or set(names) != set(network.params):
        raise _refuse(network, "its parameters do not match the stack's")
    return stack, names


def to_torch(network: Network, params: dict, *, batch_first: bool = False):
    """A float64 ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` computing ``network.run(params, x).y``.

    ``network`` must be a plain stack of one library module (``lstm``,
    ``gru``, ``rnn_tanh`` or ``rnn_relu``, all instances of one size and one
    ``bias`` setting): one input port feeding the first instance, each
    instance's h feeding the next, the one output the last instance's h, no
    other nodes or edges, no masks, truncation or tied weights.  Instances
    are recognised by module name and followed along the edges, so any
    instance and port names work (``from_torch``'s ``layer1``, ``layer2``,
    ... or a library network such as ``lstm_2layer``).  Anything else is a
    ValueError saying what does not fit.

    ``params`` is the network's parameter dict (``network.init(seed)`` or
    ``from_torch``'s).  Weights go in transposed, (source, destination) ->
    torch's (out, in) blocks; each gate's (summed) bias goes in ``bias_ih``
    and ``bias_hh`` is zero, except GRU's n gate: ``bias_ih[n]`` = node n's
    bias (b_in), ``bias_hh[n]`` = node hn's bias (b_hn).  With
    ``batch_first=True`` the module takes (B, T, I) inputs; the network
    itself stays time-major.  The module is returned in training mode with
    dropout 0, so its mode does not change its function.
    """
    stack, names = _analyse(network)
    missing = sorted(set(network.params) - set(params))
    unknown = sorted(set(params) - set(network.params))
    if missing or unknown:
        raise ValueError(f"to_torch: params do not match {network.name!r}: missing {missing[:5]}, "
                         f"unknown {unknown[:5]}; start from network.init(seed)")
    canon = {}
    for name, new in names.items():
        value = np.asarray(params[name], dtype=np.float64)
        if value.shape != network.params[name].shape:
            raise ValueError(f"to_torch: parameter {name!r} has shape {value.shape}, expected "
                             f"{network.params[name].shape}")
        canon[new] = value
    cell, size = CELLS[stack.module], stack.hidden_size
    kwargs = dict(num_layers=stack.num_layers, bias=stack.bias, batch_first=batch_first,
                  dtype=torch.float64)
    if cell.torch_class == "RNN":
        module = nn.RNN(stack.input_size, size, nonlinearity=stack.module[4:], **kwargs)
    else:
        module = getattr(nn, cell.torch_class)(stack.input_size, size, **kwargs)
    with torch.no_grad():
        for k in range(1, stack.num_layers + 1):
            ih, hh, b_ih, b_hh = _names(cell, k, stack.bias)
            suffix = f"_l{k - 1}"
            getattr(module, "weight_ih" + suffix).copy_(
                torch.from_numpy(np.concatenate([canon[n].T for n in ih], axis=0)))
            getattr(module, "weight_hh" + suffix).copy_(
                torch.from_numpy(np.concatenate([canon[n].T for n in hh], axis=0)))
            if stack.bias:
                zeros = np.zeros(size)
                getattr(module, "bias_ih" + suffix).copy_(
                    torch.from_numpy(np.concatenate([canon[n] for n in b_ih])))
                getattr(module, "bias_hh" + suffix).copy_(
                    torch.from_numpy(np.concatenate([canon[h] if h != i else zeros
                                                     for i, h in zip(b_ih, b_hh)])))
    return module
