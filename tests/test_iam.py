"""hwcli.data.iam: reading IAM-OnDB from a directory or tarballs, and surviving bad input."""
from __future__ import annotations

import numpy as np
import pytest

from hwcli.data.iam import RawLine, Skip, parse_stroke_xml, parse_transcription, read_iam
from hwcli.errors import DatasetError
from iam_fixtures import STROKES_TAR, stroke_xml, truncate, wavy_strokes, write_iam_dir, write_iam_tarballs


def lines_and_skips(path, **kw):
    items = list(read_iam(path, **kw))
    return [r for r in items if isinstance(r, RawLine)], [r for r in items if isinstance(r, Skip)]


def test_directory_lines_have_text_split_writer_and_points(iam_dir):
    lines, skips = lines_and_skips(iam_dir.root)
    assert skips == []
    assert {r.line_id: r.text for r in lines} == iam_dir.texts
    for r in lines:
        assert r.form_id == r.line_id.rsplit("-", 1)[0]
        assert r.split == iam_dir.split_of(r.line_id)
        assert r.writer_id == iam_dir.writer_of(r.line_id)
        assert r.points.dtype == np.float32 and r.points.shape == (200, 3)
        assert r.points[:, 2].sum() == 5  # five strokes
        assert r.preprocessed is None


def test_directory_and_tarballs_read_the_same(iam_dir, iam_tarballs):
    a, _ = lines_and_skips(iam_dir.root)
    b, _ = lines_and_skips(iam_tarballs.root)
    assert [r.line_id for r in a] == [r.line_id for r in b]
    for x, y in zip(a, b):
        assert (x.text, x.writer_id, x.split) == (y.text, y.writer_id, y.split)
        assert np.array_equal(x.points, y.points)


@pytest.mark.parametrize("problem", ["malformed", "no_text", "empty"])
@pytest.mark.parametrize("packed", [False, True], ids=["dir", "tar"])
def test_a_bad_line_is_skipped_with_its_reason_and_the_rest_reads(tmp_path, problem, packed):
    fx = (write_iam_tarballs if packed else write_iam_dir)(tmp_path / "iam", bad=(problem,))
    lines, skips = lines_and_skips(fx.root)
    assert [(s.line_id, s.reason) for s in skips] == list(fx.skips.items())
    assert {r.line_id for r in lines} == set(fx.texts)
    with pytest.raises(DatasetError, match=list(fx.skips)[0]):
        list(read_iam(fx.root, strict=True))


def test_truncated_tarball_keeps_the_lines_before_the_cut(tmp_path):
    fx = write_iam_tarballs(tmp_path / "iam")
    truncate(fx.root / STROKES_TAR, keep=0.6)
    lines, skips = lines_and_skips(fx.root)
    assert [(s.line_id, s.reason) for s in skips] == [(STROKES_TAR, "truncated or corrupt archive")]
    assert 0 < len(lines) < len(fx.texts)
    assert all(r.text == fx.texts[r.line_id] for r in lines)
    with pytest.raises(DatasetError, match="truncated"):
        list(read_iam(fx.root, strict=True))


def test_progress_reaches_the_total(iam_dir, iam_tarballs):
    for fx in (iam_dir, iam_tarballs):
        calls = []
        list(read_iam(fx.root, progress=lambda done, total: calls.append((done, total))))
        assert calls and calls[-1][0] == calls[-1][1]
        assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_not_iam_directory_names_what_was_expected(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match="lineStrokes/ and ascii/"):
        list(read_iam(tmp_path))
    with pytest.raises(DatasetError, match="not a directory"):
        list(read_iam(tmp_path / "notes.txt"))


def test_parse_stroke_xml_fast_path_matches_the_general_parser():
    raw = stroke_xml(wavy_strokes(3))
    from hwcli.data.iam import _parse_stroke_xml_tree

    assert np.array_equal(parse_stroke_xml(raw), _parse_stroke_xml_tree(raw))
    # an attribute order the regular expression does not expect still parses (general parser)
    swapped = b'<S><StrokeSet><Stroke><Point y="2" x="1"/><Point y="4" x="3"/></Stroke></StrokeSet></S>'
    assert parse_stroke_xml(swapped).tolist() == [[1, 2, 0], [3, 4, 1]]
    assert parse_stroke_xml(b'<S><Stroke><Point x="1.5" y="2"/></Stroke><!-- c --></S>').tolist() == [[1.5, 2, 1]]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'<S><Stroke><Point x="1" y="2"/></Stroke>', "malformed XML"),
        (b"<S><StrokeSet></StrokeSet></S>", "empty stroke set"),
        (b'<S><Stroke><Point x="a" y="2"/></Stroke></S>', "point without numeric coordinates"),
        (b'<S><Stroke><Point x="1e999" y="2"/></Stroke></S>', "point without numeric coordinates"),
    ],
)
def test_parse_stroke_xml_errors(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_stroke_xml(raw)


def test_parse_transcription_takes_the_csr_section_and_detokenises():
    form = "OCR:\n\nignored line\n\nCSR:\n\nMr . Gaitskell said\n\" we 'd\ngo \" .\n\n"
    assert parse_transcription(form) == ["Mr. Gaitskell said", '"we\'d', 'go".']
    assert parse_transcription("OCR:\n\nno csr") is None
