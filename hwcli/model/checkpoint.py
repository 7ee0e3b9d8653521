"""Reading training checkpoints safely: tensors and plain values only, never code.

A checkpoint (``checkpoint.pt``) is a dict written with `torch.save`: ``model`` and ``optimizer`` state dicts,
``step``, ``epoch``, ``pos``, ``best``, ``wall``, ``config``, ``scale``, ``alphabet``, ``torch_rng``, ``options``,
``data``, ``init``, ``carry``: tensors, numbers, strings, lists, tuples, dicts and None. `load_checkpoint`
reads it with ``torch.load(weights_only=True)``, whose unpickler only rebuilds tensors and those plain types,
so a crafted file (a pickle that would call ``os.system``) is refused instead of run. Every checkpoint hwcli
has written loads this way, including those of older versions.
"""
from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from ..errors import ModelFileError, OptionError

REQUIRED_KEYS = ("model", "optimizer", "step", "epoch", "pos", "config", "torch_rng")
# architecture fields a user may give again on --resume: they must match the checkpoint's
ARCH_FIELDS = {"synthesis": ("hidden", "layers", "window_k", "mixtures"), "prediction": ("hidden", "layers", "mixtures"),
               "recognizer": ("hidden", "layers", "conv_channels", "dropout", "reorder_delayed",
                              "split_marks")}


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint dict at `path`, loaded without executing anything; ModelFileError (one line) otherwise."""
    import pickle

    import torch

    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols on stderr: the error says enough
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        m = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if m:
            raise ModelFileError(f"checkpoint {str(path)!r} was refused: it asks to call {m.group(1)}, and loading it "
                                 "could run code (hwcli loads only tensors and plain values)") from None
        raise ModelFileError(f"checkpoint {str(path)!r} cannot be read (not a tensors-only torch checkpoint); "
                             "delete it or train without --resume") from None
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is the same user error
        raise ModelFileError(f"checkpoint {str(path)!r} cannot be read ({type(exc).__name__}); "
                             "delete it or train without --resume") from None
    if not isinstance(state, dict) or any(k not in state for k in REQUIRED_KEYS) or not isinstance(state.get("config"), dict):
        missing = [k for k in REQUIRED_KEYS if not isinstance(state, dict) or k not in state]
        raise ModelFileError(f"checkpoint {str(path)!r} is not a hwcli training checkpoint"
                             + (f" (missing {', '.join(missing)})" if missing else ""))
    return state


def checkpoint_kind(state: dict) -> str:
    """'synthesis', 'prediction' or 'recognizer': what network the checkpoint trains."""
    cfg = state.get("config", {})
    if "conv_channels" in cfg:
        return "recognizer"
    return str(cfg.get("kind", "synthesis"))


def check_resume(state: dict, path: str | os.PathLike, want_kind: str, given: dict) -> None:
    """Refuse to resume a checkpoint of another kind, or with architecture options (`given`: the ones the user
    typed, name -> value) that differ from the checkpoint's: they would be silently ignored otherwise."""
    kind = checkpoint_kind(state)
    kinds = {want_kind} if want_kind != "any-synthesis" else {"synthesis", "prediction"}
    if kind not in kinds:
        how = {"recognizer": "hwcli train-recognizer --resume", "synthesis": "hwcli train --resume",
               "prediction": "hwcli train --unconditional --resume"}[kind]
        raise OptionError(f"{str(path)!r} is a {kind} checkpoint, not a {' or '.join(sorted(kinds))} one: "
                          f"resume it with `{how}` or use another --out")
    cfg = state["config"]
    diff = [f"--{k.replace('_', '-')} {v} (checkpoint: {cfg[k]})" for k, v in given.items()
            if v is not None and k in cfg and k in ARCH_FIELDS.get(kind, ()) and cfg[k] != v]
    if diff:
        raise OptionError(f"--resume continues the checkpoint's network, but {', '.join(diff)} differ: "
                          "leave these options out, or train a new run in another --out")
