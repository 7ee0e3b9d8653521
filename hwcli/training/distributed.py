"""The DDP helpers of the training loop (`loop.run`): the process group under torchrun, rank and world size, and the
checks that keep replicas in step (rank 0 decides when to stop; at the end every rank's weights are compared by
`param_digest`).
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import platform
from typing import TYPE_CHECKING, Iterator

import torch

if TYPE_CHECKING:
    from .loop import LoopOptions

log = logging.getLogger(__name__)


def dist_info() -> tuple[int, int]:
    """(rank, world size); (0, 1) outside torchrun."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@contextlib.contextmanager
def distributed(opts: LoopOptions) -> Iterator[None]:
    """Under torchrun (WORLD_SIZE > 1) a process group for the run (nccl on GPUs, gloo on the CPU), torn down
    after; nothing otherwise, nor when the caller set one up already."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        yield
        return
    import torch.distributed as dist

    if dist.is_initialized():
        yield
        return
    dist.init_process_group("nccl" if torch.cuda.is_available() and opts.device != "cpu" else "gloo")
    try:
        yield
        # every rank done with the group before any of them closes it (not after an error: the others may never
        # come): a rank that tore its gloo connections down while another still wrote the bundle aborted at exit
        # ("terminate called without an active exception")
        if dist.is_initialized():
            dist.barrier()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def param_digest(state_dict: dict) -> str:
    """sha256 of the tensors' names and bytes in name order: equal digests <=> bit-identical weights."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        h.update(name.encode())
        h.update(state_dict[name].detach().to("cpu").contiguous().numpy().tobytes())
    return h.hexdigest()


def _all_stop(flag: bool, world: int, device: torch.device) -> bool:
    """Rank 0's decision for every rank: a rank that stops alone would leave the others waiting in DDP's all-reduce."""
    if world == 1:
        return flag
    import torch.distributed as dist

    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.broadcast(t, src=0)
    return bool(t.item() > 0)


def _check_replicas(net: torch.nn.Module, world: int, device: torch.device) -> str:
    """Gather every rank's `param_digest`; raise when they differ (DDP keeps replicas identical, so it is a bug)."""
    import torch.distributed as dist

    digest = param_digest(net.state_dict())
    mine = torch.tensor(list(bytes.fromhex(digest)), dtype=torch.uint8, device=device)
    every = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(every, mine)
    digests = [bytes(t.cpu().tolist()).hex() for t in every]
    if len(set(digests)) != 1:
        raise RuntimeError(f"DDP replicas ended with different weights: sha256 per rank {digests}")
    log.info("%d DDP replicas ended with identical weights (sha256 %s)", world, digest)
    return digest


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


def hardware(device: torch.device, world: int) -> str:
    if device.type == "cuda":
        return f"{world} x {torch.cuda.get_device_name(device)}"
    return f"{world} x CPU ({platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads)"
