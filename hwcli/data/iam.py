"""Read IAM-OnDB as users have it: an extracted directory or the distributed tarballs.

Layouts accepted for ``path``:
- a directory with ``lineStrokes/`` and ``ascii/`` (extracted), or with ``lineStrokes-all.tar.gz`` and
  ``ascii-all.tar.gz`` (read directly, never extracted);
- optional task split ``task1/{trainset,testset_v,testset_t,testset_f}.txt`` (or the same files at the top);
- optional ``writers.txt`` (``form-id writer-id`` per line).

`read_iam` yields a `RawLine` per stroke file that reads cleanly and a `Skip` (with its reason) for every
one that does not, so a caller can count reasons; ``strict=True`` raises on the first problem instead.
"""
from __future__ import annotations

import os
import re
import tarfile
import xml.etree.ElementTree as ET
import xml.parsers.expat as expat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import DatasetError
from ..strokes import points_from_strokes
from .text import QuoteState, detokenize

SPLITS = ("trainset", "testset_v", "testset_t", "testset_f")
STROKES_TAR = "lineStrokes-all.tar.gz"
ASCII_TAR = "ascii-all.tar.gz"
_LINE_RE = re.compile(r"^([a-z0-9]+-[0-9a-z]+[a-z]?)-(\d+)$", re.I)
# x and y as the database writes them (x first); values are checked by the float conversion
_POINT_RE = re.compile(rb'<Point\s+x="([^"]*)"\s+y="([^"]*)"')

Progress = Callable[[int, int], None]  # (done, total) in the source's units (files or bytes)


@dataclass
class RawLine:
    line_id: str  # e.g. "a01-000u-01"
    form_id: str  # e.g. "a01-000u"
    text: str  # detokenised transcription, as written
    points: np.ndarray  # (N, 3) float32 [x, y, eos], sensor units, y down
    writer_id: int  # -1 when unknown
    split: str  # one of SPLITS, or "" when the form is in no split file
    # hwcli's record ({"preprocessing": {...}, "stats": {"scale": ...}}) when these points were already cleaned
    # by hwcli (an InkML export of a converted set): convert() keeps them as they are, since running the
    # pipeline twice would smooth and downsample again. Such points are float64 so their offsets come back exact.
    preprocessed: dict | None = None


@dataclass
class Skip:
    line_id: str
    reason: str
    detail: str = ""  # for a truncated archive: how much of it was read


#: A real line's stroke XML is ~30 KB and a transcription ~1 KB: a tar member over this is skipped unread
#: (a 1 GiB member would otherwise be read whole into memory).
MAX_MEMBER_BYTES = 4 << 20
TOO_LARGE = "archive member larger than 4 MiB"
TRUNCATED = "truncated or corrupt archive"


def _tar_members(path: Path, suffix: str, progress: Progress | None = None) -> Iterator[tuple[tarfile.TarInfo, bytes | None, Skip | None]]:
    """Each regular member of the gzipped tar `path` whose name ends with `suffix`: (member, bytes, None), or
    (member, None, Skip) for one over MAX_MEMBER_BYTES (never read). A truncated or corrupt archive ends the
    stream with (None, None, Skip) whose `detail` says how much was read."""
    total = path.stat().st_size
    n = 0
    with open(path, "rb") as raw:
        try:
            with tarfile.open(fileobj=raw, mode="r:gz") as tf:
                for m in tf:
                    if not (m.isfile() and m.name.endswith(suffix)):
                        continue
                    if m.size > MAX_MEMBER_BYTES:
                        yield m, None, Skip(Path(m.name).stem, TOO_LARGE)
                        continue
                    fh = tf.extractfile(m)
                    data = fh.read(MAX_MEMBER_BYTES + 1) if fh is not None else None
                    n += 1
                    yield m, data, None
                    if progress:
                        progress(min(raw.tell(), total), total)
        except (tarfile.TarError, EOFError, OSError, zlib_error()) as exc:
            done = min(raw.tell(), total)
            yield None, None, Skip(path.name, TRUNCATED,
                                   f"{path.name} is truncated or corrupt ({type(exc).__name__}): read {done / 1e6:.1f} of "
                                   f"{total / 1e6:.1f} MB ({100 * done / max(total, 1):.0f}%), {n:,} {suffix} file(s)")


