"""Bridges between graphrnn networks and other frameworks.

Each bridge is its own submodule and imports its framework only when it is
imported itself, so ``import graphrnn`` (and ``import graphrnn.interop``)
never imports an optional dependency:

- :mod:`graphrnn.interop.torch` — ``from_torch(module) -> (network, params)``
  and ``to_torch(network, params) -> module`` for PyTorch's ``nn.LSTM``,
  ``nn.GRU`` and ``nn.RNN`` (needs ``pip install torch``).
"""
