"""A batch's memory: the CSV read as a stream, a shard holding only its own jobs, every output name checked through
8-byte keys (`NameIndex`) that give no false clash when keys collide and miss no real one (issue 22, item 5)."""
from __future__ import annotations

import gc
import io
import random
import tracemalloc

import pytest

import hwcli
from hwcli.errors import InputTextError, OptionError
from hwcli.writing import jobs as J
from hwcli.writing.jobs import Job, check_page_names, check_unique, file_jobs, merge_jobs, read_file, text_lines


def _merge(tmp_path, rows: list[str], header: str = "name", template: str = "Dear {name}", **kw):
    (tmp_path / "t.txt").write_text(template)
    (tmp_path / "d.csv").write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return merge_jobs(tmp_path / "t.txt", tmp_path / "d.csv", **kw)


def _planned(tmp_path, n: int, shard) -> tuple:
    (tmp_path / "t.txt").write_text("Dear {first},\nsee you in {city}.")
    (tmp_path / "d.csv").write_text("first,city\n" + "".join(f"Ann{i % 7},York\n" for i in range(n)))
    gc.collect()
    tracemalloc.start()
    try:
        jobs = merge_jobs(tmp_path / "t.txt", tmp_path / "d.csv", shard=shard)
        return jobs, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_shard_of_a_big_csv_holds_its_own_jobs_and_a_key_per_other_row(tmp_path):
    """100,000 rows, shard 3/1000: 100 jobs alive, and the planning's traced peak grows by a few bytes per row
    (the rows were held as jobs, ~200 bytes each, and the file as text)."""
    n = 100_000
    _small, small_peak = _planned(tmp_path, n // 10, (3, 1000))
    jobs, peak = _planned(tmp_path, n, (3, 1000))
    assert (len(jobs), jobs.total, jobs.shard) == (100, n, (3, 1000))
    assert [j.name for j in jobs[:2]] == ["row-0003", "row-1003"] and jobs[1].source == "d.csv row 1004"
    assert jobs[1].text == "Dear Ann1,\nsee you in York."
    del _small
    gc.collect()
    assert sum(type(o) is Job for o in gc.get_objects()) == 100  # no job made for another shard's row
    per_row = (peak - small_peak) / (n - n // 10)
    assert per_row < 40, f"{per_row:.0f} bytes a row"  # two keys a row here (row-0001 ends in a number): 16 bytes
    assert peak < 8 * 2**20, peak


def test_every_shard_refuses_the_same_clashes_with_the_same_message(tmp_path):
    rows = ["Ann", "bo", "Cy", "ann", "Bo", "dee", "BO"]
    expected = [Job(r, "", f"d.csv row {i + 2}") for i, r in enumerate(rows)]
    with pytest.raises(OptionError) as want:
        check_unique(expected)
    for shard in (None, (1, 3), (2, 3), (3, 3)):
        with pytest.raises(OptionError) as got:
            _merge(tmp_path, rows, name_column="name", shard=shard)
        assert str(got.value) == str(want.value)
    assert "2 output name(s) used more than once: 'Ann' from d.csv row 2, d.csv row 5; 'bo' from d.csv row 3, " \
           "d.csv row 6, d.csv row 8" in str(want.value)


@pytest.mark.parametrize("key", [lambda s: 0, lambda s: len(s.casefold()) % 3], ids=["constant", "weak"])
def test_keys_that_collide_make_no_false_clash_and_miss_no_real_one(tmp_path, monkeypatch, key):
    honest = _merge(tmp_path, ["Ann", "Bo-2", "Cy", "Ann-x"], name_column="name", shard=(1, 2))
    honest.names.check_pages(True)  # no page clash: 'Bo' is no document
    monkeypatch.setattr(J, "name_key", key)
    jobs = _merge(tmp_path, ["Ann", "Bo-2", "Cy", "Ann-x"], name_column="name", shard=(1, 2))
    assert [j.name for j in jobs] == ["Ann", "Cy"]
    jobs.names.check_pages(True)  # every key suspect, every name read again, nothing clashes
    with pytest.raises(OptionError, match=r"^1 output name\(s\) used more than once: 'Ann' from d.csv row 2, "
                                          r"d.csv row 5 \(use"):
        _merge(tmp_path, ["Ann", "Bo", "Cy", "ANN"], name_column="name", shard=(2, 2))
    jobs = _merge(tmp_path, ["Bo", "x", "Bo-2", "Cy", "cy-10"], name_column="name", shard=(2, 2))
    everyone = [Job(n, "", f"d.csv row {i + 2}") for i, n in enumerate(["Bo", "x", "Bo-2", "Cy", "cy-10"])]
    with pytest.raises(OptionError) as want:
        check_page_names(everyone, True)
    with pytest.raises(OptionError) as got:
        jobs.names.check_pages(True)
    assert str(got.value) == str(want.value)
    assert "2 output name(s) would clash" in str(got.value) and "'cy-10' (d.csv row 6) beside 'cy'" in str(got.value)
    jobs.names.check_pages(False)  # one file per document (PDF): no numbered pages


def test_envelope_names_of_other_shards_take_part_through_their_keys(tmp_path, monkeypatch):
    (tmp_path / "e.txt").write_text("{name}")
    rows = ["a", "b", "a-envelope-3", "a-envelope"]
    for key in (J.name_key, lambda s: 7):
        monkeypatch.setattr(J, "name_key", key)
        with pytest.raises(OptionError, match="'a-envelope' from d.csv row 2, d.csv row 5"):
            _merge(tmp_path, rows, name_column="name", envelope_template=tmp_path / "e.txt", shard=(2, 4))
        jobs = _merge(tmp_path, rows[:3], name_column="name", envelope_template=tmp_path / "e.txt", shard=(2, 4))
        with pytest.raises(OptionError, match=r"'a-envelope-3' \(d.csv row 4\) beside 'a-envelope'"):
            jobs.names.check_pages(True)


def test_other_shards_rows_are_named_by_the_same_rule(tmp_path):
    """A row of blank cells is row-NNNN in every shard, even where the name pattern keeps a literal ('x{b}')."""
    rows = ["a,1", " , ", "c,3"]
    names = [j.name for s in (1, 2, 3) for j in _merge(tmp_path, rows, "a,b", "{a}", name_pattern="x{b}", shard=(s, 3))]
    assert names == ["x1", "row-0002", "x3"]
    assert [j.name for j in _merge(tmp_path, rows, "a,b", "{a}", name_pattern="x{b}")] == names


def test_file_jobs_of_a_shard_read_only_its_files(tmp_path, monkeypatch):
    for k in range(6):
        (tmp_path / f"f{k}.txt").write_text(f"text {k}")
    read = []
    real = J.read_file
    monkeypatch.setattr(J, "read_file", lambda p, *a: read.append(str(p)) or real(p, *a))
    jobs = file_jobs([str(tmp_path / "*.txt")], shard=(2, 3))
    assert [(j.name, j.text) for j in jobs] == [("f1", "text 1"), ("f4", "text 4")] and jobs.total == 6
    assert sorted(read) == [str(tmp_path / "f1.txt"), str(tmp_path / "f4.txt")]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "F0.txt").write_text("other")
    monkeypatch.chdir(tmp_path)
    for shard in (1, 2, 3):  # the clash is another shard's in two of three: refused in every one
        with pytest.raises(OptionError, match="'f0' from f0.txt, sub/F0.txt"):
            file_jobs(["*.txt", "sub/*.txt"], shard=(shard, 3))


def test_write_many_takes_a_shards_jobs_with_that_shard_only(tmp_path):
    jobs = _merge(tmp_path, ["a", "b", "c"], name_column="name", shard=(2, 3))
    for shard in (None, (1, 3), (2, 2)):
        with pytest.raises(OptionError, match=r"shard 2/3 of their batch alone: give write_many the same shard=\(2, 3\)"):
            hwcli.write_many(jobs, tmp_path / "out", shard=shard)


# ----------------------------------------------------------------------------- the CSV as a stream
def _chunky_text(n: int, seed: int) -> str:
    """Text with every line end (LF, CR LF, lone CR), form feeds, quotes, commas and non-ASCII, long enough to
    cross `text_lines`' chunks at many places."""
    rnd = random.Random(seed)
    pieces = ["a", "bc", ",", '"', "\n", "\r\n", "\r", "\f", "é", "\u2603", "\U0001f600", " ", "\t", "x" * 50]
    return "".join(rnd.choice(pieces) for _ in range(n))


@pytest.mark.parametrize("seed", [0, 1])
def test_the_stream_splits_lines_as_the_whole_text_does(tmp_path, seed):
    text = "\ufeff" + _chunky_text(120_000, seed) + "\r"
    p = tmp_path / "d.csv"
    p.write_bytes(text.encode("utf-8"))
    assert list(text_lines(p)) == io.StringIO(read_file(p), newline="").readlines()
    (tmp_path / "short.csv").write_text("a\rb\fc\r\n")
    assert list(text_lines(tmp_path / "short.csv")) == ["a\r", "b\n", "\n", "c\r\n"]


def test_the_stream_refuses_what_read_file_refuses_with_its_words(tmp_path, monkeypatch):
    late = tmp_path / "late.csv"
    late.write_bytes(b"name\n" + b"ann\n" * 70_000 + b"\xff\n")  # a bad byte far past the start
    bin_ = tmp_path / "bin.csv"
    bin_.write_bytes(b"name\n\x00\x01")
    for p in (late, bin_, tmp_path / "missing.csv", tmp_path):
        with pytest.raises(InputTextError) as want:
            read_file(p, "data file")
        with pytest.raises(InputTextError) as got:
            list(text_lines(p, "data file"))
        assert str(got.value) == str(want.value)
    with pytest.raises(InputTextError, match="offset 280005"):
        merge_jobs(_template(tmp_path), late)
    # a data file may be larger than a text input (it is streamed, never held), up to its own cap
    monkeypatch.setattr(J, "MAX_INPUT_BYTES", 1000)
    ok = tmp_path / "big.csv"
    ok.write_bytes(b"name\n" + b"ann\n" * 1000)
    assert len(merge_jobs(_template(tmp_path), ok, stream=True)) == 1000
    with pytest.raises(InputTextError, match="is not UTF-8 text"):  # (past MAX_INPUT_BYTES: no byte offset)
        merge_jobs(_template(tmp_path), late)
    monkeypatch.setattr(J, "MAX_DATA_BYTES", 1000)
    with pytest.raises(InputTextError, match="larger than"):
        merge_jobs(_template(tmp_path), late)


def _template(tmp_path):
    (tmp_path / "t.txt").write_text("Dear {name}")
    return tmp_path / "t.txt"
