"""hwcli.data.inkml: reading InkML as others write it, and the hwcli export round trip."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest

from hwcli.data.convert import convert
from hwcli.data.dataset import Dataset
from hwcli.data.iam import RawLine, Skip
from hwcli.data.inkml import INKML_NS, PREPROCESSED_TYPE, read_inkml, write_inkml
from hwcli.errors import DatasetError, OutputError
from hwcli.cleaning import PreprocessOptions
from iam_fixtures import INKML_SNIPPET

ONE_LINE = """<ink>
  <annotation type="truth">one line</annotation>
  <annotation type="writer">42</annotation>
  <trace>0 0 10, 5 1 11, 10 2 12</trace>
  <trace>20 0, 21 3</trace>
</ink>
"""


def read(path, **kw):
    items = list(read_inkml(path, **kw))
    return [r for r in items if isinstance(r, RawLine)], [r for r in items if isinstance(r, Skip)]


def test_read_a_hand_written_snippet(tmp_path):
    (tmp_path / "snippet.inkml").write_text(INKML_SNIPPET)
    lines, skips = read(tmp_path / "snippet.inkml")
    assert skips == []
    # the group without text is not a line; the ink-level id names the file, not each line
    assert [r.line_id for r in lines] == ["snippet-01", "second"]
    first, second = lines
    assert first.text == "hello world" and first.split == "trainset" and second.split == ""
    # traceFormat says Y X T: columns are reordered, the time channel dropped
    assert first.points.tolist() == [[10, 20, 0], [11, 22, 0], [13, 25, 0], [16, 27, 1], [40, 30, 0], [41, 31, 1]]
    assert first.points.dtype == np.float32 and first.preprocessed is None
    assert second.text == "a & b"
    assert second.points.tolist() == [[1, 5, 0], [2, 6, 0], [3, 7, 1]]  # "'" values are first differences
    assert first.writer_id == second.writer_id == zlib.crc32(b"w-17") & 0x3FFFFFFF  # ink-level default
    assert first.form_id == "snippet"


def test_one_line_per_file_without_namespace(tmp_path):
    (tmp_path / "a01-000u-05.inkml").write_text(ONE_LINE)
    [r], _ = read(tmp_path / "a01-000u-05.inkml")
    assert (r.line_id, r.form_id, r.text, r.writer_id, r.split) == ("a01-000u-05", "a01-000u", "one line", 42, "")
    assert r.points.tolist() == [[0, 0, 0], [5, 1, 0], [10, 2, 1], [20, 0, 0], [21, 3, 1]]


def test_second_differences(tmp_path):
    f = tmp_path / "acc.inkml"
    f.write_text('<ink><annotation type="text">x</annotation><trace>0 0, 1 2, "0 "1, "0 "0</trace></ink>')
    [r], _ = read(f)
    # velocity (1, 2) stays, then y speeds up by 1: y = 0, 2, 5, 8
    assert r.points[:, :2].tolist() == [[0, 0], [1, 2], [2, 5], [3, 8]]


def test_directory_is_read_recursively_with_progress(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.inkml").write_text(ONE_LINE)
    (tmp_path / "a" / "b" / "snippet.inkml").write_text(INKML_SNIPPET)
    (tmp_path / "ignored.txt").write_text("x")
    calls = []
    lines, _ = read(tmp_path, progress=lambda d, t: calls.append((d, t)))
    assert sorted(r.line_id for r in lines) == ["one", "second", "snippet-01"]
    assert calls == [(1, 2), (2, 2)]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("<ink><annotation type='truth'>x</annotation><trace>0 0, 1 1</trace>", "malformed XML"),
        ("<ink><trace>0 0, 1 1</trace></ink>", "no transcription"),
        ("<svg><trace>0 0</trace></svg>", "not an InkML document"),
        ("<ink><annotation type='truth'>x</annotation></ink>", "empty trace set"),
        ("<ink><annotation type='truth'>x</annotation><trace>0 a, 1 1</trace></ink>", "point without numeric coordinates"),
        ("<ink><annotation type='truth'>x</annotation><trace>0 ?, 1 1</trace></ink>", "point without numeric coordinates"),
        ("<ink><traceFormat><channel name='T'/></traceFormat><annotation type='truth'>x</annotation>"
         "<trace>0, 1</trace></ink>", "traceFormat without X and Y channels"),
        (f"<ink><annotation type='{PREPROCESSED_TYPE}'>{{oops</annotation><annotation type='truth'>x</annotation>"
         "<trace>0 0</trace></ink>", "unreadable hwcli-preprocessed annotation"),
        (f"<ink><annotation type='{PREPROCESSED_TYPE}'>{{}}</annotation><annotation type='truth'>x</annotation>"
         "<trace>0 0</trace></ink>", "unreadable hwcli-preprocessed annotation"),
    ],
)
def test_bad_files_are_skipped_with_a_reason_or_raise_when_strict(tmp_path, content, reason):
    (tmp_path / "bad.inkml").write_text(content)
    (tmp_path / "good.inkml").write_text(ONE_LINE)
    lines, skips = read(tmp_path)
    assert [s.reason for s in skips] == [reason] and [r.line_id for r in lines] == ["good"]
    with pytest.raises(DatasetError, match=f"bad.inkml: {reason}"):
        list(read_inkml(tmp_path, strict=True))


def test_directory_without_inkml_files(tmp_path):
    with pytest.raises(DatasetError, match="no InkML files"):
        list(read_inkml(tmp_path))


def assert_same_dataset(a: Dataset, b: Dataset) -> None:
    assert b.line_ids == a.line_ids and b.texts == a.texts and b.splits == a.splits
    assert b.writer_ids.tolist() == a.writer_ids.tolist()
    assert np.array_equal(b.starts, a.starts)
    for i in range(len(a)):
        assert np.allclose(b.line(i), a.line(i), rtol=0, atol=1e-3)
    assert np.array_equal(b.offsets, a.offsets)  # in fact bit-exact
    assert b.meta["stats"] == a.meta["stats"] and b.meta["preprocessing"] == a.meta["preprocessing"]


@pytest.mark.parametrize("target", ["lines.inkml", "lines"], ids=["one-file", "directory"])
def test_round_trip_iam_npz_inkml_npz(iam_dir, tmp_path, target):
    ds, _ = convert(iam_dir.root, workers=1)
    ds.save(tmp_path / "a.npz")
    first = Dataset.load(tmp_path / "a.npz")
    out = write_inkml(first, tmp_path / target)
    # options that would change the points must not apply to lines hwcli already cleaned
    again, rep = convert(out, PreprocessOptions(downsample=3, smooth=0.4), workers=1)
    assert rep.preprocessed == len(first) and rep.skipped == {}
    again.save(tmp_path / "b.npz")
    assert_same_dataset(first, Dataset.load(tmp_path / "b.npz"))
    if target == "lines":
        assert sorted(p.name for p in out.iterdir()) == sorted(f"{i}.inkml" for i in first.line_ids)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_export_is_standard_inkml(tiny_npz, tmp_path):
    ds = Dataset.load(tiny_npz)
    root = ET.parse(write_inkml(ds, tmp_path / "x.inkml")).getroot()
    ns = {"i": INKML_NS}
    assert root.tag == f"{{{INKML_NS}}}ink"
    groups = root.findall("i:traceGroup", ns)
    assert len(groups) == len(ds)
    strokes = [int((ds.line(i)[:, 2] > 0.5).sum()) for i in range(len(ds))]
    assert [len(g.findall("i:trace", ns)) for g in groups] == strokes
    assert groups[0].find("i:annotation[@type='truth']", ns).text == ds.texts[0]


def test_inkml_without_the_hwcli_record_goes_through_the_pipeline(tmp_path):
    strokes = [np.c_[np.arange(40) * 3.0 + 100 * k, 20 * np.sin(np.arange(40) / 4)] for k in range(3)]
    body = "".join("<trace>" + ", ".join(f"{x:.1f} {y:.1f}" for x, y in s) + "</trace>" for s in strokes)
    (tmp_path / "raw.inkml").write_text(f"<ink><annotation type='truth'>#1 abc</annotation>{body}</ink>")
    ds, rep = convert(tmp_path / "raw.inkml", PreprocessOptions(downsample=2), workers=1)
    assert rep.preprocessed == 0 and rep.points_raw == 120 and len(ds.offsets) == 3 * 21
    assert ds.texts == ["#1 abc"]  # '#' marks crossed-out words in IAM-OnDB only
    assert ds.meta["stats"]["scale_from"] == "all lines"


def test_export_fails_cleanly(tiny_npz, tmp_path):
    ds = Dataset.load(tiny_npz)
    with pytest.raises(OutputError, match="does not exist"):
        write_inkml(ds, tmp_path / "missing" / "x.inkml")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="it is a file"):
        write_inkml(ds, tmp_path / "file")
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing" / "keep.txt").write_text("mine")
    write_inkml(ds, tmp_path / "existing")
    assert len(os.listdir(tmp_path / "existing")) == len(ds) + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing", "file"]


def test_untranscribed_ink_is_one_line_only_when_asked(tmp_path):
    from hwcli.data.iam import Skip

    f = tmp_path / "mine.inkml"
    f.write_text('<ink xmlns="http://www.w3.org/2003/InkML"><trace>0 0, 1 1, 2 0</trace><trace>5 0, 6 2</trace></ink>')
    (skip,) = read_inkml(f)
    assert isinstance(skip, Skip) and skip.reason == "no transcription"
    (line,) = read_inkml(f, untranscribed=True)
    assert line.text == "" and len(line.points) == 5 and line.points[2, 2] == 1  # both traces, one stroke end each