class IamLayout:
    """Where the pieces of one IAM-OnDB copy are. Raises DatasetError when `path` is not IAM-OnDB."""

    def __init__(self, path: str | os.PathLike):
        self.root = Path(path)
        if not self.root.is_dir():
            raise DatasetError(f"{str(self.root)!r} is not a directory")
        r = self.root
        self.strokes_dir = r / "lineStrokes" if (r / "lineStrokes").is_dir() else None
        self.strokes_tar = r / STROKES_TAR if (r / STROKES_TAR).is_file() else None
        self.ascii_dir = r / "ascii" if (r / "ascii").is_dir() else None
        self.ascii_tar = r / ASCII_TAR if (r / ASCII_TAR).is_file() else None
        if not (self.strokes_dir or self.strokes_tar) or not (self.ascii_dir or self.ascii_tar):
            raise DatasetError(
                f"{str(r)!r} is not an IAM-OnDB copy: expected lineStrokes/ and ascii/ "
                f"(or {STROKES_TAR} and {ASCII_TAR}) inside it"
            )
        self.split_files = {}
        for s in SPLITS:
            for cand in (r / "task1" / f"{s}.txt", r / f"{s}.txt"):
                if cand.is_file():
                    self.split_files[s] = cand
                    break
        self.writers_file = r / "writers.txt" if (r / "writers.txt").is_file() else None

    @staticmethod
    def looks_like(path: str | os.PathLike) -> bool:
        try:
            IamLayout(path)
            return True
        except DatasetError:
            return False


def read_splits(layout: IamLayout) -> dict[str, str]:
    """form id -> split name."""
    out: dict[str, str] = {}
    for name, f in layout.split_files.items():
        for line in f.read_text(encoding="latin-1").split():
            out[line.strip()] = name
    return out


