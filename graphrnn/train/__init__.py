"""Training: gradient algorithms, optimizers, random guessing (and the training loop)."""
from .gradients import tbptt_value_and_grad
from .guess import GuessResult, end_error_below, guess, guess_params
from .methods import GRADIENT_METHODS, GradientMethod, bptt_value_and_grad, value_and_grad
from .optimizers import (OPTIMIZERS, SGD, Adam, ClipNorm, ClipValue, Constant, ExponentialDecay,
                         InverseTimeDecay, Momentum, Optimizer, RMSProp, RMSPropGraves, StepDecay,
                         clip_by_global_norm, clip_by_value, clip_from_config, global_norm,
                         schedule_from_config)
from .optimizers import from_config as optimizer_from_config
from .rtrl import rtrl_value_and_grad

__all__ = ["GRADIENT_METHODS", "OPTIMIZERS", "SGD", "Adam", "ClipNorm", "ClipValue", "Constant",
           "ExponentialDecay", "GradientMethod", "GuessResult", "InverseTimeDecay", "Momentum",
           "Optimizer", "RMSProp", "RMSPropGraves", "StepDecay", "bptt_value_and_grad",
           "clip_by_global_norm", "clip_by_value", "clip_from_config", "end_error_below", "global_norm",
           "guess", "guess_params", "optimizer_from_config", "rtrl_value_and_grad",
           "schedule_from_config", "tbptt_value_and_grad", "value_and_grad"]
