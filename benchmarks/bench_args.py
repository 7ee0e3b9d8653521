"""Options every sampling benchmark takes: which model, and how many torch threads."""
from __future__ import annotations

import argparse


def add_model_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--model", default=None, help="bundle .json (default: the bundled model)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")


def load_bundle(args: argparse.Namespace):
    """Set the thread count, then load the bundle `--model` names."""
    import torch

    from hwcli.model.bundle import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    return load_model(args.model)
