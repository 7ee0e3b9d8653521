"""Source (IAM-OnDB directory/tarballs, InkML) -> cleaned `Dataset`, with a report of what happened."""
from __future__ import annotations

import collections
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..errors import DatasetError
from ..cleaning import PIPELINE, PreprocessOptions, preprocess
from ..strokes import offset_scale, to_offsets
from .dataset import TRAIN_SPLITS, Dataset
from .iam import IamLayout, Progress, RawLine, Skip, read_iam

MIN_POINTS = 10  # fewer points than this after cleaning is not a line of handwriting


@dataclass
class ConvertReport:
    source: str
    kind: str  # "iam-ondb" | "inkml"
    lines_read: int = 0
    skipped: collections.Counter = field(default_factory=collections.Counter)
    points_raw: int = 0
    points: int = 0
    char_counts: collections.Counter = field(default_factory=collections.Counter)
    writers: int = 0
    splits: collections.Counter = field(default_factory=collections.Counter)
    preprocessed: int = 0  # lines kept as they were because hwcli had already cleaned them
    truncated: list = field(default_factory=list)  # archives that ended early: how much of each was read

    @classmethod
    def from_dataset(cls, ds: Dataset, source: str) -> "ConvertReport":
        """The counts of a set converted earlier (an .npz being exported)."""
        rep = cls(source, "npz", lines_read=len(ds), points_raw=len(ds.offsets), points=len(ds.offsets))
        for t in ds.texts:
            rep.char_counts.update(t)
        rep.splits.update(s or "none" for s in ds.splits)
        rep.writers = len({int(w) for w in ds.writer_ids if w >= 0})
        return rep

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "kind": self.kind,
            "lines_read": self.lines_read,
            "lines_skipped": dict(self.skipped),
            "truncated": list(self.truncated),
            "points_raw": self.points_raw,
            "points": self.points,
            "characters": sum(self.char_counts.values()),
            "char_counts": dict(sorted(self.char_counts.items())),
            "writers": self.writers,
            "splits": dict(self.splits),
            "already_preprocessed": self.preprocessed,
        }


def detect_kind(path: str | os.PathLike) -> str:
    """'iam-ondb', 'inkml' or 'npz'; DatasetError naming what was expected otherwise."""
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"{str(p)!r} does not exist")
    if p.is_file() and p.suffix == ".npz":
        return "npz"
    if p.is_file() and p.suffix.lower() == ".inkml":
        return "inkml"
    if p.is_dir():
        if IamLayout.looks_like(p):
            return "iam-ondb"
        if any(p.rglob("*.inkml")):
            return "inkml"
    raise DatasetError(
        f"{str(p)!r} is neither IAM-OnDB (a directory with lineStrokes/ and ascii/, or "
        "lineStrokes-all.tar.gz and ascii-all.tar.gz), nor InkML (.inkml files), nor a converted .npz"
    )


def _clean(item: tuple[str, np.ndarray, dict | None]) -> tuple[str, np.ndarray | None, str]:
    """Preprocess one line (``opts_d`` None: already cleaned by hwcli, only turned into offsets)."""
    line_id, points, opts_d = item
    n0 = len(points)
    pts = points if opts_d is None else preprocess(points, PreprocessOptions(**opts_d))
    if len(pts) < MIN_POINTS:
        return line_id, None, "too few points after cleaning"
    # the raw count travels in the first row's dx slot: offsets[0, :2] is always zero
    off = to_offsets(pts)
    off[0, 0] = n0
    return line_id, off, ""


def _batched(it: Iterable, n: int) -> Iterator[list]:
    buf = []
    for x in it:
        buf.append(x)
        if len(buf) == n:
            yield buf
            buf = []
    if buf:
        yield buf