def read_writers(layout: IamLayout) -> dict[str, int]:
    """form id -> writer id."""
    out: dict[str, int] = {}
    if layout.writers_file is None:
        return out
    for line in layout.writers_file.read_text(encoding="latin-1").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def parse_transcription(data: str) -> list[str] | None:
    """The CSR lines of one ascii/*.txt form file, detokenised; None when there is no CSR section."""
    if "CSR:" not in data:
        return None
    body = data.split("CSR:", 1)[1]
    lines = [ln.strip() for ln in body.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    state = QuoteState()
    return [detokenize(ln, state) for ln in lines]


def read_transcriptions(layout: IamLayout, strict: bool = False) -> tuple[dict[str, list[str]], list[Skip]]:
    """form id -> CSR lines; plus skips for unreadable transcription files."""
    forms: dict[str, list[str]] = {}
    skips: list[Skip] = []

    def add(name: str, raw: bytes) -> None:
        form = Path(name).stem
        lines = parse_transcription(raw.decode("latin-1"))
        if lines is None:
            if strict:
                raise DatasetError(f"{name}: transcription has no CSR section")
            skips.append(Skip(form, "transcription without CSR section"))
        else:
            forms[form] = lines

    if layout.ascii_dir is not None:
        for f in sorted(layout.ascii_dir.rglob("*.txt")):
            add(f.name, f.read_bytes())
    else:
        for m, data, skip in _tar_members(layout.ascii_tar, ".txt"):
            if skip is not None:
                if strict:
                    raise DatasetError(f"{layout.ascii_tar}: {skip.detail or skip.reason}")
                skips.append(skip)
            elif data is not None:
                add(m.name, data)
    return forms, skips


def zlib_error():
    import zlib

    return zlib.error


def parse_stroke_xml(raw: bytes) -> np.ndarray:
    """One lineStrokes XML file -> points (N, 3) [x, y, eos] in sensor units (y down).

    Raises ValueError for malformed XML or a stroke set without points.

    Building an ElementTree of ~700 <Point> elements per file dominated conversion time, so the usual
    path checks well-formedness with a bare expat parser (no Python callbacks) and pulls the coordinates
    out with one regular expression. Anything unusual (comments, CDATA, other attribute orders) falls back
    to ElementTree, so the fast path only has to be right for files as the database writes them.
    """
    try:
        expat.ParserCreate().Parse(raw, True)
    except expat.ExpatError as exc:
        raise ValueError(f"malformed XML ({expat.ErrorString(exc.code)}, line {exc.lineno})") from None
    if b"<!--" in raw or b"<![CDATA[" in raw:
        return _parse_stroke_xml_tree(raw)
    strokes = raw.split(b"</Stroke>")
    found = [_POINT_RE.findall(s) for s in strokes]
    lengths = [len(f) for f in found]
    if sum(lengths) != raw.count(b"<Point"):
        return _parse_stroke_xml_tree(raw)
    if not any(lengths):
        raise ValueError("empty stroke set")
    values = [v for f in found for xy in f for v in xy]
    try:
        # the database writes integers; int() of bytes is about twice as fast as numpy's float parsing
        flat = np.array(list(map(int, values)), dtype=np.float32)
    except (ValueError, OverflowError):
        try:
            flat = np.array(values, dtype=np.float64).astype(np.float32)
        except ValueError:
            raise ValueError("point without numeric coordinates") from None
    xy = flat.reshape(-1, 2)
    eos = np.zeros((len(xy), 1), np.float32)
    eos[np.cumsum([n for n in lengths if n]) - 1] = 1.0
    points = np.concatenate([xy, eos], axis=1)
    if not np.isfinite(points).all():
        raise ValueError("point without numeric coordinates")
    return points


def _parse_stroke_xml_tree(raw: bytes) -> np.ndarray:
    """The general (slow) parser: any well-formed stroke XML."""
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise ValueError(f"malformed XML ({exc})") from None
    strokes = []
    try:
        for stroke in root.iter("Stroke"):
            pts = [(float(p.get("x", "nan")), float(p.get("y", "nan"))) for p in stroke.iter("Point")]
            if pts:
                strokes.append(np.asarray(pts, np.float32))
    except ValueError:
        raise ValueError("point without numeric coordinates") from None
    if not strokes:
        raise ValueError("empty stroke set")
    points = points_from_strokes(strokes)
    if not np.isfinite(points).all():
        raise ValueError("point without numeric coordinates")
    return points


def _iter_stroke_files(layout: IamLayout, progress: Progress | None) -> Iterator[tuple[str, bytes | None, str | Skip]]:
    """Yield (file name, raw bytes or None, error) for every stroke XML file (error: a reason, or a Skip of
    the archive: a member too large, or the archive ending early)."""
    if layout.strokes_dir is not None:
        files = sorted(layout.strokes_dir.rglob("*.xml"))
        for i, f in enumerate(files):
            try:
                yield f.name, f.read_bytes(), ""
            except OSError as exc:
                yield f.name, None, f"unreadable file ({exc.strerror})"
            if progress:
                progress(i + 1, len(files))
        return
    total = layout.strokes_tar.stat().st_size
    for m, data, skip in _tar_members(layout.strokes_tar, ".xml", progress):
        if skip is not None:
            yield (Path(m.name).name if m is not None else STROKES_TAR), None, skip
            continue
        yield Path(m.name).name, data, ""
    if progress:
        progress(total, total)


def read_iam(
    path: str | os.PathLike,
    strict: bool = False,
    progress: Progress | None = None,
) -> Iterator[RawLine | Skip]:
    """Yield every line of an IAM-OnDB copy as a RawLine, or a Skip with its reason."""
    layout = IamLayout(path)
    forms, skips = read_transcriptions(layout, strict)
    yield from skips
    splits = read_splits(layout)
    writers = read_writers(layout)
    for name, raw, err in _iter_stroke_files(layout, progress):
        line_id = name[:-4] if name.endswith(".xml") else name
        if isinstance(err, Skip):
            if strict:
                raise DatasetError(f"{name}: {err.detail or err.reason}")
            yield err
            continue
        if err:
            if strict:
                raise DatasetError(f"{name}: {err}")
            yield Skip(line_id, err.split(" (")[0])
            continue
        m = _LINE_RE.match(line_id)
        if not m:
            if strict:
                raise DatasetError(f"{name}: file name is not an IAM-OnDB line id")
            yield Skip(line_id, "file name is not a line id")
            continue
        form_id, num = m.group(1), int(m.group(2))
        lines = forms.get(form_id)
        if lines is None or not (1 <= num <= len(lines)) or not lines[num - 1].strip():
            if strict:
                raise DatasetError(f"{name}: no transcription line")
            yield Skip(line_id, "no transcription line")
            continue
        try:
            points = parse_stroke_xml(raw)
        except ValueError as exc:
            if strict:
                raise DatasetError(f"{name}: {exc}") from None
            yield Skip(line_id, str(exc).split(" (")[0])
            continue
        yield RawLine(line_id, form_id, lines[num - 1], points, writers.get(form_id, -1), splits.get(form_id, ""))
