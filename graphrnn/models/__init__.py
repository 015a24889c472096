"""Composites that are more than one graph: Schmidhuber's neural history compressor.

    from graphrnn.models import load_hierarchy, train_hierarchy
    spec = load_hierarchy("examples/history_compressor/lag20.yaml")   # located errors, GR130-GR133
    hc = spec.build(seed=0)                                            # a HistoryCompressor
    packed = hc.compress(sequences)          # one Compressed per (T, I) sequence: events per level
    hc.reconstruct(packed)                   # the sequences again, exactly
    train_hierarchy(hc, task.sequences, dict(spec.training, optimizer=spec.optimizer()),
                    losses=[ls.loss for ls in spec.levels])

``surprise``: the criteria; ``compressor``: compress/reconstruct;
``hierarchy_spec``: the hierarchy file; ``level_training``: level-by-level
training; ``collapse``: chunker + automatizer with the distillation term;
``joint``: the collapsed system (automatizer and chunker) trained jointly from the start;
``picture``: which inputs each level receives over time.  See docs/compressor.md.
"""
from .collapse import automatizer_init, automatizer_loss, collapse_targets, events_per_sequence, train_automatizer
from .compressor import Compressed, HistoryCompressor, Level, LevelEvents, time_code
from .hierarchy_spec import CollapseSpec, HierarchySpec, LevelSpec, hierarchy_schema, load_hierarchy, loads_hierarchy
from .joint import JointResult, JointSystem, joint_from_hierarchy, train_joint
from .level_training import LevelResult, level_streams, stream_batch, train_hierarchy, train_level
from .picture import draw_level_inputs, level_inputs   # matplotlib is imported only when drawing
from .surprise import ArgmaxSurprise, SurpriseCriterion, ThresholdSurprise, criterion_from_config

__all__ = ["ArgmaxSurprise", "CollapseSpec", "Compressed", "HierarchySpec", "HistoryCompressor", "Level",
           "JointResult", "JointSystem", "LevelEvents", "LevelResult", "LevelSpec", "SurpriseCriterion", "ThresholdSurprise",
           "automatizer_init", "automatizer_loss", "collapse_targets", "criterion_from_config", "draw_level_inputs", "events_per_sequence", "hierarchy_schema",
           "joint_from_hierarchy", "level_inputs", "level_streams", "load_hierarchy", "loads_hierarchy", "stream_batch", "time_code",
           "train_automatizer", "train_hierarchy", "train_joint", "train_level"]
