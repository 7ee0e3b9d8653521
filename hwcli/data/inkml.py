"""Read and write InkML (W3C Ink Markup Language, https://www.w3.org/TR/InkML/).

Reading (`read_inkml`) accepts one ``.inkml`` file or a directory searched recursively, and yields a
`RawLine` per line of handwriting or a `Skip` with its reason, exactly like `read_iam`:

- a file whose ``<ink>`` has a text annotation (``type="truth"``, ``"transcription"`` or ``"text"``) is one
  line made of all its traces (CROHME-style files also annotate symbols inside; the ink-level text wins);
- otherwise every ``<traceGroup>`` with a text annotation is one line (the outermost one, with its nested
  traces and ``<traceView traceDataRef="#id">`` references);
- ``type="id"`` / ``"lineId"`` names a line (else the group's ``xml:id``, else the file name), ``type="writer"``
  and ``type="split"`` fill writer id and split; ink-level annotations are defaults for every group;
- trace points are ``,``-separated, values whitespace-separated in the order of the ``<traceFormat>``
  channels (default X Y); the ``!``, ``'`` (first difference) and ``"`` (second difference) prefixes are
  understood. Coordinates are taken as they are, with y pointing down (as IAM-OnDB and most pen tablets).

Writing (`write_inkml`) exports a converted `Dataset`: to one file with a ``<traceGroup>`` per line when the
path ends in ``.inkml``, else to a directory with one ``<line id>.inkml`` file per line (easier to browse and
to edit line by line). Each line's points are absolute and start at (0, 0); every value is the shortest
decimal that reads back as the same float64, so the float32 offsets come back exact. An annotation of type
`PREPROCESSED_TYPE` (JSON: preprocessing settings and the normalisation scale) tells `read_inkml` that hwcli
already cleaned these points, so converting the export again gives back the same dataset.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Iterator
from xml.sax.saxutils import escape

import numpy as np

from ..errors import DatasetError, OutputError
from ..fileio import TMP_PREFIX, TMP_SUFFIX, atomic_output, current_umask, describe_os_error
from .dataset import Dataset
from .iam import _LINE_RE, Progress, RawLine, Skip

INKML_NS = "http://www.w3.org/2003/InkML"
PREPROCESSED_TYPE = "hwcli-preprocessed"
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_TEXT_TYPES = ("truth", "transcription", "text")
_ID_TYPES = ("id", "lineId", "lineid", "line_id")
_WRITER_TYPES = ("writer", "writerId", "writer_id")
_VALUE_RE = re.compile(r"""([!'"]?)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[TF*?])""")


# ----------------------------------------------------------------------------- reading
def read_inkml(path: str | os.PathLike, strict: bool = False, progress: Progress | None = None,
               untranscribed: bool = False) -> Iterator[RawLine | Skip]:
    """Yield every line of an InkML file or directory as a RawLine, or a Skip with its reason. With
    `untranscribed`, a file without any transcription is one line of all its traces, with text "" (its text
    comes from elsewhere, e.g. `hwcli styles add --texts`)."""
    p = Path(path)
    if p.is_file():
        files = [p]
    elif p.is_dir():
        files = sorted(p.rglob("*.inkml"))
        if not files:
            raise DatasetError(f"{str(p)!r} holds no InkML files (*.inkml)")
    else:
        raise DatasetError(f"{str(p)!r} does not exist")
    for i, f in enumerate(files):
        for item in _read_file(f, untranscribed):
            if isinstance(item, Skip) and strict:
                raise DatasetError(f"{f.name}: {item.reason}" + (f" ({item.line_id})" if item.line_id != f.stem else ""))
            yield item
        if progress:
            progress(i + 1, len(files))


def _read_file(f: Path, untranscribed: bool = False) -> Iterator[RawLine | Skip]:
    try:
        root = ET.fromstring(f.read_bytes())
    except OSError as exc:
        yield Skip(f.stem, f"unreadable file ({exc.strerror})")
        return
    except ET.ParseError:
        yield Skip(f.stem, "malformed XML")
        return
    for el in root.iter():  # namespaced or not, InkML files are read the same
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.rsplit("}", 1)[1]
    if root.tag != "ink":
        yield Skip(f.stem, "not an InkML document")
        return
    defaults = _annotations(root)
    prep = _preprocessed_record(defaults)
    if prep is False:
        yield Skip(f.stem, "unreadable hwcli-preprocessed annotation")
        return
    formats, default_format = _trace_formats(root)
    by_id = {el.get(_XML_ID): el for el in root.iter() if el.tag in ("trace", "traceGroup") and el.get(_XML_ID)}
    if _text(defaults) is not None:
        groups = [root]
    else:
        groups = _text_groups(root)
        if not groups and untranscribed:
            groups = [root]
        elif not groups:
            yield Skip(f.stem, "no transcription")
            return
    for n, group in enumerate(groups, 1):
        own = defaults if group is root else _annotations(group)
        ann = {**defaults, **own}  # writer and split given for the whole ink apply to each line
        line_id = _first(own, _ID_TYPES) or group.get(_XML_ID) or (f.stem if len(groups) == 1 else f"{f.stem}-{n:02d}")
        text = (_text(ann) or "").strip()
        if not text and not (untranscribed and group is root):
            yield Skip(line_id, "no transcription")
            continue
        try:
            strokes = [_parse_trace(t.text or "", *formats.get(_ref(t, group), default_format)) for t in _traces(group, by_id)]
        except ValueError as exc:
            yield Skip(line_id, str(exc))
            continue
        strokes = [s for s in strokes if len(s)]
        if not strokes:
            yield Skip(line_id, "empty trace set")
            continue
        points = _points(strokes, np.float64 if prep is not None else np.float32)
        if not np.isfinite(points).all():
            yield Skip(line_id, "point without numeric coordinates")
            continue
        m = _LINE_RE.match(line_id)
        yield RawLine(line_id, m.group(1) if m else f.stem, text, points, _writer(_first(ann, _WRITER_TYPES)),
                      ann.get("split", "").strip(), prep)


def _preprocessed_record(ann: dict[str, str]) -> dict | None | bool:
    """hwcli's record of an export, None when there is none, False when it is damaged."""
    if PREPROCESSED_TYPE not in ann:
        return None
    try:
        rec = json.loads(ann[PREPROCESSED_TYPE])
    except json.JSONDecodeError:
        return False
    ok = (isinstance(rec, dict) and isinstance(rec.get("preprocessing"), dict) and isinstance(rec.get("stats"), dict)
          and isinstance(rec["stats"].get("scale"), (int, float)))
    return rec if ok else False


def _annotations(el: ET.Element) -> dict[str, str]:
    """type -> text of the direct <annotation> children (the first of each type)."""
    out: dict[str, str] = {}
    for a in el.findall("annotation"):
        out.setdefault(a.get("type", ""), "".join(a.itertext()))
    return out


def _first(ann: dict[str, str], types: tuple[str, ...]) -> str | None:
    for t in types:
        if ann.get(t, "").strip():
            return ann[t].strip()
    return None


def _text(ann: dict[str, str]) -> str | None:
    for t in _TEXT_TYPES:
        if t in ann:
            return ann[t]
    return None


def _text_groups(el: ET.Element) -> list[ET.Element]:
    """The outermost traceGroups below `el` that carry a text annotation, in document order."""
    out = []
    for child in el:
        if child.tag == "traceGroup":
            out.extend([child] if _text(_annotations(child)) is not None else _text_groups(child))
    return out


def _traces(group: ET.Element, by_id: dict[str, ET.Element]) -> Iterator[ET.Element]:
    """The traces of one line: its own and those its traceViews point at (the whole ink has no views
    followed, or the referenced traces would come twice)."""
    for el in group.iter():
        if el.tag == "trace":
            yield el
        elif el.tag == "traceView" and group.tag != "ink" and el.get("traceDataRef", "").startswith("#"):
            target = by_id.get(el.get("traceDataRef")[1:])
            if target is not None:
                yield from (t for t in target.iter() if t.tag == "trace")


def _ref(trace: ET.Element, group: ET.Element) -> str:
    return (trace.get("contextRef") or group.get("contextRef") or "").lstrip("#")


def _trace_formats(root: ET.Element) -> tuple[dict[str, tuple[int, int, int]], tuple[int, int, int]]:
    """(contexts and traceFormats by id -> (x index, y index, channels), the document's default)."""
    fmts: dict[str, tuple[int, int, int]] = {}
    first = None
    for tf in root.iter("traceFormat"):
        first = first or _channel_layout(tf)
        if tf.get(_XML_ID):
            fmts[tf.get(_XML_ID)] = _channel_layout(tf)
    for ctx in root.iter("context"):
        tf = ctx.find("traceFormat")
        layout = _channel_layout(tf) if tf is not None else fmts.get(ctx.get("traceFormatRef", "").lstrip("#"))
        if ctx.get(_XML_ID) and layout is not None:
            fmts[ctx.get(_XML_ID)] = layout
    return fmts, first or (0, 1, 2)


def _channel_layout(tf: ET.Element) -> tuple[int, int, int]:
    """(x index, y index, regular channels); -1 when X or Y is missing. Intermittent channels come after
    the regular ones and may be left out of a point, so they are not counted."""
    names = [c.get("name", "").upper() for c in tf.findall("channel")]
    if not {"X", "Y"} <= set(names):
        return (-1, -1, len(names))
    return (names.index("X"), names.index("Y"), len(names))


def _parse_trace(text: str, ix: int, iy: int, nch: int) -> np.ndarray:
    """One <trace> body -> (n, 2) float64 [x, y]. Raises ValueError with a skip reason."""
    if ix < 0:
        raise ValueError("traceFormat without X and Y channels")
    text = text.strip().rstrip(",")
    if not text:
        return np.zeros((0, 2))
    n = text.count(",") + 1
    flat = text.replace(",", " ").split()
    # fast path for plain explicit values (what hwcli and most tools write)
    if len(flat) % n == 0 and len(flat) // n >= max(ix, iy) + 1 and not any(c in text for c in "!'\"TF*?"):
        try:
            return np.array(flat, dtype=np.float64).reshape(n, -1)[:, [ix, iy]]
        except ValueError:
            raise ValueError("point without numeric coordinates") from None
    return _parse_trace_general(text, ix, iy, nch)


def _parse_trace_general(text: str, ix: int, iy: int, nch: int) -> np.ndarray:
    """Difference-coded values: ``'`` switches a channel to first differences, ``"`` to second, ``!`` back."""
    prev: list[float | None] = [None] * nch
    vel = [0.0] * nch
    mode = ["!"] * nch
    rows = []
    for point in text.split(","):
        toks = _VALUE_RE.findall(point)
        if not toks:
            continue
        if len(toks) <= max(ix, iy):
            raise ValueError("trace point with too few values")
        row = []
        for j, (prefix, tok) in enumerate(toks[:nch]):
            mode[j] = prefix or mode[j]
            p = prev[j]
            if tok in ("*", "?"):  # '*': unchanged, '?': unknown
                cur = p if tok == "*" and p is not None else float("nan")
            else:
                v = 1.0 if tok == "T" else 0.0 if tok == "F" else float(tok)
                cur = v if p is None or mode[j] == "!" else p + v if mode[j] == "'" else p + vel[j] + v
            vel[j] = cur - p if p is not None else 0.0
            prev[j] = cur
            row.append(cur)
        rows.append((row[ix], row[iy]))
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def _points(strokes: list[np.ndarray], dtype) -> np.ndarray:
    """Like strokes.points_from_strokes but keeps float64 where asked (exact offsets for hwcli exports)."""
    xy = np.concatenate(strokes).astype(dtype)
    eos = np.zeros((len(xy), 1), dtype)
    eos[np.cumsum([len(s) for s in strokes]) - 1] = 1.0
    return np.concatenate([xy, eos], axis=1)


def _writer(value: str | None) -> int:
    """Writer ids are ints in a Dataset: a numeric annotation is kept, a name gets a stable id from its CRC."""
    if not value:
        return -1
    try:
        return int(value)
    except ValueError:
        return zlib.crc32(value.encode("utf-8")) & 0x3FFFFFFF


# ----------------------------------------------------------------------------- writing
def write_inkml(dataset: Dataset, path_or_dir: str | os.PathLike) -> Path:
    """Export `dataset` as InkML: one file (path ends in .inkml) or a directory of one file per line.

    Written atomically: a failed export leaves no partial file (a directory is built beside its target and
    renamed; into an existing directory each file is replaced atomically). Returns the path written.
    """
    out = Path(path_or_dir)
    record = json.dumps({"preprocessing": dataset.meta.get("preprocessing", {}),
                         "stats": {**dataset.meta.get("stats", {}), "scale": dataset.scale}}, sort_keys=True)
    if out.suffix.lower() == ".inkml":
        with atomic_output(out) as fh:
            fh.write(_document(record, [_group(dataset, i, "    ") for i in range(len(dataset))]).encode("utf-8"))
        return out
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write InkML files into {str(out)!r}: it is a file (use a .inkml name for one file)")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {str(out)!r}: directory {str(parent)!r} does not exist")
    try:
        # a short temporary name: any valid folder name can be written
        tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=parent))
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes 0700; a new folder follows the umask
    except OSError as exc:
        raise OutputError(f"cannot write {str(out)!r}: {describe_os_error(exc)}") from None
    try:
        used: set[str] = set()
        for i in range(len(dataset)):
            name = _file_name(dataset.line_ids[i], used)
            (tmp / name).write_text(_document(record, [], _body(dataset, i, "  ")), encoding="utf-8")
        if out.is_dir():
            for f in sorted(tmp.iterdir()):
                os.replace(f, out / f.name)
            tmp.rmdir()
        else:
            os.replace(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"cannot write {str(out)!r}: {describe_os_error(exc)}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _document(record: str, groups: list[str], body: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ink xmlns="{INKML_NS}">\n'
        f'  <annotation type="{PREPROCESSED_TYPE}">{escape(record)}</annotation>\n'
        '  <annotation type="description">Written by hwcli: handwriting lines already cleaned by `hwcli convert`, '
        "absolute coordinates in sensor units, y down, each line starting at (0, 0).</annotation>\n"
        '  <context xml:id="hwcli"><traceFormat>'
        '<channel name="X" type="decimal"/><channel name="Y" type="decimal"/></traceFormat></context>\n'
        + body + "".join(groups) + "</ink>\n"
    )


