"""graphrnn: declarative, graph-based recurrent networks, differentiable by autograd.

    import graphrnn as gr
    net = gr.load("specs/elman.yaml")        # or a library name: gr.load("elman")
    params = net.init(seed=0)                # dict[str, ndarray], float64
    trace = net.run(params, x)               # x: (T, B, inputs); trace.y: (T, B, outputs)
    grads = net.grad(params, x, target, kind="mse")
"""
from . import ops  # noqa: F401  (registers the built-in node kinds and activations)
from .compiler import compile_spec, library_names, load, loads
from .errors import GraphError, GraphRNNError, Location, PlanError, RunError, SpecError, TrainError
from .runtime import Network, Trace

__version__ = "0.1.0"
__all__ = ["GraphError", "GraphRNNError", "Location", "Network", "PlanError", "RunError",
           "SpecError", "Trace", "TrainError", "compile_spec", "library_names", "load", "loads"]
