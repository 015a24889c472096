"""The ``graphrnn`` command: validate, show, run, draw and property-check a spec.

    graphrnn validate specs/elman.yaml
    graphrnn show elman [--plan]            # a module (gru2) is shown alone, with its defaults
    graphrnn list [networks|modules|tasks]
    graphrnn run elman --steps 10 --seed 0 --batch 1
    graphrnn draw elman -o elman.svg                 # or .png, or .dot (Graphviz)
    graphrnn check elman [--examples 10] [--seed 0]
    graphrnn check my.yaml --plugin my_kinds.py      # custom node kinds, registered in Python

SPEC is a spec file path or a library name (``elman``).  ``--plugin``
(any command, repeatable) imports a Python module -- a dotted name or a
``.py`` path -- before the spec is loaded, so node kinds it registers can be
named in the YAML.  Every graphrnn error is printed as its located message,
without a traceback, and the command exits 2; so do usage errors, plugins
that cannot be imported and files that cannot be written.  Exit status 0
means success; 1 means `check` found a property that does not hold.
"""
from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from .compiler import load
from .plan.limits import check_run
from .runtime.engine import ENGINES, engine_choices
from .errors import GraphRNNError
from .train.arguments import non_negative_int, positive_int
from .train.command import add_train_parser
from .sweep.command import add_sweep_parser
from .spec.schemas import add_schema_parser

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


class CommandError(Exception):
    """A usage problem the command reports in one line (exit 2)."""


def _load_plugins(plugins) -> None:
    from .testing.plugins import PluginError, load_plugin
    for plugin in plugins or ():
        try:
            load_plugin(plugin)
        except PluginError as err:
            raise CommandError(str(err)) from None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _summary(net) -> str:
    return (f"{net.name}: {_plural(len(net.ir.nodes), 'node')}, {_plural(len(net.ir.edges), 'edge')}, "
            f"{_plural(net.num_params, 'parameter')}")