def _group(ds: Dataset, i: int, indent: str) -> str:
    return f"  <traceGroup>\n{_body(ds, i, indent)}  </traceGroup>\n"


def _body(ds: Dataset, i: int, indent: str) -> str:
    parts = [f'{indent}<annotation type="truth">{escape(ds.texts[i])}</annotation>\n',
             f'{indent}<annotation type="id">{escape(ds.line_ids[i])}</annotation>\n']
    if int(ds.writer_ids[i]) >= 0:
        parts.append(f'{indent}<annotation type="writer">{int(ds.writer_ids[i])}</annotation>\n')
    if ds.splits[i]:
        parts.append(f'{indent}<annotation type="split">{escape(ds.splits[i])}</annotation>\n')
    off = ds.line(i)
    # float64 running sum: the float32 offsets are then exact differences of the written values
    xy = np.cumsum(off[:, :2].astype(np.float64), axis=0)
    ends = np.flatnonzero(off[:, 2] > 0.5) + 1
    if len(ends) == 0 or ends[-1] != len(off):
        ends = np.append(ends, len(off))
    start = 0
    for end in ends:
        pts = ", ".join(f"{x!r} {y!r}" for x, y in xy[start:end].tolist())
        parts.append(f"{indent}<trace>{pts}</trace>\n")
        start = end
    return "".join(parts)


def _file_name(line_id: str, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", line_id).strip(".") or "line"
    name, k = f"{stem}.inkml", 1
    while name in used:
        k += 1
        name = f"{stem}-{k}.inkml"
    used.add(name)
    return name
