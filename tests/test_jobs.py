"""Jobs of a many-document run: input files and globs, mail merge from CSV, names, shards, seeds."""
from __future__ import annotations

import pytest

from hwcli.errors import InputTextError, OptionError
from hwcli.writing.jobs import (document_seed, expand_inputs, file_jobs, fill, merge_jobs, parse_shard, read_csv,
                        sanitize_name, shard_of, template_fields, text_jobs)


def test_globs_expand_sorted_in_argument_order_without_duplicates(tmp_path):
    for n in ["b.txt", "a.txt", "c.md"]:
        (tmp_path / n).write_text(n)
    got = expand_inputs([str(tmp_path / "c.md"), str(tmp_path / "*.txt"), str(tmp_path / "a.txt")])
    assert [p.name for p in got] == ["c.md", "a.txt", "b.txt"]
    with pytest.raises(OptionError, match=r"no file matches .*\*\.pdf"):
        expand_inputs([str(tmp_path / "*.pdf")])


def test_file_jobs_keep_unreadable_files_as_problems_and_refuse_clashing_names(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01binary")
    jobs = file_jobs([str(tmp_path / "a.txt"), str(tmp_path / "missing.txt"), str(tmp_path / "bin.txt")])
    assert [(j.name, j.text, bool(j.problem)) for j in jobs] == [("a", "hello", False), ("missing", "", True),
                                                                 ("bin", "", True)]
    assert "does not exist" in jobs[1].problem and "binary" in jobs[2].problem
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "A.txt").write_text("other")
    with pytest.raises(OptionError, match="used more than once"):
        file_jobs([str(tmp_path / "a.txt"), str(tmp_path / "sub" / "A.txt")])


def test_names_are_sanitised():
    assert sanitize_name("Dr. Anna O'Neil / Paris") == "Dr._Anna_O_Neil_Paris"
    assert sanitize_name("../../etc/passwd") == "etc_passwd"
    assert sanitize_name("-rf") == "rf"
    assert sanitize_name("Zoë") == "Zoë"
    assert sanitize_name("///") == ""
    assert text_jobs({"///": "x"})[0].problem


def test_template_fields_and_fill():
    t = "Dear {first} {last},\nthanks {first}! {{not a field}}"
    assert template_fields(t) == ["first", "last"]
    assert fill(t, {"first": "Ann", "last": "Lee"}) == "Dear Ann Lee,\nthanks Ann! {not a field}"
    for bad in ["{a.b}", "{a[0]}", "{a!r}", "{a:>4}", "{}", "unclosed {a"]:
        with pytest.raises(OptionError):
            template_fields(bad)


def test_csv_with_bom_quotes_commas_and_line_breaks(tmp_path):
    p = tmp_path / "p.csv"
    p.write_bytes('\ufefffirst,last,note\nAnn,Lee,"one, two"\n"Bo","O""Neil","a\nb"\n\n'.encode("utf-8"))
    header, rows = read_csv(p)
    assert header == ["first", "last", "note"]
    assert rows == [(2, ["Ann", "Lee", "one, two"]), (3, ["Bo", 'O"Neil', "a\nb"])]
    (tmp_path / "dup.csv").write_text("a,a,\n1,2,3\n")
    with pytest.raises(InputTextError, match="appears twice.*|no name"):
        read_csv(tmp_path / "dup.csv")


def test_merge_reports_every_row_problem_with_its_row_and_names_from_a_pattern(tmp_path):
    (tmp_path / "t.txt").write_text("Dear {first},\nsee you in {city}.")
    (tmp_path / "p.csv").write_text("first,last,city\nAnn,Lee,Paris\n,,\nBo,Ng\nCy,Ko,\nDi,Wu,Rome\n")
    jobs = merge_jobs(tmp_path / "t.txt", tmp_path / "p.csv", name_pattern="{last}-{first}")
    assert [j.name for j in jobs][0] == "Lee-Ann" and jobs[0].text == "Dear Ann,\nsee you in Paris."
    assert [(j.source, j.problem) for j in jobs if j.problem] == [
        ("p.csv row 3", "empty row"), ("p.csv row 4", "2 cells, the header has 3"),
        ("p.csv row 5", "empty field(s) city")]
    assert jobs[-1].name == "Wu-Di" and not jobs[-1].problem
    default = merge_jobs(tmp_path / "t.txt", tmp_path / "p.csv")
    assert [j.name for j in default] == [f"row-{k:04d}" for k in range(1, 6)]


def test_merge_refuses_missing_fields_and_clashing_names_at_once(tmp_path):
    (tmp_path / "t.txt").write_text("Dear {first} {middle}, {title}")
    (tmp_path / "p.csv").write_text("first,last\nAnn,Lee\nAnn,Ko\n")
    with pytest.raises(OptionError, match=r"middle, title .*lacks.*columns: first, last"):
        merge_jobs(tmp_path / "t.txt", tmp_path / "p.csv")
    (tmp_path / "t.txt").write_text("Dear {first}")
    with pytest.raises(OptionError, match=r"'Ann' from p.csv row 2, p.csv row 3"):
        merge_jobs(tmp_path / "t.txt", tmp_path / "p.csv", name_column="first")
    with pytest.raises(OptionError, match="nick"):
        merge_jobs(tmp_path / "t.txt", tmp_path / "p.csv", name_column="nick")


def test_shards_partition_the_jobs_and_seeds_depend_on_the_name_only():
    jobs = text_jobs({f"d{i}": "x" for i in range(10)})
    parts = [shard_of(jobs, (k, 3)) for k in (1, 2, 3)]
    assert sorted(j.name for p in parts for j in p) == sorted(j.name for j in jobs)
    assert [j.name for j in parts[1]] == ["d1", "d4", "d7"]
    assert parse_shard("2/4") == (2, 4)
    for bad in ["0/4", "5/4", "2", "a/b", ""]:
        with pytest.raises(OptionError):
            parse_shard(bad)
    assert document_seed(0, "a") == document_seed(0, "a") != document_seed(0, "b") != document_seed(1, "b")
    assert 0 <= document_seed(123, "x") < 2**63


def test_sharded_mail_merge_with_envelopes_refuses_the_same_clashes_in_every_shard(tmp_path):
    """Other shards' rows are only named, yet their NAME-envelope takes part in the clash check (merge of rel2's
    shards and main's envelopes)."""
    (tmp_path / "t.txt").write_text("Dear {name}\n")
    (tmp_path / "e.txt").write_text("{addr}\n")
    (tmp_path / "d.csv").write_text("name,addr\na,X St\nb,Y St\na-envelope,Z\n")
    for shard in (None, (1, 2), (2, 2)):
        with pytest.raises(OptionError, match="'a-envelope' from d.csv row 2, d.csv row 4"):
            merge_jobs(tmp_path / "t.txt", tmp_path / "d.csv", "name", None, tmp_path / "e.txt", shard=shard)
    (tmp_path / "d.csv").write_text("name,addr\na,X\nb,Y\n")
    jobs = merge_jobs(tmp_path / "t.txt", tmp_path / "d.csv", "name", None, tmp_path / "e.txt", shard=(2, 2))
    assert [(j.name, j.text, j.envelope) for j in jobs] == [("b", "Dear b\n", "Y\n")]  # this shard's jobs only
    assert (jobs.total, jobs.shard) == (2, (2, 2))
