"""Many documents in one process (`hwcli.write_many`, `hwcli write --out-dir/--template/--shard`) on a tiny
bundle: outputs per document, failures reported while the others are written, mail merge, resuming, and
sharding that gives the same bytes as one run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from pypdf import PdfReader
from typer.testing import CliRunner

import hwcli
from hwcli.cli.app import app
from hwcli.model.bundle import load_model
from hwcli.synthesis import SamplingOptions
from tiny_bundle import make_bundle

FAST = {"max_steps_per_char": 5, "retries": 0, "check": False}
runner = CliRunner()
LETTERS = {"ann": "Dear Ann,\nthank you for the tea.", "bo": "Hi Bo", "cy": "Cy, see you soon.\nBest, me",
           "di": "Di: the cat sat on the mat", "ed": "ok", "flo": "hello there Flo"}


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    torch.set_num_threads(1)
    return str(make_bundle(tmp_path_factory.mktemp("m") / "tiny", defaults=FAST)) + ".json"


def write(model, *args):
    return runner.invoke(app, ["write", "--model", model, *args])


def letters(tmp_path: Path, texts=LETTERS) -> Path:
    src = tmp_path / "letters"
    src.mkdir()
    for name, text in texts.items():
        (src / f"{name}.txt").write_text(text)
    return src


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_write_many_writes_each_document_as_if_alone(model, tmp_path):
    bundle = load_model(model)
    opts = SamplingOptions(batch_size=4, seed=5)
    (tmp_path / "all").mkdir()
    (tmp_path / "one").mkdir()
    seen = []
    rep = hwcli.write_many(LETTERS, tmp_path / "all", bundle, opts, group_lines=5,
                           progress=lambda done, total, doc: seen.append((done, total, doc.name)))
    assert [d.status for d in rep.docs] == ["written"] * len(LETTERS)
    assert seen == [(i + 1, len(LETTERS), n) for i, n in enumerate(LETTERS)]
    for name in LETTERS:
        assert len(PdfReader(tmp_path / "all" / f"{name}.pdf").pages) == 1
    hwcli.write_many({"cy": LETTERS["cy"]}, tmp_path / "one", bundle, opts)
    assert (tmp_path / "one" / "cy.pdf").read_bytes() == (tmp_path / "all" / "cy.pdf").read_bytes()
    (tmp_path / "seed6").mkdir()
    hwcli.write_many({"cy": LETTERS["cy"]}, tmp_path / "seed6", bundle, SamplingOptions(batch_size=4, seed=6))
    assert (tmp_path / "seed6" / "cy.pdf").read_bytes() != (tmp_path / "all" / "cy.pdf").read_bytes()


def test_svg_output_one_file_per_page_of_each_document(model, tmp_path):
    rep = hwcli.write_many({"a": "hello", "b": "one\ntwo\nthree"}, tmp_path, model, fmt="svg",
                           page=hwcli.PageOptions(line_height=90))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.svg", "b-1.svg", "b-2.svg"]
    assert rep.docs[0].outputs == [str(tmp_path / "a.svg")]
    assert rep.docs[1].outputs == [str(tmp_path / "b-1.svg"), str(tmp_path / "b-2.svg")]


def test_cli_many_inputs_and_globs_one_failure_reported_others_written(model, tmp_path):
    src = letters(tmp_path, {"ann": "Dear Ann", "bad": "snow \u2603 man", "bo": "Hi Bo"})
    out = tmp_path / "out"
    out.mkdir()
    res = write(model, "--input", str(src / "ann.txt"), str(src / "missing.txt"), str(src / "b*.txt"),
                "--out-dir", str(out))
    assert res.exit_code == 1, res.output
    assert sorted(os.listdir(out)) == ["ann.pdf", "bo.pdf"]
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("hwcli: error:")]
    assert len(errors) == 2 and "missing.txt" in errors[0] and "does not exist" in errors[0]
    assert "bad.txt" in errors[1] and "unsupported" in errors[1]
    assert "2 written, 0 skipped (already there), 2 failed" in res.stderr
    assert "Traceback" not in res.output and res.stdout == ""


def test_cli_skip_existing_resumes_and_leaves_finished_files(model, tmp_path):
    src = letters(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "bo.pdf").write_bytes(b"%PDF-1.3 finished earlier\n%%EOF\n")  # a complete PDF (header and trailer)
    res = write(model, "--input", str(src / "*.txt"), "--out-dir", str(out), "--skip-existing", "--quiet")
    assert res.exit_code == 0, res.output
    assert (out / "bo.pdf").read_bytes() == b"%PDF-1.3 finished earlier\n%%EOF\n"
    assert sorted(os.listdir(out)) == sorted(f"{n}.pdf" for n in LETTERS)


def test_cli_shards_write_every_document_exactly_once(model, tmp_path):
    src = letters(tmp_path)
    outs = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}"
        out.mkdir()
        res = write(model, "--input", str(src / "*.txt"), "--out-dir", str(out), "--shard", f"{k}/3")
        assert res.exit_code == 0, res.output
        assert f"(shard {k}/3: 2 of 6 documents)" in res.stderr
        outs += os.listdir(out)
    assert sorted(outs) == sorted(f"{n}.pdf" for n in LETTERS)


def test_cli_mail_merge_problems_listed_with_rows_before_sampling(model, tmp_path):
    (tmp_path / "t.txt").write_text("Dear {first},\nsee you in {city}.")
    (tmp_path / "p.csv").write_text("first,city\nAnn,Paris\n,\nBo,\u2603ville\nCy,\n")
    out = tmp_path / "out"
    out.mkdir()
    res = write(model, "--template", str(tmp_path / "t.txt"), "--data", str(tmp_path / "p.csv"),
                "--out-dir", str(out), "--name-column", "first")
    assert res.exit_code == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("hwcli: error:")]
    assert ["row 3" in errors[0] and "empty row" in errors[0], "row 4" in errors[1] and "unsupported" in errors[1],
            "row 5" in errors[2] and "empty field(s) city" in errors[2]] == [True, True, True]
    assert os.listdir(out) == ["Ann.pdf"]


def test_cli_mail_merge_missing_field_fails_before_the_model_loads(tmp_path):
    (tmp_path / "t.txt").write_text("Dear {first} {nick}")
    (tmp_path / "p.csv").write_text("first\nAnn\n")
    res = runner.invoke(app, ["write", "--model", str(tmp_path / "nope.json"), "--template", str(tmp_path / "t.txt"),
                              "--data", str(tmp_path / "p.csv"), "--out-dir", str(tmp_path)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "nick" in res.stderr, res.output


def test_cli_mail_merge_one_file(model, tmp_path):
    (tmp_path / "t.txt").write_text("Dear {name}, thanks.")
    (tmp_path / "p.csv").write_bytes("\ufeffname\nAnn\n\"Lee, Bo\"\nCy\n".encode())
    out = tmp_path / "all.pdf"
    res = write(model, "--template", str(tmp_path / "t.txt"), "--data", str(tmp_path / "p.csv"), "--one-file",
                "-o", str(out), "--quiet")
    assert res.exit_code == 0, res.output
    assert len(PdfReader(out).pages) == 3


@pytest.mark.parametrize("args, fragment", [
    (["--out-dir", "OUT", "-o", "x.pdf"], "-o names one file"),
    (["--shard", "0/2", "--out-dir", "OUT"], "--shard must be K/N"),
    (["--template", "T"], "needs both --template"),
    (["--one-file", "--out-dir", "OUT"], "leave out --out-dir"),
    (["--shard", "1/2"], "need --out-dir"),
    (["--out-dir", "OUT/a.txt"], "cannot make the output folder"),
])
def test_cli_bad_batch_options_are_one_line_errors(model, tmp_path, args, fragment):
    (tmp_path / "a.txt").write_text("hi")
    paths = {"OUT": str(tmp_path), "T": str(tmp_path / "a.txt"), "OUT/a.txt": str(tmp_path / "a.txt")}
    args = [paths.get(a, a) for a in args]
    res = write(model, "--input", str(tmp_path / "a.txt"), *args)
    assert res.exit_code != 0 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hwcli: error:") and fragment in lines[0], res.stderr


def test_four_shards_in_parallel_processes_give_the_bytes_of_one_run(model, tmp_path):
    """`ls | xargs -P 2` over 4 shards, each its own process, against one unsharded run: same files."""
    src = letters(tmp_path)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    whole.mkdir()
    parts.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = ["write", "--model", model, "--input", str(src / "*.txt"), "--seed", "7", "--quiet", "--threads", "1"]
    assert runner.invoke(app, args + ["--out-dir", str(whole)]).exit_code == 0  # in this process: one start less
    base = [sys.executable, "-m", "hwcli", *args]
    cmd = " ".join(f"'{a}'" for a in base) + f" --out-dir '{parts}' --shard {{}}/4"
    subprocess.run(["bash", "-c", f"printf '%s\\n' 1 2 3 4 | xargs -P 2 -I{{}} {cmd}"], check=True, env=env,
                   timeout=240)
    assert files(parts) == files(whole)
    assert len(files(whole)) == len(LETTERS)


def test_problems_are_reported_before_any_document_is_written(model, tmp_path):
    order = []
    rep = hwcli.write_many({"a": "fine", "b": "", "c": "also fine", "d": "bad \u2603"}, tmp_path, model,
                           progress=lambda done, total, doc: order.append((doc.name, doc.status)))
    assert order == [("b", "failed"), ("d", "failed"), ("a", "written"), ("c", "written")]
    assert [d.name for d in rep.failed] == ["b", "d"]


def test_one_file_refuses_a_bad_row_before_sampling(model, tmp_path):
    (tmp_path / "t.txt").write_text("Dear {name}")
    (tmp_path / "p.csv").write_text("name\nAnn\n\n\nBo\n")
    res = write(model, "--template", str(tmp_path / "t.txt"), "--data", str(tmp_path / "p.csv"), "--one-file",
                "-o", str(tmp_path / "all.pdf"))
    assert res.exit_code == 1 and "row 3" in res.stderr and "empty row" in res.stderr
    assert not (tmp_path / "all.pdf").exists()


def _merge_files(tmp_path: Path, rows: int, bad: tuple[int, ...] = ()) -> tuple[Path, Path]:
    (tmp_path / "t.txt").write_text("Dear {first},\nsee you soon.")
    lines = ["first"] + ["" if i in bad else f"P{i}" for i in range(rows)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n,\n")  # (a last row of two cells: a problem too)
    return tmp_path / "t.txt", tmp_path / "d.csv"


def test_a_streamed_run_keeping_no_reports_writes_the_same_files(model, tmp_path, monkeypatch):
    """merge_jobs(stream=True) holds no job and write_many(keep_reports=False) no report of a written document:
    the files are those of the listed run, byte for byte; counts and the failed rows are still reported."""
    from hwcli.writing.jobs import JobStream, merge_jobs

    t, d = _merge_files(tmp_path, 9, bad=(3,))
    monkeypatch.setattr("hwcli.writing.jobs.STREAM_HOLD", 4)  # (10 jobs: more than it holds)
    bundle = load_model(model)
    opts = SamplingOptions(batch_size=4, seed=2)
    listed = merge_jobs(t, d)
    streamed = merge_jobs(t, d, stream=True)
    assert isinstance(streamed, JobStream) and len(streamed) == len(listed) == 10
    assert list(streamed) == list(listed) and list(streamed) == list(listed)  # made again, the same, each time
    seen = []
    a = hwcli.write_many(listed, tmp_path / "a", bundle, opts, fmt="svg", group_lines=3)
    b = hwcli.write_many(streamed, tmp_path / "b", bundle, opts, fmt="svg", group_lines=3, keep_reports=False,
                         progress=lambda done, total, doc: seen.append((done, total, doc.name, doc.status)))
    assert files(tmp_path / "a") == files(tmp_path / "b") and len(files(tmp_path / "b")) >= 8
    assert b.docs == [] and b.counts == {"failed": 2, "written": 8} == a.counts
    assert [r.source for r in b.failed] == [r.source for r in a.failed] == ["d.csv row 5", "d.csv row 11"]
    assert [s[:2] for s in seen] == [(i + 1, 10) for i in range(10)]
    assert [s[3] for s in seen[:2]] == ["failed", "failed"]  # problems first, before any sampling
    with pytest.raises(ValueError, match="kept no reports"):
        b.by_status("written")


def test_a_data_file_changed_during_a_streamed_run_stops_it(model, tmp_path, monkeypatch):
    """The second pass reads the CSV again: if it changed since the checks, the run stops with one clear error
    rather than write documents that were never checked."""
    from hwcli.errors import InputTextError
    from hwcli.writing.jobs import merge_jobs

    t, d = _merge_files(tmp_path, 4)
    monkeypatch.setattr("hwcli.writing.jobs.STREAM_HOLD", 2)
    jobs = merge_jobs(t, d, stream=True)
    assert not isinstance(merge_jobs(t, d, stream=True, shard=(1, 3)), hwcli.jobs.JobStream)  # 2 jobs: held

    def edit(done, total, doc):
        d.write_text("first\nZed\nYves\nXia\nWil\nVic\n")

    with pytest.raises(InputTextError, match="changed while the batch ran"):
        hwcli.write_many(jobs, tmp_path / "out", load_model(model), SamplingOptions(batch_size=4), fmt="svg",
                         progress=edit)  # the last row's problem is reported in the checks: the file changes then


def test_a_streamed_file_batch_reads_each_file_when_it_is_needed(model, tmp_path):
    from hwcli.writing.jobs import file_jobs

    src = letters(tmp_path)
    jobs = file_jobs([str(src / "*.txt")], stream=True)
    assert len(jobs) == len(LETTERS) and [j.name for j in jobs] == sorted(LETTERS)
    rep = hwcli.write_many(jobs, tmp_path / "out", load_model(model), SamplingOptions(batch_size=4), fmt="svg",
                           keep_reports=False)
    assert rep.counts == {"written": len(LETTERS)}
    (src / "bo.txt").write_text("Hi Bo!!")
    with pytest.raises(hwcli.errors.InputTextError, match="changed while the batch ran"):
        list(jobs)


def test_a_whole_run_stream_given_a_shard_writes_only_that_shard(model, tmp_path, monkeypatch):
    from hwcli.writing.jobs import merge_jobs

    t, d = _merge_files(tmp_path, 6)
    monkeypatch.setattr("hwcli.writing.jobs.STREAM_HOLD", 2)
    rep = hwcli.write_many(merge_jobs(t, d, stream=True), tmp_path / "out", load_model(model),
                           SamplingOptions(batch_size=4), fmt="svg", shard=(2, 3))
    assert [r.name for r in rep.docs] == ["row-0002", "row-0005"]
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.svg")) == ["row-0002", "row-0005"]
