"""The loaders under fuzz and the mutations fed to them (shared by the test and the script).

Each loader takes a text and either returns or raises a GraphRNNError; the
rule (issue 17) is that nothing else escapes. ``mutate(text, pick)`` applies
a few mutations chosen by ``pick(n) -> int in [0, n)``: a hypothesis draw in
the test (so failures shrink), a seeded ``random.Random`` in the script.
The seeds are the shipped files: library specs and modules, experiments,
hierarchies, and tree data written here (no tree files ship); for checkpoints,
one written here by ``save_checkpoint`` (bytes carried as latin-1 text, so
every loader takes and mutates a ``str``).
"""
from __future__ import annotations

import functools
import io
import tempfile
from pathlib import Path

import numpy as np

import graphrnn as gr
from graphrnn.errors import CODES, GraphRNNError
from graphrnn.runtime import TreeNetwork
from graphrnn.spec.yamlmarks import load_yaml

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
EXPERIMENTS = ROOT / "experiments"
HIERARCHIES = ROOT / "examples" / "history_compressor"
SWEEPS = ROOT / "examples" / "reproductions" / "sweeps"

TREE_SEXPRS = ["(+ 3 (* 2 4))\n(- 1 (+ 2 2))\n; a comment\n(and (or 0 1) (not 1))\n",
               "((the cat) (sat (on (the mat))))\n", "(xor (and 1 0) (or 1 (not 0)))\n"]
TREE_JSON = ['["+", 3, ["*", 2, 4]]\n', '{"trees": [["and", 1, 0], {"label": "or", "children": [1, ["not", 0]]}]}\n',
             '{"label": "+", "children": [{"label": "1", "children": []}, "2"]}\n']

NUMBERS = ["-1", "0", "1e308", "-1e308", "1e-320", "9" * 40, "9" * 5000, "2147483648", "-9223372036854775809",
           ".nan", ".inf", "-.inf", "0*0", "1_000", "0x7fffffffffffffff", "0o777", "1e9", "1000000000",
           "1000000", "'16'", '"3"', "~", "true", "[]", "{}", "1.5", "-0", "1e-3"]
WORDS = ["on", "yes", "no", "null", "x" * 300, "a" * 5000, "../../../../etc/passwd", "/etc/passwd", "h.h",
         "$size", "${x}", "!!python/object/apply:os.system ['true']", "*alias", "&a", "<<", "? ", "- ", ": ",
         "{", "}", "[", "]", "#", "'", '"', "|", ">", "%YAML 1.2", "---", "...", "\t", "\\", "\u00e9", "\u202e"]
CONTROL = [chr(c) for c in list(range(0, 9)) + [11, 12] + list(range(14, 32)) + [127, 0x85, 0xFEFF, 0xFFFE]]


def mutate(text: str, pick, rounds: int | None = None) -> str:
    """``text`` after 1-4 mutations: byte flips, control characters, numbers and names swapped in,
    lines deleted, duplicated or swapped, deep nesting, long runs."""
    for _ in range(rounds if rounds is not None else 1 + pick(4)):
        lines = text.split("\n")
        i = pick(len(text) + 1)
        kind = pick(12)
        if kind == 0 and text:                       # flip one byte of one character
            c = text[min(i, len(text) - 1)]
            text = text[:i] + chr((ord(c) ^ (1 << pick(8))) or 32) + text[i + 1:]
        elif kind == 1:                              # a control character
            text = text[:i] + CONTROL[pick(len(CONTROL))] + text[i:]
        elif kind in (2, 3):                         # a number replaced by an extreme or wrong one
            digits = [k for k, ch in enumerate(text) if ch.isdigit()]
            if digits:
                k = digits[pick(len(digits))]
                end = k
                while end < len(text) and (text[end].isalnum() or text[end] in ".-+"):
                    end += 1
                text = text[:k] + NUMBERS[pick(len(NUMBERS))] + text[end:]
        elif kind == 4:                              # a word inserted
            text = text[:i] + WORDS[pick(len(WORDS))] + text[i:]
        elif kind == 5 and len(lines) > 1:           # a line deleted
            del lines[pick(len(lines))]
            text = "\n".join(lines)
        elif kind == 6:                              # a line duplicated
            k = pick(len(lines))
            lines.insert(k, lines[k])
            text = "\n".join(lines)
        elif kind == 7 and len(lines) > 1:           # two lines swapped
            a, b = pick(len(lines)), pick(len(lines))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
        elif kind == 8:                              # deep nesting
            depth = [10, 200, 2000, 100_000][pick(4)]
            opener = "[({"[pick(3)]
            closer = {"[": "]", "(": ")", "{": "}"}[opener]
            text = text[:i] + opener * depth + closer * depth * pick(2) + text[i:]
        elif kind == 9:                              # a long run of one character
            text = text[:i] + text[min(i, len(text) - 1):min(i, len(text) - 1) + 1] * [100, 10_000][pick(2)] + text[i:]
        elif kind == 10:                             # a value replaced by a word
            colons = [k for k, ch in enumerate(text) if ch == ":"]
            if colons:
                k = colons[pick(len(colons))] + 1
                end = k
                while end < len(text) and text[end] not in ",}\n":
                    end += 1
                text = text[:k] + " " + (WORDS + NUMBERS)[pick(len(WORDS) + len(NUMBERS))] + text[end:]
        else:                                        # indentation changed on one line
            k = pick(len(lines))
            lines[k] = " " * pick(9) + lines[k].lstrip(" ")
            text = "\n".join(lines)
    return text