def convert(
    path: str | os.PathLike,
    opts: PreprocessOptions | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
    allow_partial: bool = False,
) -> tuple[Dataset, ConvertReport]:
    """Read, clean and normalise a source into a Dataset. Lines that cannot be used are counted by reason.

    A truncated or corrupt archive is a DatasetError that says how much of it was read, unless
    `allow_partial` (then the lines read are kept, and `report.truncated` says what was missed).

    Lines that hwcli already cleaned (an InkML export of a converted set, `RawLine.preprocessed`) are kept
    as they are and keep their recorded normalisation scale; `opts` applies to the other lines only.
    """
    kind = detect_kind(path)
    if kind == "npz":
        raise DatasetError(f"{str(path)!r} is already a converted dataset")
    if kind == "iam-ondb":
        records = read_iam(path, strict=strict, progress=progress)
    else:
        from .inkml import read_inkml

        records = read_inkml(path, strict=strict, progress=progress)
    opts = opts or PreprocessOptions()
    report = ConvertReport(str(path), kind)
    kept: list[RawLine] = []
    offsets: list[np.ndarray] = []
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    opts_d = opts.to_dict()

    def handle(lines: list[RawLine], results) -> None:
        for raw, (line_id, off, reason) in zip(lines, results):
            if off is None:
                if strict:
                    raise DatasetError(f"{line_id}: {reason}")
                report.skipped[reason] += 1
                continue
            report.points_raw += int(off[0, 0])
            off[0, 0] = 0.0
            kept.append(raw)
            offsets.append(off)
            report.preprocessed += raw.preprocessed is not None

    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        pending = []
        for chunk in _batched(records, 256):
            lines = []
            for r in chunk:
                if isinstance(r, Skip):
                    report.skipped[r.reason] += 1
                    if r.detail:
                        report.truncated.append(r.detail)
                    continue
                report.lines_read += 1
                if kind == "iam-ondb" and "#" in r.text:
                    # IAM-OnDB marks a word the writer crossed out with '#': the ink has a scribble there
                    if strict:
                        raise DatasetError(f"{r.line_id}: transcription marks a crossed-out word (#)")
                    report.skipped["crossed-out word (#)"] += 1
                    continue
                lines.append(r)
            items = [(r.line_id, r.points, None if r.preprocessed is not None else opts_d) for r in lines]
            if pool is None:
                handle(lines, [_clean(it) for it in items])
            else:
                pending.append((lines, pool.map(_clean, items, chunksize=32)))
                while len(pending) > 2:
                    ls, res = pending.pop(0)
                    handle(ls, list(res))
        for ls, res in pending:
            handle(ls, list(res))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    if report.truncated and not allow_partial:
        raise DatasetError(f"{'; '.join(report.truncated)}: use --allow-partial to convert what was read")
    if not kept:
        raise DatasetError(f"no usable lines in {str(path)!r} ({dict(report.skipped) or 'nothing found'})")
    for r, o in zip(kept, offsets):
        report.points += len(o)
        report.char_counts.update(r.text)
        report.splits[r.split or "none"] += 1
    report.writers = len({r.writer_id for r in kept if r.writer_id >= 0})
    meta = {**_stats_and_preprocessing(kept, offsets, opts_d), "source": report.to_dict()}
    ds = Dataset.from_lines(offsets, [r.text for r in kept], [r.line_id for r in kept],
                            [r.writer_id for r in kept], [r.split for r in kept], meta)
    return ds, report


def _stats_and_preprocessing(kept: list[RawLine], offsets: list[np.ndarray], opts_d: dict) -> dict:
    """The ``stats`` and ``preprocessing`` entries of the dataset's meta.

    A set that hwcli had already cleaned keeps its own record, so re-importing an export gives back the
    same normalisation scale (a recomputed one would differ when splits were dropped or edited)."""
    records = {json.dumps(r.preprocessed, sort_keys=True) for r in kept if r.preprocessed is not None}
    if len(records) == 1 and all(r.preprocessed is not None for r in kept):
        rec = kept[0].preprocessed  # shape checked by the reader
        return {"stats": dict(rec["stats"]), "preprocessing": dict(rec["preprocessing"])}
    in_train = [o for o, r in zip(offsets, kept) if r.split in TRAIN_SPLITS]
    preprocessing = {"steps": [name for name, _ in PIPELINE], **opts_d}
    if records:
        preprocessing["lines_already_preprocessed"] = sum(r.preprocessed is not None for r in kept)
    return {
        "stats": {"scale": offset_scale(in_train or offsets), "scale_from": "train splits" if in_train else "all lines"},
        "preprocessing": preprocessing,
    }


def load_dataset(path: str | os.PathLike, progress: Progress | None = None) -> Dataset:
    """A converted .npz, or any convertible source converted on the fly with default settings."""
    if detect_kind(path) == "npz":
        return Dataset.load(path)
    return convert(path, progress=progress)[0]
