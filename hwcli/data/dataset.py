"""The converted dataset: one compact .npz that loads with ``allow_pickle=False``.

Arrays:
- ``offsets``   float32 (P, 3) [dx, dy, eos] of all lines back to back, sensor units (not normalised);
- ``starts``    int64 (L + 1,) line i is ``offsets[starts[i]:starts[i+1]]``;
- ``texts``, ``line_ids``, ``splits``  unicode (L,);
- ``writer_ids`` int32 (L,), -1 when unknown;
- ``meta``      0-d unicode: JSON with ``stats`` (``scale``: divide offsets by it to normalise),
  ``preprocessing`` settings, ``source`` counts and ``format_version``.
"""
from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DatasetError
from ..fileio import atomic_output

FORMAT_VERSION = 1
TRAIN_SPLITS = ("trainset", "testset_t", "testset_f")
VALID_SPLIT = "testset_v"


@dataclass
class Dataset:
    offsets: np.ndarray
    starts: np.ndarray
    texts: list[str]
    line_ids: list[str]
    writer_ids: np.ndarray
    splits: list[str]
    meta: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_lines(
        cls,
        offsets: Sequence[np.ndarray],
        texts: Sequence[str],
        line_ids: Sequence[str],
        writer_ids: Sequence[int],
        splits: Sequence[str],
        meta: dict | None = None,
    ) -> "Dataset":
        lengths = np.array([len(o) for o in offsets], dtype=np.int64)
        starts = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=starts[1:])
        flat = np.concatenate(offsets).astype(np.float32) if len(offsets) else np.zeros((0, 3), np.float32)
        return cls(flat, starts, list(texts), list(line_ids), np.asarray(writer_ids, np.int32), list(splits), dict(meta or {}))

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.texts)

    def line(self, i: int) -> np.ndarray:
        """Offsets (n, 3) of line i (a view, sensor units)."""
        return self.offsets[self.starts[i] : self.starts[i + 1]]

    def normalised_line(self, i: int, scale: float | None = None) -> np.ndarray:
        """Offsets (n, 3) float32 of line i in normalised units: dx, dy divided by `scale` (None: this dataset's
        own, ``meta["stats"]["scale"]``), pen states as they are. A new array."""
        s = self.scale if scale is None else float(scale)
        return (self.line(i) / np.array([s, s, 1.0], np.float32)).astype(np.float32)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    @property
    def scale(self) -> float:
        return float(self.meta.get("stats", {}).get("scale", 1.0))

    def indices(self, splits: Sequence[str] | None) -> np.ndarray:
        """Indices of lines in any of `splits` (all lines when None)."""
        if splits is None:
            return np.arange(len(self))
        wanted = set(splits)
        return np.array([i for i, s in enumerate(self.splits) if s in wanted], dtype=np.int64)

    def subset(self, idx: Sequence[int]) -> "Dataset":
        idx = list(idx)
        return Dataset.from_lines(
            [self.line(i) for i in idx],
            [self.texts[i] for i in idx],
            [self.line_ids[i] for i in idx],
            [int(self.writer_ids[i]) for i in idx],
            [self.splits[i] for i in idx],
            self.meta,
        )

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> None:
        """Write atomically (a temporary file renamed over `path`)."""
        meta = dict(self.meta, format_version=FORMAT_VERSION)
        arrays = {
            "offsets": self.offsets.astype(np.float32),
            "starts": self.starts.astype(np.int64),
            "texts": np.array(self.texts, dtype=np.str_),
            "line_ids": np.array(self.line_ids, dtype=np.str_),
            "splits": np.array(self.splits, dtype=np.str_),
            "writer_ids": self.writer_ids.astype(np.int32),
            "meta": np.array(json.dumps(meta, sort_keys=True)),
        }
        # what np.savez_compressed writes, at deflate level 1: float offsets barely compress better at the
        # default level 6 (28 vs 29 MB for IAM-OnDB) but take 3.5x as long (6.4 vs 1.8 s)
        with atomic_output(path) as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, arr in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, arr, allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Dataset":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                ds = cls(
                    z["offsets"].astype(np.float32),
                    z["starts"].astype(np.int64),
                    [str(t) for t in z["texts"]],
                    [str(t) for t in z["line_ids"]],
                    z["writer_ids"].astype(np.int32),
                    [str(t) for t in z["splits"]],
                    meta,
                )
        except FileNotFoundError:
            raise DatasetError(f"dataset {str(path)!r} does not exist") from None
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise DatasetError(f"{str(path)!r} is not a hwcli dataset (.npz from `hwcli convert`): {exc}") from None
        if meta.get("format_version", 0) > FORMAT_VERSION:
            raise DatasetError(
                f"{str(path)!r} has dataset format {meta['format_version']}; this hwcli reads up to {FORMAT_VERSION}: upgrade hwcli"
            )
        problem = ds.check()
        if problem:
            raise DatasetError(f"{str(path)!r} is inconsistent ({problem})")
        return ds

    def check(self) -> str:
        """What is wrong with the arrays' shapes and index ('' when nothing): a hand-made or damaged .npz
        would otherwise fail deep inside training with an IndexError."""
        n = len(self.texts)
        if not isinstance(self.meta, dict):
            return "meta is not a JSON object"
        if self.offsets.ndim != 2 or self.offsets.shape[1] != 3:
            return f"offsets have shape {self.offsets.shape}, not (points, 3)"
        if self.starts.ndim != 1 or len(self.starts) != n + 1 or self.starts[0] != 0 or self.starts[-1] != len(self.offsets):
            return "index does not match the offsets"
        if (np.diff(self.starts) < 0).any():
            bad = int(np.flatnonzero(np.diff(self.starts) < 0)[0])
            return f"index out of order at line {bad} ({self.starts[bad]} > {self.starts[bad + 1]})"
        if not (len(self.line_ids) == len(self.writer_ids) == len(self.splits) == n):
            return "texts, line ids, writers and splits differ in length"
        if not np.isfinite(self.offsets).all():
            return "offsets hold NaN or infinite values"
        scale = (self.meta.get("stats") or {}).get("scale", 1.0) if isinstance(self.meta.get("stats", {}), dict) else None
        if not (isinstance(scale, (int, float)) and not isinstance(scale, bool) and np.isfinite(scale) and scale > 0):
            return f"stats.scale {scale!r} is not a positive number"
        return ""
