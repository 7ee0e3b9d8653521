"""Training: one loop (`loop.run`) for every model; each model brings its task (loss, validation, export).

- `loop`: options every run shares, the loop, schedule, checkpoints, resume, DDP;
- `data`: normalised training lines, length-bucketed epoch order, splits, rare characters;
- `synthesis`: the synthesis / prediction network's task and `train` (``hwcli train``);
- the recognizer's task and `train_recognizer` live with the recognizer (`hwcli.recognizer.training`).
"""
from __future__ import annotations

from .data import LineData, rare_characters, split_indices, validation_subset
from .loop import (CKPT_NAME, LoopOptions, LoopResult, load_checkpoint, lr_at, param_digest, resume_checkpoint,
                   run, step_limit)
from .synthesis import TrainOptions, TrainResult, evaluate, train, train_step

__all__ = ["CKPT_NAME", "LineData", "LoopOptions", "LoopResult", "TrainOptions", "TrainResult", "evaluate",
           "load_checkpoint", "lr_at", "param_digest", "rare_characters", "resume_checkpoint", "run",
           "split_indices", "step_limit", "train", "train_step", "validation_subset"]
