"""Node kinds from installed packages: the `graphrnn.kinds` entry point group.

Each test installs a fake distribution by putting a ``*.dist-info`` folder with an
``entry_points.txt`` (and the module it names) on ``sys.path``, as pip would.
"""
from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.cli import main
from graphrnn.ops import OPS, installed_kind_names

KIND_MODULE = '''
import numpy as np
from graphrnn.ops import CombinerKind, register_op

register_op(CombinerKind(name="{kind}", doc="half the sum of the edges",
                         combine=lambda slots: 0.5 * slots[0],
                         combine_vjp=lambda slots, g: [0.5 * g],
                         bias_default=True, allows_bias=True, needs_inputs=True))
'''


def spec(kind: str) -> str:
    return textwrap.dedent(f"""\
        graphrnn: 1
        name: uses_{kind}
        inputs: {{x: 2}}
        outputs: {{y: 2}}
        nodes:
          h: {{size: 2, op: {kind}}}
          y: {{size: 2}}
        edges:
          - {{from: x, to: h}}
          - {{from: h, to: y}}
        """)


@pytest.fixture
def install(tmp_path, monkeypatch):
    """install(kind, module_source, entry_value): a fake distribution offering node kind ``kind``."""
    added_kinds, added_modules = [], []

    def install_(kind, module_source=None, value=None):
        module = f"fake_{kind}_kinds"
        (tmp_path / f"{module}.py").write_text(module_source if module_source is not None
                                               else KIND_MODULE.format(kind=kind))
        info = tmp_path / f"fake_{kind}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fake-{kind}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[graphrnn.kinds]\n{kind} = {value or module}\n")
        added_kinds.append(kind)
        added_modules.append(module)
        return module

    monkeypatch.syspath_prepend(str(tmp_path))
    yield install_
    for kind in added_kinds:
        OPS.pop(kind, None)
    for module in added_modules:
        sys.modules.pop(module, None)


def test_a_kind_from_an_installed_package_is_found_without_a_plugin(install):
    install("halfsum_ep")
    assert "halfsum_ep" not in OPS and "halfsum_ep" in installed_kind_names()
    net = gr.loads(spec("halfsum_ep"))
    assert "halfsum_ep" in OPS
    p = net.init(0)
    x = np.random.default_rng(0).normal(size=(3, 2, 2))
    h = 0.5 * (x @ p["x->h"] + p["h.bias"])                      # the oracle: half the sum, identity
    np.testing.assert_allclose(net.run(p, x).y, h @ p["h->y"] + p["y.bias"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(net.run(p, x).y, gr.loads(spec("halfsum_ep"), engine="autograd").run(p, x).y,
                               rtol=1e-12, atol=1e-12)


def test_an_entry_point_may_name_a_registering_function(install):
    source = "def register():\n" + textwrap.indent(KIND_MODULE.format(kind="halfsum_fn"), "    ")
    module = install("halfsum_fn", source, value="fake_halfsum_fn_kinds:register")
    assert gr.loads(spec("halfsum_fn")).ir.nodes["h"].op == "halfsum_fn"
    assert module in sys.modules


def test_the_commands_find_installed_kinds(install, tmp_path, capsys):
    install("halfsum_cli")
    path = tmp_path / "uses.yaml"
    path.write_text(spec("halfsum_cli"))
    assert main(["validate", str(path)]) == 0
    assert main(["check", str(path), "--only", "kinds", "--examples", "2"]) == 0
    assert "halfsum_cli" in capsys.readouterr().out


def test_a_broken_package_is_a_located_error_that_names_it(install, capsys, tmp_path):
    install("broken_ep", "raise RuntimeError('missing dependency')\n")
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(spec("broken_ep"), "uses.yaml")
    err = info.value
    assert err.code == "GR113" and str(err).startswith("uses.yaml:6:")
    assert "fake-broken_ep" in err.message and "RuntimeError: missing dependency" in err.message


def test_an_entry_point_that_registers_nothing_is_reported(install):
    install("silent_ep", "x = 1\n")
    with pytest.raises(gr.GraphRNNError, match="registered no node kind `silent_ep`"):
        gr.loads(spec("silent_ep"))


def test_an_unknown_kind_still_says_what_exists():
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(spec("nosuchkind"))
    assert info.value.code == "GR113" and "graphrnn.kinds" in info.value.fix
