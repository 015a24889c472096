"""Emit stage and the user-facing Network.  Public entry point: :class:`Network`."""
from .network import Network
from .trace import Trace

__all__ = ["Network", "Trace"]
