"""hwcli.data.convert and the .npz dataset: counts, skips, metadata, allow_pickle=False."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hwcli.data.convert import MIN_POINTS, convert, detect_kind, load_dataset
from hwcli.data.dataset import TRAIN_SPLITS, Dataset
from hwcli.errors import DatasetError
from hwcli.cleaning import PreprocessOptions
from hwcli.strokes import offset_scale
from iam_fixtures import FORMS, STROKES_TAR, form_dir, truncate, write_iam_tarballs


def test_convert_directory(iam_dir):
    ds, rep = convert(iam_dir.root, workers=1)
    assert len(ds) == len(iam_dir.texts) == rep.lines_read
    assert dict(zip(ds.line_ids, ds.texts)) == iam_dir.texts
    assert ds.splits == [iam_dir.split_of(i) for i in ds.line_ids]
    assert ds.writer_ids.tolist() == [iam_dir.writer_of(i) for i in ds.line_ids]
    assert rep.skipped == {}
    assert rep.points_raw == 200 * len(ds) and rep.points == len(ds.offsets) < rep.points_raw
    assert rep.writers == 3
    assert dict(rep.splits) == {"trainset": 3, "testset_v": 2, "testset_f": 2, "testset_t": 1}
    assert rep.char_counts["'"] == 4 and sum(rep.char_counts.values()) == sum(map(len, ds.texts))
    for i in range(len(ds)):
        off = ds.line(i)
        assert off.dtype == np.float32 and off[0, :2].tolist() == [0, 0] and off[-1, 2] == 1
        assert len(off) >= MIN_POINTS


def test_scale_comes_from_the_training_splits(iam_dir):
    ds, _ = convert(iam_dir.root, workers=1)
    train = [ds.line(i) for i in range(len(ds)) if ds.splits[i] in TRAIN_SPLITS]
    assert ds.scale == pytest.approx(offset_scale(train))
    assert ds.meta["stats"]["scale_from"] == "train splits"


def test_options_reach_the_pipeline(iam_dir):
    full, _ = convert(iam_dir.root, PreprocessOptions(downsample=1), workers=1)
    half, _ = convert(iam_dir.root, PreprocessOptions(downsample=2), workers=1)
    assert len(full.offsets) == 200 * len(full) > len(half.offsets)
    assert full.meta["preprocessing"]["downsample"] == 1
    assert full.meta["preprocessing"]["steps"][0] == "remove_spikes"


def test_worker_processes_give_the_same_result(iam_dir):
    a, _ = convert(iam_dir.root, workers=1)
    b, _ = convert(iam_dir.root, workers=2)
    assert np.array_equal(a.offsets, b.offsets) and a.line_ids == b.line_ids


def test_directory_and_tarballs_convert_the_same(iam_dir, iam_tarballs):
    a, _ = convert(iam_dir.root, workers=1)
    b, _ = convert(iam_tarballs.root, workers=1)
    assert np.array_equal(a.offsets, b.offsets) and a.texts == b.texts and a.meta["stats"] == b.meta["stats"]


def test_bad_lines_are_counted_by_reason_and_the_rest_converts(iam_dir_bad):
    ds, rep = convert(iam_dir_bad.root, workers=1)
    assert set(ds.line_ids) == set(iam_dir_bad.texts)
    assert dict(rep.skipped) == {"malformed XML": 1, "no transcription line": 1, "empty stroke set": 1}
    assert rep.to_dict()["lines_skipped"] == dict(rep.skipped)
    with pytest.raises(DatasetError, match="a01-001w-02.xml: malformed XML"):
        convert(iam_dir_bad.root, strict=True, workers=1)


def test_truncated_tarball_converts_what_it_can(tmp_path):
    fx = write_iam_tarballs(tmp_path / "iam")
    truncate(fx.root / STROKES_TAR, keep=0.6)
    with pytest.raises(DatasetError, match=r"truncated or corrupt .*read [\d.]+ of [\d.]+ MB .*--allow-partial"):
        convert(fx.root, workers=1)
    ds, rep = convert(fx.root, workers=1, allow_partial=True)
    assert rep.skipped == {"truncated or corrupt archive": 1}
    assert len(rep.truncated) == 1 and STROKES_TAR in rep.truncated[0] and ".xml file(s)" in rep.truncated[0]
    assert 0 < len(ds) < len(fx.texts)
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        convert(fx.root, strict=True, workers=1)


def test_oversized_tar_member_is_skipped_unread(tmp_path, monkeypatch):
    import io
    import tarfile

    import hwcli.data.iam as iam

    fx = write_iam_tarballs(tmp_path / "iam")
    tar = fx.root / STROKES_TAR
    with tarfile.open(tar, "r:gz") as tf:
        members = [(m, tf.extractfile(m).read() if m.isfile() else None) for m in tf]
    big = tarfile.TarInfo("lineStrokes/z01/z01-000/z01-000z-01.xml")
    big.size = iam.MAX_MEMBER_BYTES + 1
    with tarfile.open(tar, "w:gz") as tf:
        for m, data in members:
            tf.addfile(m, io.BytesIO(data) if data is not None else None)
        tf.addfile(big, io.BytesIO(b" " * big.size))
    ds, rep = convert(fx.root, workers=1)
    assert rep.skipped == {"archive member larger than 4 MiB": 1}
    assert len(ds) == len(fx.texts)


def test_crossed_out_words_and_tiny_lines_are_skipped(iam_dir):
    form = "a01-001w"
    path = iam_dir.root / "ascii" / form[:3] / form_dir(form) / f"{form}.txt"
    path.write_text(path.read_text().replace("short .", "short # ."))
    tiny = iam_dir.root / "lineStrokes/a01/a01-000/a01-000u-03.xml"
    tiny.write_text('<S><StrokeSet><Stroke><Point x="1" y="1"/><Point x="2" y="2"/></Stroke></StrokeSet></S>')
    ds, rep = convert(iam_dir.root, workers=1)
    assert dict(rep.skipped) == {"crossed-out word (#)": 1, "too few points after cleaning": 1}
    assert len(ds) == len(iam_dir.texts) - 2 and rep.lines_read == len(iam_dir.texts)
    with pytest.raises(DatasetError, match="crossed-out"):
        convert(iam_dir.root, strict=True, workers=1)


def test_not_a_source_names_what_was_expected(tmp_path):
    (tmp_path / "readme.txt").write_text("not handwriting")
    with pytest.raises(DatasetError, match=r"neither IAM-OnDB .*lineStrokes/ and ascii/.*InkML.*\.npz"):
        convert(tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        detect_kind(tmp_path / "missing")


def test_detect_kind(iam_dir, iam_tarballs, tiny_npz, tmp_path):
    assert detect_kind(iam_dir.root) == "iam-ondb" == detect_kind(iam_tarballs.root)
    assert detect_kind(tiny_npz) == "npz"
    (tmp_path / "x.inkml").write_text("<ink/>")
    assert detect_kind(tmp_path / "x.inkml") == "inkml" == detect_kind(tmp_path)


def test_npz_loads_without_pickle_and_keeps_the_metadata(tiny_npz):
    with np.load(tiny_npz, allow_pickle=False) as z:
        assert set(z.files) == {"offsets", "starts", "texts", "line_ids", "splits", "writer_ids", "meta"}
        assert z["offsets"].dtype == np.float32 and z["offsets"].shape[1] == 3
        assert z["starts"][-1] == len(z["offsets"])
        meta = json.loads(str(z["meta"]))
    assert meta["format_version"] == 1
    assert meta["stats"]["scale"] > 0
    assert meta["preprocessing"]["downsample"] == PreprocessOptions().downsample
    assert meta["source"]["kind"] == "iam-ondb" and meta["source"]["lines_read"] == 8
    assert meta["source"]["splits"] == {"trainset": 3, "testset_v": 2, "testset_f": 2, "testset_t": 1}
    ds = Dataset.load(tiny_npz)
    assert len(ds) == 8 and set(ds.splits) == {f[1] for f in FORMS.values()}
    assert sorted(set(ds.writer_ids.tolist())) == [-1, 10001, 10002, 10003]


def test_save_load_round_trip_and_load_dataset(iam_dir, tmp_path):
    ds, _ = convert(iam_dir.root, workers=1)
    ds.save(tmp_path / "a.npz")
    back = load_dataset(tmp_path / "a.npz")
    assert np.array_equal(back.offsets, ds.offsets) and back.texts == ds.texts and back.splits == ds.splits
    assert back.scale == ds.scale
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "iam"]  # no temporary file left
    on_the_fly = load_dataset(iam_dir.root)
    assert np.array_equal(on_the_fly.offsets, ds.offsets)


def test_load_rejects_a_file_that_is_not_a_dataset(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="not a hwcli dataset"):
        Dataset.load(bad)


@pytest.mark.slow
def test_real_iam_ondb(shared_iam, tmp_path):
    """The whole real database (tarballs): about 11,5xx lines, the four task-1 splits, writer ids."""
    ds, rep = convert(shared_iam)
    print(rep.to_dict() | {"char_counts": len(rep.char_counts)})
    assert 11_500 <= rep.lines_read <= 11_600
    assert 11_400 <= len(ds) <= rep.lines_read
    assert set(rep.skipped) <= {"crossed-out word (#)", "no transcription line", "too few points after cleaning"}
    assert {"trainset", "testset_v", "testset_t", "testset_f"} <= set(rep.splits)
    assert all(rep.splits[s] > 1000 for s in ("trainset", "testset_v", "testset_t", "testset_f"))
    assert rep.writers > 100 and (ds.writer_ids >= 0).mean() > 0.5
    # detokenised: spaces before punctuation are (nearly) gone
    assert sum(" ," in t or t.endswith(" .") for t in ds.texts) < 0.01 * len(ds)
    assert 1.0 < ds.scale < 100.0
    ds.save(tmp_path / "iam.npz")
    back = Dataset.load(tmp_path / "iam.npz")
    assert len(back) == len(ds) and np.array_equal(back.starts, ds.starts)
