"""Issue 22, the second reliability pass: a test per class (batch names, styles race, --skip-existing, special
targets with several pages, bounded batches, short messages, capture requests, full disks in a batch, damaged
styles, the Python API's arguments, options silently ignored, loose ends)."""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import hwcli
from cli_checks import assert_one_line_error
from hwcli.cli.app import app
from hwcli.errors import HwcliError, OptionError
from tiny_bundle import make_bundle

FAST = {"max_steps_per_char": 5, "retries": 0, "check": False}
runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    torch.set_num_threads(1)
    return str(make_bundle(tmp_path_factory.mktemp("m") / "tiny", defaults=FAST)) + ".json"


def write(model, *args, input=None):
    return runner.invoke(app, ["write", "--model", model, "--quiet", *map(str, args)], input=input)


def count_sampling(monkeypatch) -> list:
    """Record every call of the batch's sampling pass (the lines it was asked for)."""
    import hwcli.batch

    calls: list = []
    real = hwcli.batch.synthesize

    def spy(bundle, texts, *a, **k):
        calls.append(list(texts))
        return real(bundle, texts, *a, **k)

    monkeypatch.setattr(hwcli.batch, "synthesize", spy)
    return calls


# ----------------------------------------------------------------------------- 13: options silently ignored
def test_train_init_refuses_architecture_options_that_differ(tmp_path, monkeypatch):
    import hwcli.data.convert as conv
    from tiny_bundle import make_npz

    npz = make_npz(tmp_path, n_lines=6)
    monkeypatch.setattr(conv, "load_dataset", lambda *a, **k: (_ for _ in ()).throw(AssertionError("data read")))
    start = make_bundle(tmp_path / "b", hidden=8)
    base = ["train", "--data", str(npz), "--out", str(tmp_path / "run"), "-q", "--init", str(start)]
    assert_one_line_error(runner.invoke(app, [*base, "--hidden", "128"]), "--hidden 128", "bundle: 8", code=2)
    assert_one_line_error(runner.invoke(app, [*base, "--layers", "3"]), "--layers 3", code=2)


def test_style_names_with_a_trailing_newline_are_refused(tmp_path, monkeypatch):
    from hwcli import styles

    monkeypatch.setenv("HWCLI_HOME", str(tmp_path / "home"))
    for bad in ("me\n", "me\r", "a\nb"):
        with pytest.raises(OptionError):
            styles.check_name(bad)
        assert styles.find_style(bad) is None
    assert styles.check_name("me") == "me"


# ----------------------------------------------------------------------------- 6: linear checks, short messages
def test_a_huge_csv_header_is_checked_fast_and_reported_briefly(tmp_path):
    import time

    from hwcli.jobs import merge_jobs

    n = 100_000
    (tmp_path / "t.txt").write_text("Dear {name} " + " ".join(f"{{f{i}}}" for i in range(0, 2 * n, 2)))
    (tmp_path / "dup.csv").write_text(",".join(["name"] + ["x"] * n) + "\n")
    (tmp_path / "wide.csv").write_text(",".join(["name"] + [f"g{i}" for i in range(n)]) + "\nAnn" + "," * n + "\n")
    for csv_name in ("dup.csv", "wide.csv"):
        t0 = time.perf_counter()
        with pytest.raises(HwcliError) as exc:
            merge_jobs(tmp_path / "t.txt", tmp_path / csv_name)
        assert time.perf_counter() - t0 < 20
        assert len(str(exc.value)) < 1000, str(exc.value)[:300]
        assert "more" in str(exc.value) or "appears twice" in str(exc.value)


def test_many_clashing_names_make_a_short_message(tmp_path):
    from hwcli.jobs import merge_jobs

    (tmp_path / "t.txt").write_text("Dear {name}")
    (tmp_path / "d.csv").write_text("name\n" + "Ann\n" * 20_000)
    with pytest.raises(OptionError) as exc:
        merge_jobs(tmp_path / "t.txt", tmp_path / "d.csv", name_column="name")
    assert len(str(exc.value)) < 600 and "more" in str(exc.value)
