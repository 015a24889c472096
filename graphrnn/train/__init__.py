"""Training: gradient algorithms (truncated BPTT), later optimizers and the training loop."""
from .gradients import tbptt_value_and_grad

__all__ = ["tbptt_value_and_grad"]
