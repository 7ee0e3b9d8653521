"""`hwcli convert` through typer's CliRunner: output files, summary on stderr, errors as one line."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hwcli.cli.app import app
from hwcli.data.dataset import Dataset
from cli_checks import assert_one_line_error

SVG = "{http://www.w3.org/2000/svg}"


def run(*args: str):
    return CliRunner().invoke(app, ["convert", *map(str, args)])



def files_in(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_success_writes_the_npz_and_a_summary_on_stderr(iam_dir, tmp_path):
    out = tmp_path / "tiny.npz"
    r = run(iam_dir.root, "-o", out)
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    for expected in ("lines kept", "8 of 8 read", "lines skipped", "points", "1,600 raw", "characters",
                     "writers", "trainset 3", "testset_v 2", "testset_f 2", "testset_t 1", str(out)):
        assert expected in r.stderr, expected
    ds = Dataset.load(out)
    assert len(ds) == 8 and ds.meta["source"]["kind"] == "iam-ondb"
    assert files_in(tmp_path) == ["iam", "tiny.npz"]


def test_skipped_lines_are_counted_by_reason(iam_dir_bad, tmp_path):
    r = run(iam_dir_bad.root, "-o", tmp_path / "x.npz")
    assert r.exit_code == 0, r.output
    for reason in ("malformed XML", "no transcription line", "empty stroke set"):
        assert reason in r.stderr
    assert "6 of 6 read" in r.stderr


def test_preprocessing_options_reach_the_dataset(iam_tarballs, tmp_path):
    r = run(iam_tarballs.root, "-o", tmp_path / "x.npz", "--downsample", "1", "--no-straighten", "--smooth", "0", "-q")
    assert r.exit_code == 0 and r.stderr == ""
    ds = Dataset.load(tmp_path / "x.npz")
    p = ds.meta["preprocessing"]
    assert (p["downsample"], p["straighten"], p["smooth"]) == (1, False, 0.0)
    assert len(ds.offsets) == 8 * 200


def test_not_iam_directory_fails_with_one_line_and_no_output(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "notes.txt").write_text("hello")
    r = run(tmp_path / "src", "-o", tmp_path / "out.npz")
    assert_one_line_error(r, "neither IAM-OnDB", "lineStrokes/ and ascii/", "InkML")
    assert files_in(tmp_path) == ["src"]


def test_unwritable_output_fails_before_converting(iam_dir, tmp_path, monkeypatch):
    import hwcli.data.convert as conv

    def must_not_run(*a, **k):
        raise AssertionError("conversion started before the output was checked")

    monkeypatch.setattr(conv, "convert", must_not_run)
    assert_one_line_error(run(iam_dir.root, "-o", tmp_path / "missing" / "x.npz"), "does not exist")
    (tmp_path / "adir").mkdir()
    assert_one_line_error(run(iam_dir.root, "-o", tmp_path / "adir", "--format", "npz"), "is a directory")
    assert_one_line_error(run(iam_dir.root, "-o", tmp_path / "x.npz", "--preview", "3", "--preview-out",
                              tmp_path / "nope" / "p.svg"), "does not exist")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_directory(iam_dir, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert_one_line_error(run(iam_dir.root, "-o", ro / "x.npz"), "not writable")
    finally:
        ro.chmod(0o755)


def test_preview_svg_has_one_group_per_line(iam_dir, tmp_path):
    r = run(iam_dir.root, "-o", tmp_path / "look.svg", "--preview", "3")
    assert r.exit_code == 0, r.output
    root = ET.parse(tmp_path / "look.svg").getroot()
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "line"]
    assert len(groups) == 3
    texts = ["".join(g.find(f"{SVG}text").itertext()) for g in groups]
    assert texts[0] == "a01-000u-01: Mr. Gaitskell said"
    assert all(g.find(f"{SVG}path").get("d").startswith("M") for g in groups)
    assert files_in(tmp_path) == ["iam", "look.svg"]  # preview only: no dataset written


def test_preview_beside_the_dataset(iam_dir, tmp_path):
    r = run(iam_dir.root, "-o", tmp_path / "d.npz", "--preview", "2", "--preview-out", tmp_path / "p.svg", "-q")
    assert r.exit_code == 0, r.output
    root = ET.parse(tmp_path / "p.svg").getroot()
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "line"]) == 2
    assert (tmp_path / "d.npz").is_file()


def test_strict_fails_on_a_malformed_file_and_leaves_nothing(iam_dir_bad, tmp_path):
    out = tmp_path / "x.npz"
    out.write_bytes(b"previous version")
    r = run(iam_dir_bad.root, "-o", out, "--strict")
    assert_one_line_error(r, "a01-001w-02.xml", "malformed XML")
    assert out.read_bytes() == b"previous version"  # the user's file is untouched
    assert files_in(tmp_path) == ["iam-bad", "x.npz"]  # and no temporary file is left


def test_export_npz_to_inkml_and_back(tiny_npz, tmp_path):
    r = run(tiny_npz, "-o", tmp_path / "lines", "-q")
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "lines").glob("*.inkml"))) == 8
    r = run(tmp_path / "lines", "-o", tmp_path / "again.npz")
    assert r.exit_code == 0, r.output
    assert "already cleaned" in r.stderr
    a, b = Dataset.load(tiny_npz), Dataset.load(tmp_path / "again.npz")
    assert np.array_equal(a.offsets, b.offsets) and a.texts == b.texts
    r = run(tiny_npz, "-o", tmp_path / "one.inkml", "-q")
    assert r.exit_code == 0 and (tmp_path / "one.inkml").is_file()


def test_format_errors(tiny_npz, iam_dir, tmp_path):
    assert_one_line_error(run(tiny_npz, "-o", tmp_path / "x.npz"), "already a converted dataset", code=2)
    assert_one_line_error(run(iam_dir.root, "-o", tmp_path / "x.txt"), "cannot tell the output format", code=2)
    assert_one_line_error(run(iam_dir.root, "-o", "-"), "convert writes files", code=2)
    r = run(iam_dir.root, "-o", tmp_path / "x.npz", "--smooth", "0.7")
    assert r.exit_code == 2 and "Traceback" not in r.output  # typer's usage error


def test_installed_entry_point(iam_dir, tmp_path):
    exe = Path(sys.executable).with_name("hwcli")
    if not exe.is_file():
        pytest.skip("hwcli entry point not installed next to this Python")
    p = subprocess.run([str(exe), "convert", str(iam_dir.root), "-o", str(tmp_path / "x.npz"), "-q"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and p.stderr == ""
    assert Dataset.load(tmp_path / "x.npz").line_ids[0] == "a01-000u-01"


def test_truncated_archive_fails_unless_allow_partial(tmp_path):
    from iam_fixtures import STROKES_TAR, truncate, write_iam_tarballs

    fx = write_iam_tarballs(tmp_path / "iam")
    truncate(fx.root / STROKES_TAR, keep=0.6)
    out = tmp_path / "part.npz"
    line = assert_one_line_error(run(str(fx.root), "-o", str(out), "-q"), STROKES_TAR, "MB", "--allow-partial")
    assert "truncated or corrupt" in line and not out.exists()
    r = run(str(fx.root), "-o", str(out), "--allow-partial")
    assert r.exit_code == 0, r.output
    assert "partial archive" in r.stderr and 0 < len(Dataset.load(out)) < len(fx.texts)


def test_allow_partial_is_documented():
    r = CliRunner().invoke(app, ["convert", "--help"])
    assert "--allow-partial" in r.stdout
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "--allow-partial" in readme