ARRAYS = [np.array(np.nan), np.full((2, 2), np.inf), np.zeros(0), np.zeros((3, 0, 7)), np.arange(5),
          np.array(["a", "b"]), np.array([{"a": 1}], dtype=object), np.zeros((2, 3), dtype=np.complex128),
          np.zeros(3, dtype=[("a", "<f8")]), np.array([True]), np.full((4, 4), 1e308), np.zeros(10 ** 4)]


def mutate_checkpoint(text: str, pick) -> str:
    """A checkpoint's bytes (latin-1 text) after 1-3 mutations: bytes flipped, cut, zeroed,
    inserted or repeated (damage the zip layer sees), or members removed, duplicated, renamed,
    replaced by odd arrays, or the metadata's JSON text mutated like a YAML file, each re-zipped
    with correct CRCs (damage only the reader's own checks can see)."""
    data = text.encode("latin-1")
    for _ in range(1 + pick(3)):
        i = pick(len(data) + 1)
        kind = pick(10)
        if kind == 0 and data:
            data = data[:i] + bytes([data[min(i, len(data) - 1)] ^ (1 << pick(8))]) + data[i + 1:]
        elif kind == 1:
            data = data[:i]
        elif kind == 2:
            data = data[:i] + bytes(pick(300)) + data[i + 300:]
        elif kind == 3:
            data = data[:i] + bytes(pick(256) for _ in range(1 + pick(40))) + data[i:]
        elif kind == 4:
            data = data[:i] + data[i:i + 1 + pick(200)] * (1 + pick(3)) + data[i:]
        else:
            try:     # the members as arrays, unless an earlier round left one no reader takes
                with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                    arrays = {name: archive[name] for name in archive.files}
            except Exception:
                continue
            if not arrays:
                continue
            name = list(arrays)[pick(len(arrays))]
            if kind == 5:
                del arrays[name]
            elif kind == 6:
                arrays[name + "x" if pick(2) else "param/" + "x" * pick(300)] = arrays[name]
            elif kind == 7:
                arrays[name] = ARRAYS[pick(len(ARRAYS))]
            elif "meta" in arrays:
                raw = arrays["meta"].tobytes().decode("utf-8", "replace")
                meta = mutate(raw, pick, rounds=1 + pick(2)).encode("utf-8", "surrogatepass")
                arrays["meta"] = np.frombuffer(meta, dtype=np.uint8)
            out = io.BytesIO()
            np.savez(out, **arrays)      # object arrays are pickled: the reader must refuse them
            data = out.getvalue()
    return data.decode("latin-1")


def mutate_for(loader: str, text: str, pick) -> str:
    """The mutation fed to ``loader``: bytes for checkpoints, text for the rest."""
    return mutate_checkpoint(text, pick) if loader == "checkpoints" else mutate(text, pick)


_CHECKPOINT_NET = "elman"


@functools.lru_cache(maxsize=None)
def _checkpoint_setup():
    """The network and optimizer the fuzzed checkpoint belongs to (built once per process)."""
    from graphrnn.train.optimizers import Adam
    net = gr.load(_CHECKPOINT_NET)
    optimizer = Adam(0.01)
    return net, optimizer


def _checkpoint_text() -> str:
    """A checkpoint of the library's `elman` net with Adam's state after 2 updates, written by
    ``save_checkpoint`` as `graphrnn train` writes it."""
    from graphrnn.train.checkpoint import CHECKPOINT, save_checkpoint
    net, optimizer = _checkpoint_setup()
    params = net.init(0)
    state = optimizer.init(params)
    history = [{"update": 1, "sequences": 10, "loss": 0.5, "train_wrong": 3},
               {"update": 2, "sequences": 20, "loss": 0.25, "train_wrong": 1}]
    with tempfile.TemporaryDirectory() as folder:
        save_checkpoint(folder, params, state, 2, 20, history, {"best": 0.25, "since": 0})
        return (Path(folder) / CHECKPOINT).read_bytes().decode("latin-1")


