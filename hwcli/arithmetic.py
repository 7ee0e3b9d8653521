"""One arithmetic path for torch, fixed before torch loads: strokes must not depend on the company they keep.

MKL (torch's BLAS on x86) chooses the kernel of a matrix product by the product's shape and the CPU. Left free,
a line's LSTM gates round differently when it is sampled alone, in a batch of eight or in a shard (seen on an
AMD EPYC: 188 of 630 stroke values differed at the 6th decimal), so a document would not be the same written
alone, in a batch or in a shard. MKL's conditional numerical reproducibility (CNR) fixes the path. Two rules:

- ``machine`` (the default): ``MKL_CBWR=AUTO,STRICT``, MKL's best branch for this CPU, held fixed whatever the
  shape of a product and the number of threads. On one machine a document is the same strokes alone, in a batch
  or in a shard, run after run, at full speed (`benchmarks/arithmetic_cost.py`). Another kind of CPU (AVX-512
  against AVX2, Intel against AMD) may round differently.
- ``portable`` (``HWCLI_ARITHMETIC=portable``): ``MKL_CBWR=COMPATIBLE,STRICT`` (the branch MKL computes the same
  way on every x86-64 CPU) and ``ATEN_CPU_CAPABILITY=avx2`` (torch's own element-wise kernels pinned to AVX2,
  which every x86-64 CPU since 2013 has), and oneDNN (the recognizer's convolutions) held to its AVX2 kernels
  (``ONEDNN_MAX_CPU_ISA=AVX2``): the same strokes on every such CPU, at a cost in sampling speed
  (`benchmarks/arithmetic_cost.py` prints it). oneDNN promises no bit-identity across CPUs (its blocking may
  follow cache sizes), so a read-back whose error rate sits exactly on a threshold could still go either way. The test suite runs under this rule (tests/conftest.py), so the
  stored output digests hold on any CI machine.

MKL reads ``MKL_CBWR`` when it first runs and torch reads ``ATEN_CPU_CAPABILITY`` at its first kernel, so the
rule is put in the environment when `hwcli` is imported, before any of its modules imports torch (`configure`,
called by ``hwcli/__init__.py``; no torch import). A value the user set in the environment wins. `verify` (called
when a bundle is loaded, when torch is surely loaded) reads back MKL's branch and, where torch ran MKL before
hwcli was imported, sets it or logs once that batch-invariance cannot be promised in this process.
"""
from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

RULES = {
    "machine": {"MKL_CBWR": "AUTO,STRICT"},
    "portable": {"MKL_CBWR": "COMPATIBLE,STRICT", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}
ENV = "HWCLI_ARITHMETIC"

# MKL's CNR codes (mkl_cbwr.h): a branch in the low bits, STRICT as a flag
_BRANCH = {"AUTO": 2, "COMPATIBLE": 3}
_STRICT = 0x10000
_MODE_CHANGE_FAILURE = -8

_verified: str | None = None


def rule_name() -> str:
    """The rule this process asks for: ``HWCLI_ARITHMETIC`` (machine | portable), machine when unset or unknown."""
    name = os.environ.get(ENV, "machine").strip().lower()
    return name if name in RULES else "machine"


def configure() -> None:
    """Put the rule's settings in the environment (values the user set win). Cheap: no torch import."""
    for key, value in RULES[rule_name()].items():
        os.environ.setdefault(key, value)


def _mkl_cbwr():
    """(get, set) of the MKL linked into torch, or None where torch has no MKL (ARM, macOS)."""
    import ctypes

    import torch

    libdir = os.path.join(os.path.dirname(torch.__file__), "lib")
    for name in ("libtorch_cpu.so", "libtorch_cpu.dylib", "torch_cpu.dll"):
        path = os.path.join(libdir, name)
        if not os.path.exists(path):
            continue
        try:
            lib = ctypes.CDLL(path)
            get, set_ = lib.mkl_serv_cbwr_get, lib.mkl_serv_cbwr_set
        except (OSError, AttributeError):
            return None
        get.argtypes, get.restype = [ctypes.c_int], ctypes.c_int
        set_.argtypes, set_.restype = [ctypes.c_int], ctypes.c_int
        return get, set_
    return None


def wanted_mode() -> int | None:
    """The MKL CNR mode the environment asks for (branch | STRICT), None when it names no branch we know."""
    spec = os.environ.get("MKL_CBWR", "").upper().replace(" ", "").split(",")
    if not spec or spec[0] not in _BRANCH:
        return None
    return _BRANCH[spec[0]] | (_STRICT if "STRICT" in spec[1:] else 0)


def mkl_mode() -> int | None:
    """MKL's current CNR mode (branch | STRICT flag), None where torch has no MKL."""
    fns = _mkl_cbwr()
    return None if fns is None else fns[0](-1)


def verify() -> str:
    """Check (once per process) that MKL runs the branch the rule asks for; try to set it where it does not.

    Returns what holds: the rule's name, "no-mkl" where torch has none, or "free" where MKL ran before hwcli
    could fix its branch (then a warning is logged once: a line may round differently alone and in a batch).
    """
    global _verified
    if _verified is not None:
        return _verified
    fns = _mkl_cbwr()
    want = wanted_mode()
    if fns is None:
        _verified = "no-mkl"
    elif want is None or fns[0](-1) == want:
        _verified = rule_name() if want is not None else "free"
    else:
        code = fns[1](want)
        if code == 0 and fns[0](-1) == want:
            _verified = rule_name()
        else:
            _verified = "free"
    if _verified == "free":
        log.warning("hwcli could not fix MKL's arithmetic path (torch ran MKL before hwcli was imported, or "
                    "MKL_CBWR=%r): a line may round differently written alone and in a batch; import hwcli "
                    "before using torch", os.environ.get("MKL_CBWR", ""))
    return _verified
