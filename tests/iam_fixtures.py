"""Tiny IAM-OnDB copies written into a test's tmp_path: stroke XML, ascii form files with a tokenised CSR
section, task1 split files, writers.txt; as a directory or as the distributed tarballs, with optional broken
files (one per problem the reader must survive).

The strokes are deterministic wavy lines (a sine riding on a rightward drift, integer sensor units like the
real data), long enough to survive preprocessing (`hwcli.data.convert.MIN_POINTS`).
"""
from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# form id -> (CSR lines as the database tokenises them, split, writer id or None)
FORMS: dict[str, tuple[list[str], str, int | None]] = {
    "a01-000u": (["Mr . Gaitskell said", "we 'd go ( now ) .", '" Abolish Lords "'], "trainset", 10001),
    "a01-001w": (["Foot ' s reply was", "short ."], "testset_v", 10002),
    "b02-010": (["It is n't so", "they ' re here !"], "testset_f", None),
    "c03-020z": (["the end"], "testset_t", 10003),
}
# the same lines as the writers wrote them (what read_iam must give back)
TEXTS: dict[str, str] = {
    "a01-000u-01": "Mr. Gaitskell said",
    "a01-000u-02": "we'd go (now).",
    "a01-000u-03": '"Abolish Lords"',
    "a01-001w-01": "Foot's reply was",
    "a01-001w-02": "short.",
    "b02-010-01": "It isn't so",
    "b02-010-02": "they're here!",
    "c03-020z-01": "the end",
}
# broken stroke files, by problem: (line id, expected skip reason); "no_text" adds a file past the form's
# CSR lines, the others replace a good line's file (the reader checks the transcription first)
BAD = {
    "malformed": ("a01-001w-02", "malformed XML"),
    "no_text": ("a01-001w-03", "no transcription line"),
    "empty": ("b02-010-02", "empty stroke set"),
}
STROKES_TAR = "lineStrokes-all.tar.gz"
ASCII_TAR = "ascii-all.tar.gz"


@dataclass
class IamFixture:
    root: Path
    texts: dict[str, str]  # good line id -> expected text
    skips: dict[str, str] = field(default_factory=dict)  # broken line id -> expected skip reason

    def split_of(self, line_id: str) -> str:
        return FORMS[form_of(line_id)][1]

    def writer_of(self, line_id: str) -> int:
        w = FORMS[form_of(line_id)][2]
        return -1 if w is None else w


def form_of(line_id: str) -> str:
    return line_id.rsplit("-", 1)[0]


def wavy_strokes(seed: int, n_strokes: int = 5, n_points: int = 40) -> list[np.ndarray]:
    """Integer (n, 2) strokes marching right along a baseline, y down, like a word or two of handwriting."""
    rng = np.random.default_rng(seed)
    strokes, x0 = [], 1000.0
    for _ in range(n_strokes):
        t = np.linspace(0, 2 * np.pi * rng.uniform(1.5, 3), n_points)
        x = x0 + np.linspace(0, rng.uniform(80, 160), n_points) + 15 * np.cos(t)
        y = 2000 + 40 * np.sin(t) + rng.normal(0, 1.0, n_points)
        strokes.append(np.round(np.stack([x, y], axis=1)))
        x0 = float(x.max()) + rng.uniform(20, 50)
    return strokes


def stroke_xml(strokes: list[np.ndarray]) -> bytes:
    """A lineStrokes file as the database writes it (header, Stroke/Point elements with times)."""
    out = ['<?xml version="1.0" encoding="ISO-8859-1"?>\n<WhiteboardCaptureSession>\n',
           '  <WhiteboardDescription>\n    <SensorLocation corner="top_left"/>\n  </WhiteboardDescription>\n',
           "  <StrokeSet>\n"]
    t = 1000.0
    for s in strokes:
        out.append(f'    <Stroke colour="black" start_time="{t:.2f}" end_time="{t + len(s) * 0.01:.2f}">\n')
        for x, y in s:
            out.append(f'      <Point x="{int(x)}" y="{int(y)}" time="{t:.2f}"/>\n')
            t += 0.01
        out.append("    </Stroke>\n")
    out.append("  </StrokeSet>\n</WhiteboardCaptureSession>\n")
    return "".join(out).encode("latin-1")


def ascii_form(lines: list[str]) -> bytes:
    return ("OCR:\n\n" + "\n".join(x.replace(" .", ".") for x in lines) + "\n\nCSR:\n\n" + "\n".join(lines) + "\n").encode("latin-1")


