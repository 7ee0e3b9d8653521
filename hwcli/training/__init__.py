"""Training: one loop (`loop.run`) for every model; each model brings its task (loss, validation, export).

- `loop`: options every run shares, the loop, schedule, checkpoints, resume;
- `distributed`: the DDP helpers of the loop (process group, rank, replica checks);
- `data`: normalised training lines, length-bucketed epoch order, splits, rare characters;
- `synthesis`: the synthesis / prediction network's task and `train` (``hwcli train``);
- `recognizer`: the recognizer network's task and `train_recognizer` (``hwcli train-recognizer``);
- `packaging`: a trained network measured and written as a bundle with its styles.
"""
from __future__ import annotations

from .data import LineData, rare_characters, split_indices, validation_subset
from .distributed import param_digest
from .loop import CKPT_NAME, LoopOptions, LoopResult, load_checkpoint, lr_at, resume_checkpoint, run, step_limit
from .synthesis import TrainOptions, TrainResult, evaluate, train, train_step

__all__ = ["CKPT_NAME", "LineData", "LoopOptions", "LoopResult", "TrainOptions", "TrainResult", "evaluate",
           "load_checkpoint", "lr_at", "param_digest", "rare_characters", "resume_checkpoint", "run",
           "split_indices", "step_limit", "train", "train_step", "validation_subset"]