def _table(header: list[str], rows: list[list[str]], right: set[int] = frozenset(),
           indent: str = "  ") -> list[str]:
    """Aligned text columns; column indexes in ``right`` are right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]

    def line(cells):
        parts = [str(c).rjust(w) if i in right else str(c).ljust(w)
                 for i, (c, w) in enumerate(zip(cells, widths))]
        return (indent + "  ".join(parts)).rstrip()
    return [line(header)] + [line(r) for r in rows]


# -- commands -------------------------------------------------------------------
def _load_or_module(spec: str, engine: str | None = None):
    """A network, or a module instantiated alone (its note printed first: which defaults it took)."""
    from .inspection import load_for_inspection
    net, note = load_for_inspection(spec, engine)
    if note:
        print(f"note: {note}")
    return net


def cmd_validate(args) -> int:
    net = _load_or_module(args.spec)
    print(f"ok: {args.spec} ({_summary(net)})")
    alone = str(net.ir.file).startswith("<module ")   # a module alone: its note said which defaults
    for instance in net.ir.instances:   # a module's defaults are taken, but not silently
        if instance.defaulted and not alone:
            values = dict(instance.params)
            taken = ", ".join(f"{k}={values[k]}" for k in instance.defaulted)
            print(f"note: `{instance.name}` ({instance.module}) took by default: {taken}")
    return EXIT_OK


def cmd_list(args) -> int:
    from .inspection import print_listing
    print_listing(args.what)
    return EXIT_OK


def cmd_show(args) -> int:
    net = _load_or_module(args.spec, engine=args.engine)
    if args.plan:
        print(net.plan)
        print(f"engine: {net.engine.name}: {net.engine.backward}")
        if net.engine.name == "compiled" and net.engine.largest_loop_batch(net.plan):
            print(f"  batches up to {net.engine.largest_loop_batch(net.plan)} run {net.engine.kernels(net.plan, 1)}, "
                  f"larger ones the fused engine's {net.engine.kernels(net.plan, 1 << 30)} passes (BLAS)")
        elif hasattr(net.engine, "kernels"):
            print(f"  passes: {net.engine.kernels(net.plan)}")
        for name, why in engine_choices(net.ir).items():
            if name != net.engine.name:
                print(f"  also: {name}" + (f" (cannot: {why})" if why else ""))
        return EXIT_OK
    ir = net.ir
    out = [f"{_summary(net)}  [{ir.file}]"]
    if ir.doc:
        out += ["  " + line for line in ir.doc.strip().splitlines()]
    out.append("inputs: " + (", ".join(f"{k}[{v}]" for k, v in net.inputs.items()) or "none")
               + (f"  (x is (T, B, {net.input_size}), time-major)" if ir.over != "tree" else
                  f"  (x is (N tree nodes, {net.input_size}), level by level)"))
    if ir.instances:
        out.append(f"module instances ({len(ir.instances)}):")
        for instance in ir.instances:
            prefix = instance.name + "."
            members = [f"{n[len(prefix):]}[{node.size}]" for n, node in ir.nodes.items()
                       if n.startswith(prefix) and "." not in n[len(prefix):]]
            out.append(f"  {instance}")
            out.append(f"    members: {', '.join(members)}")
    if getattr(net, "module_files", None):   # where each `use:` came from (a GRAPHRNN_PATH file can shadow)
        out.append("module files:")
        out += [f"  {use}: {path}" for use, path in net.module_files.items()]
    out.append(f"nodes ({len(ir.nodes)}):")
    out += [f"  {node}" for node in ir.nodes.values()]
    delayed = sum(1 for e in ir.edges if e.delay)
    out.append(f"edges ({len(ir.edges)}, {delayed} delayed):")
    out += [f"  {edge}" for edge in ir.edges]
    out.append(f"outputs (y is (T, B, {net.output_size}), in this order):" if ir.over != "tree" else
               f"outputs (y is (B trees, {net.output_size}) at the roots, in this order):")
    out += [f"  {name} = {node} [{ir.nodes[node].size}]" for name, node in net.outputs.items()]
    specs = net.params.values()
    rows = [[s.name, "x".join(map(str, s.shape)) or "scalar", str(s.count),
             ("trainable" if s.trainable else "frozen") + (" (masked)" if s.mask is not None else "")]
            for s in specs]
    out.append(f"parameters ({len(rows)} arrays):")
    if rows:
        out += _table(["name", "shape", "count", "status"], rows, right={2})
    trainable = sum(s.count for s in specs if s.trainable)
    masked = sum(int(np.prod(s.shape, dtype=int)) - s.count for s in specs)
    out.append(f"total: {_plural(net.num_params, 'parameter')} "
               f"({trainable} trainable, {net.num_params - trainable} frozen"
               + (f"; {masked} masked weights are not counted" if masked else "") + ")")
    from .inspection import fixed_values_lines
    fixed = fixed_values_lines(net)
    if fixed:
        out.append("masks and fixed values:")
        out += fixed
    out.append("plan:")
    out += ["  " + line for line in str(net.plan).splitlines()]
    print("\n".join(out))
    return EXIT_OK


def cmd_run(args) -> int:
    net = load(args.spec)
    if net.ir.over == "tree":
        return _run_trees(net, args)
    params = net.init(seed=args.seed)
    rng = np.random.default_rng(args.seed)
    check_run(net.plan, args.steps, args.batch, graph=net.ir)    # GR108 before the input is drawn, not after
    x = rng.standard_normal((args.steps, args.batch, net.input_size))
    trace = net.run(params, x)
    header = ["t"]
    for name, node in net.outputs.items():
        size = net.ir.nodes[node].size
        header += [name] if size == 1 else [f"{name}[{i}]" for i in range(size)]
    y = np.asarray(trace.y)[:, 0, :]
    rows = [[str(t)] + [f"{v:.4f}" for v in y[t]] for t in range(args.steps)]
    print(f"{net.name}: outputs at each step for batch row 0 of {args.batch} "
          f"(seed {args.seed}, x ~ N(0, 1) of shape {x.shape})")
    print("\n".join(_table(header, rows, right=set(range(len(header))), indent="")))
    return EXIT_OK


def _run_trees(net, args) -> int:
    """Root outputs of ``--batch`` random trees (depth <= ``--steps``), tokens t0, t1, ... one-hot."""
    from .trees import Vocabulary
    from .trees.generate import random_tree
    rng = np.random.default_rng(args.seed)
    vocab = Vocabulary([f"t{i}" for i in range(net.input_size)])
    arity = net.max_arity if net.max_arity is not None else 2
    forest = [random_tree(rng, vocab.tokens, args.steps - 1, arity) for _ in range(args.batch)]
    y = np.asarray(net.run(net.init(seed=args.seed), net.batch(forest, vocab)).y)
    header = ["tree"]
    for name, node in net.outputs.items():
        size = net.ir.nodes[node].size
        header += [name] if size == 1 else [f"{name}[{i}]" for i in range(size)]
    print(f"{net.name}: outputs at the root of {args.batch} random trees of depth <= {args.steps - 1} "
          f"(seed {args.seed}, tokens t0..t{net.input_size - 1} one-hot)")
    rows = [[str(tree)[:40]] + [f"{v:.4f}" for v in y[b]] for b, tree in enumerate(forest)]
    print("\n".join(_table(header, rows, right=set(range(1, len(header))), indent="")))
    return EXIT_OK


def cmd_draw(args) -> int:
    from .viz.draw import FORMATS, draw_graph
    out = Path(args.output)
    suffix = "." + args.format if args.format else out.suffix.lower()
    if suffix not in FORMATS:
        raise CommandError(f"{out}: cannot draw to a `{out.suffix or '(no suffix)'}` file; "
                           f"name the output {', '.join('*' + f for f in FORMATS)}, or give --format")
    net = _load_or_module(args.spec)
    draw_graph(net, out, format=args.format)
    print(f"wrote {out} ({_summary(net)})")
    return EXIT_OK


def cmd_check(args) -> int:
    try:
        from .testing.checks import check_all
    except ImportError as err:
        if getattr(err, "name", None) and err.name.split(".")[0] == "hypothesis":
            raise CommandError("`graphrnn check` needs hypothesis: pip install 'graphrnn[test]'") from None
        raise
    notes = []
    net = load(args.spec)
    if net.engine.name in ("autograd", "autograd_tree"):
        notes.append("the fused engine has no backward rule for a node kind or activation of this spec: "
                     "checking it on the autograd engine")
    if net.ir.over == "tree":
        return _check_trees(net, args)
    print(f"checking {_summary(net)} [{net.ir.file}]: {_plural(args.examples, 'example')} per check, "
          f"seed {args.seed}")
    for note in notes:
        print(f"  note: {note}")
    reports = check_all(net, examples=args.examples, seed=args.seed, raise_errors=False,
                        checks=args.only or None)
    failed = [r for r in reports if r.status == "FAIL"]
    for report in reports:
        print(str(report) if report.status == "FAIL" else
              "\n".join([report.summary()] + [f"  note: {note}" for note in report.notes]))
    skipped = sum(1 for r in reports if r.skipped)
    extra = f" ({skipped} skipped)" if skipped else ""
    if failed:
        print(f"{len(failed)} of {_plural(len(reports), 'check')} failed{extra}: "
              f"{', '.join(r.name for r in failed)}")
        return EXIT_FAILED
    print(f"all {_plural(len(reports), 'check')} hold{extra}")
    return EXIT_OK


def _check_trees(net, args) -> int:
    from .runtime.tree_checks import check_tree_network
    print(f"checking {_summary(net)} [{net.ir.file}]: {_plural(args.examples, 'example')} per check, "
          f"seed {args.seed}, random trees")
    reports = check_tree_network(net, examples=args.examples, seed=args.seed)
    for report in reports:
        print(report)
    failed = [r for r in reports if not r.passed]
    if failed:
        print(f"{len(failed)} of {_plural(len(reports), 'check')} failed: {', '.join(r.name for r in failed)}")
        return EXIT_FAILED
    print(f"all {_plural(len(reports), 'tree check')} hold")
    return EXIT_OK


# -- parser ---------------------------------------------------------------------
SPEC_HELP = "a spec file (specs/elman.yaml) or a library spec name (elman)"
# the order check_all runs them in (graphrnn.testing.checks.CHECKS; kept here so
# that the parser does not import hypothesis)
CHECK_NAMES = ("gradients", "engines", "bptt_rtrl", "batch", "unroll", "order", "roundtrip", "kinds")
PLUGIN_HELP = ("import this Python module (a dotted name or a .py file) first, so node kinds it "
               "registers can be named in the spec; repeatable")


def _add_plugin(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_PATH", help=PLUGIN_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphrnn",
        description="Declarative, graph-based recurrent neural networks: check, inspect, simulate, "
                    "draw and property-test a YAML network spec.",
        epilog="Errors in a spec are reported with file:line:col and a fix; the exit status is "
               "then 2.  See `graphrnn COMMAND --help`.")
    parser.add_argument("--version", action="version", version=f"graphrnn {metadata.version('graphrnn')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("validate", help="check a spec and print a one-line summary",
                            description="Load a network spec through the whole pipeline (schema, "
                                        "module expansion, graph checks, plan) and print "
                                        "`ok: SPEC (name: nodes, edges, parameters)`.  A module is "
                                        "instantiated alone with its default parameters, and a note "
                                        "says which it took.")
    p.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    p.set_defaults(func=cmd_validate)

    p = commands.add_parser("list", help="list the library's networks and modules and the tasks, one line each",
                            description="List library networks, library modules (with the first line of "
                                        "their doc) and tasks (input and output sizes with the default "
                                        "options, loss, success criterion), one line each.")
    p.add_argument("what", nargs="?", choices=("networks", "modules", "tasks"), default=None,
                   help="list only these (default: all three)")
    p.set_defaults(func=cmd_list)

    p = commands.add_parser("show", help="print the expanded graph, parameters and plan",
                            description="Print the expanded nodes, the edges with their delays, the "
                                        "outputs, the parameter table (name, shape, count, "
                                        "trainable/frozen), the total parameter count (masked weights "
                                        "not counted), each mask and fixed value, and the plan.  A "
                                        "module is shown alone, with its default parameters.")
    p.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    p.add_argument("--plan", action="store_true",
                   help="print only the plan, the engine that runs it and which other engines could")
    p.add_argument("--engine", choices=ENGINES, default=None,
                   help="the engine to load with (default: fused where it has rules, tree for trees)")
    p.set_defaults(func=cmd_show)

    p = commands.add_parser("run", help="simulate on random input and print the outputs",
                            description="Initialise the parameters with SEED, draw standard normal "
                                        "input of shape (STEPS, BATCH, inputs) with "
                                        "numpy.random.default_rng(SEED), run the network and print "
                                        "its outputs at every step for batch row 0.")
    p.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    p.add_argument("--steps", "-T", type=positive_int, default=10, metavar="T",
                   help="number of time steps (default: 10)")
    p.add_argument("--seed", type=non_negative_int, default=0, metavar="S",
                   help="seed for the parameters and the input (default: 0)")
    p.add_argument("--batch", "-B", type=positive_int, default=1, metavar="B",
                   help="batch size; row 0 is printed (default: 1)")
    p.set_defaults(func=cmd_run)

    p = commands.add_parser("draw", help="draw the expanded graph to a PNG, SVG or Graphviz .dot file",
                            description="Draw the expanded graph: inputs (green boxes) on the left, "
                                        "outputs (orange) on the right, delayed edges dashed red and "
                                        "labelled z^-d, tree links dotted blue (child k, children "
                                        "mean, parent), masked edges purple (mask k/n).  The file "
                                        "type follows the suffix (or --format); .dot is Graphviz "
                                        "source.  SPEC may be a module: it is drawn alone.")
    p.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="output file, ending in .png, .svg or .dot (Graphviz source)")
    p.add_argument("--format", choices=("png", "svg", "dot"), default=None,
                   help="the file's format, whatever its suffix (default: from the suffix)")
    p.set_defaults(func=cmd_draw)

    p = commands.add_parser("check", help="property-test a spec with hypothesis (gradients, ...)",
                            description="Run the property checks of graphrnn.testing on the spec with "
                                        "hypothesis-drawn inputs, parameters and targets: gradients "
                                        "(central differences vs net.grad), engines (fused vs "
                                        "autograd), bptt_rtrl, batch (a batch = its rows), unroll "
                                        "(planned run = step-by-step reference), order (shuffled YAML "
                                        "= same network), roundtrip (load -> dump -> load) and kinds "
                                        "(each node kind's combine_vjp vs autograd).  Prints one line "
                                        "per check; for a failure, the worst entry and the minimal "
                                        "counterexample hypothesis shrank it to.  Exit status 0 when "
                                        "every check holds, 1 when one fails, 2 for a spec error.",
                            epilog="See docs/property-testing.md.")
    p.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    p.add_argument("--examples", "-n", type=positive_int, default=10, metavar="N",
                   help="hypothesis examples per check (default: 10)")
    p.add_argument("--seed", type=non_negative_int, default=0, metavar="S",
                   help="seed hypothesis is derandomised with (default: 0)")
    p.add_argument("--only", action="append", choices=CHECK_NAMES, metavar="CHECK",
                   help=f"run only this check (repeatable): {', '.join(CHECK_NAMES)}")
    p.set_defaults(func=cmd_check)

    add_train_parser(commands)   # the `train` subcommand lives beside the training library
    add_schema_parser(commands)  # `schema KIND`: spec/schemas.py
    add_sweep_parser(commands)   # `sweep` too, beside graphrnn.sweep

    for sub in commands.choices.values():
        _add_plugin(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a check failed, 2 error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:          # --help, --version and usage errors
        return exit_.code if isinstance(exit_.code, int) else EXIT_ERROR
    try:
        _load_plugins(getattr(args, "plugin", None))
        return args.func(args)
    except GraphRNNError as err:
        print(str(err), file=sys.stderr)
        if err.code == "GR113" and not getattr(args, "plugin", None) and "node kind" in err.message:
            print("  hint: a node kind registered in Python is loaded with --plugin MODULE_OR_FILE.py, or "
                  "comes from an installed package's `graphrnn.kinds` entry point", file=sys.stderr)
    except CommandError as err:
        print(f"graphrnn {args.command}: error: {err}", file=sys.stderr)
    except BrokenPipeError:              # `graphrnn show ... | head`: stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
    except OSError as err:               # writing a file (draw -o), for example
        what = f"{err.filename}: {err.strerror}" if err.filename and err.strerror else str(err)
        print(f"graphrnn {args.command}: error: {what}", file=sys.stderr)
    except MemoryError as err:
        print(f"graphrnn {args.command}: error: out of memory ({err or 'numpy could not allocate'}); "
              "give smaller sizes, fewer steps or a smaller batch", file=sys.stderr)
    except Exception as err:             # a bug: one line, not a traceback, unless asked for
        if os.environ.get("GRAPHRNN_DEBUG"):
            raise
        print(f"graphrnn {args.command}: internal error: {type(err).__name__}: {err}\n  this is a bug in "
              "graphrnn: please report it with the command line (GRAPHRNN_DEBUG=1 shows the traceback)",
              file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