def iam_files(bad: tuple[str, ...] = ()) -> tuple[dict[str, bytes], IamFixture]:
    """Relative path -> content of a whole tiny IAM-OnDB copy (root path left empty in the fixture)."""
    files: dict[str, bytes] = {}
    texts = dict(TEXTS)
    for i, line_id in enumerate(sorted(TEXTS)):
        files[_stroke_path(line_id)] = stroke_xml(wavy_strokes(i))
    for form, (lines, _, _) in FORMS.items():
        files[f"ascii/{form[:3]}/{form_dir(form)}/{form}.txt"] = ascii_form(lines)
    skips = {}
    for problem in bad:
        line_id, reason = BAD[problem]
        good = stroke_xml(wavy_strokes(99))
        content = {"malformed": good[: len(good) // 2], "no_text": good,
                   "empty": b"<WhiteboardCaptureSession><StrokeSet></StrokeSet></WhiteboardCaptureSession>"}[problem]
        files[_stroke_path(line_id)] = content
        skips[line_id] = reason
        texts.pop(line_id, None)
    for split in ("trainset", "testset_v", "testset_t", "testset_f"):
        forms = [f for f, (_, s, _) in FORMS.items() if s == split]
        files[f"task1/{split}.txt"] = ("\n".join(forms) + "\n").encode()
    files["writers.txt"] = "".join(f"{f} {w}\n" for f, (_, _, w) in FORMS.items() if w is not None).encode()
    return files, IamFixture(Path(), texts, skips)


def form_dir(form: str) -> str:
    """ascii/a01/a01-000/...: the middle directory drops the form's letter suffix."""
    return form[:7]


def _stroke_path(line_id: str) -> str:
    form = form_of(line_id)
    return f"lineStrokes/{form[:3]}/{form_dir(form)}/{line_id}.xml"


def write_iam_dir(root: Path, bad: tuple[str, ...] = ()) -> IamFixture:
    """An extracted copy: lineStrokes/, ascii/, task1/, writers.txt under `root`."""
    files, fx = iam_files(bad)
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    fx.root = root
    return fx


def write_iam_tarballs(root: Path, bad: tuple[str, ...] = ()) -> IamFixture:
    """The distributed layout: lineStrokes-all.tar.gz and ascii-all.tar.gz plus task1/ and writers.txt."""
    files, fx = iam_files(bad)
    root.mkdir(parents=True, exist_ok=True)
    for tar_name, prefix in ((STROKES_TAR, "lineStrokes/"), (ASCII_TAR, "ascii/")):
        with tarfile.open(root / tar_name, "w:gz") as tf:
            for rel in sorted(r for r in files if r.startswith(prefix)):
                info = tarfile.TarInfo(rel)
                info.size = len(files[rel])
                tf.addfile(info, io.BytesIO(files[rel]))
    for rel, content in files.items():
        if not rel.startswith(("lineStrokes/", "ascii/")):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)
    fx.root = root
    return fx


def truncate(path: Path, keep: float = 0.6) -> None:
    """Cut a file to a fraction of its bytes, as an interrupted download leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


INKML_SNIPPET = """<?xml version="1.0" encoding="UTF-8"?>
<ink xmlns="http://www.w3.org/2003/InkML">
  <definitions>
    <context xml:id="ctx0">
      <traceFormat>
        <channel name="Y" type="decimal"/>
        <channel name="X" type="decimal"/>
        <channel name="T" type="decimal"/>
      </traceFormat>
    </context>
  </definitions>
  <annotation type="writer">w-17</annotation>
  <annotation type="id">session-3</annotation>
  <traceGroup>
    <annotation type="truth">hello world</annotation>
    <annotation type="id">snippet-01</annotation>
    <annotation type="split">trainset</annotation>
    <trace contextRef="#ctx0">20 10 0, 22 11 1, 25 13 2,27 16 3</trace>
    <trace contextRef="#ctx0">30 40 4, 31 41 5</trace>
  </traceGroup>
  <traceGroup xml:id="second">
    <annotation type="transcription">a &amp; b</annotation>
    <trace contextRef="#ctx0">5 1 0, '1 '1 1, '1 '1 2</trace>
  </traceGroup>
  <traceGroup>
    <annotation type="comment">no text here: not a line</annotation>
    <trace>0 0, 1 1</trace>
  </traceGroup>
</ink>
"""