def load_checkpoint_text(text: str) -> None:
    """``text`` (latin-1 bytes) as a run directory's checkpoint, read for the net and optimizer that
    wrote it; a GraphRNNError must name the file (it has no lines: the path is the location)."""
    from graphrnn.errors import Location
    from graphrnn.train.checkpoint import CHECKPOINT, load_checkpoint
    net, optimizer = _checkpoint_setup()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / CHECKPOINT
        path.write_bytes(text.encode("latin-1"))
        try:
            load_checkpoint(folder, net, optimizer.init(net.init(0)))
        except GraphRNNError as err:
            assert str(path) in err.message, f"the file is not named: {err}"
            err.loc = err.loc or Location(str(path))
            raise


def _exercise(net) -> None:
    """Initialise, run and differentiate a network on a tiny batch (what a user does next)."""
    params = net.init(0)
    if isinstance(net, TreeNetwork):
        return
    x = np.full((3, 2, net.input_size), 0.5)
    target = np.zeros((3, 2, net.output_size))
    net.run(params, x)
    net.grad(params, x, target)


def load_spec(text: str) -> None:
    net = gr.loads(text, "fuzz.yaml")
    _exercise(net)


def load_module(text: str) -> None:
    """A mutated module, used by a network beside it (the module's own file and `use:` path)."""
    ports = ["in", "out"]
    try:   # wire the module's own first and last port, where its (mutated) text still names them
        named = [str(p) for p in load_yaml(text).get("ports", {})]
        ports = [named[0], named[-1]] if named and all(n.isidentifier() for n in named) else ports
    except Exception:
        pass
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "mod.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
        spec = ("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n  m: {use: ./mod.yaml}\n"
                f"  y: {{size: 2}}\nedges:\n  - {{from: x, to: m.{ports[0]}}}\n  - {{from: m.{ports[1]}, to: y}}\n")
        (Path(folder) / "net.yaml").write_text(spec)
        _exercise(gr.load(Path(folder) / "net.yaml"))


def load_experiment(text: str) -> None:
    from graphrnn.train.experiment import loads_experiment
    loads_experiment(text, str(EXPERIMENTS / "fuzz.yaml"))


def load_hierarchy(text: str) -> None:
    from graphrnn.models.hierarchy_spec import loads_hierarchy
    loads_hierarchy(text, str(HIERARCHIES / "fuzz.yaml"))


def load_sweep(text: str) -> None:
    from graphrnn.sweep.file import loads_sweep
    loads_sweep(text, str(SWEEPS / "fuzz.yaml"))


def load_trees(text: str, json: bool) -> None:
    from graphrnn.trees import TreeBatch, Vocabulary, parse_json, parse_sexprs
    trees = parse_json(text, "fuzz.json") if json else parse_sexprs(text, "fuzz.txt")
    labels = sorted({str(node.label) for tree in trees for node in tree.preorder() if node.label is not None})
    if trees:
        TreeBatch.of(trees, Vocabulary(labels + ["<unk>"], unknown="<unk>"))


def _modules() -> list[Path]:
    return [p for p in sorted(SPECS.glob("*.yaml")) if p.read_text().lstrip().startswith(("module:", "graphrnn: 1\nmodule:"))
            or "\nmodule:" in p.read_text()]


@functools.lru_cache(maxsize=None)
def seeds() -> dict[str, list[str]]:
    """The shipped texts each loader starts from (read once per process; do not change them)."""
    modules = set(_modules())
    return {
        "specs": [p.read_text() for p in sorted(SPECS.glob("*.yaml")) if p not in modules],
        "modules": [p.read_text() for p in sorted(modules)],
        "experiments": [p.read_text() for p in sorted(EXPERIMENTS.glob("*.yaml"))],
        "hierarchies": [p.read_text() for p in sorted(HIERARCHIES.glob("*.yaml")) if "\nhierarchy:" in p.read_text()],
        "sweeps": [p.read_text() for p in sorted(SWEEPS.glob("*.yaml"))],
        "tree s-expressions": TREE_SEXPRS,
        "tree JSON": TREE_JSON,
        "checkpoints": [_checkpoint_text()],
    }


LOADERS = {
    "specs": load_spec,
    "modules": load_module,
    "experiments": load_experiment,
    "hierarchies": load_hierarchy,
    "sweeps": load_sweep,
    "tree s-expressions": lambda text: load_trees(text, json=False),
    "tree JSON": lambda text: load_trees(text, json=True),
    "checkpoints": load_checkpoint_text,
}


def warm_up() -> None:
    """Load each loader's first shipped file once: what a process pays once (imports, numba's
    start-up, the library's first read) is then not counted against the first input it times."""
    texts = seeds()
    for loader in LOADERS:
        check_rule(loader, texts[loader][0])


def check_rule(loader: str, text: str) -> GraphRNNError | None:
    """Run one loader on one text; None or the GraphRNNError it raised, which must say where, what
    and how to fix (issue 17's rule). Any other exception propagates."""
    try:
        LOADERS[loader](text)
    except GraphRNNError as err:
        assert err.code in CODES, err
        assert err.fix, f"no fix: {err}"
        assert err.loc is not None and err.loc.file, f"no location: {err}"
        return err
    return None
