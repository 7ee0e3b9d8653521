"""What a batch writes: one `Job` per document, from text files (names and globs) or a mail merge
(a template with ``{field}`` placeholders filled from each row of a CSV file); plus sharding.

Pure Python (no torch, no numpy): every problem here is found before a model is loaded. Problems that
concern one document (an unreadable file, an empty CSV row, an empty field) stay with its `Job` so the
others can still be written; problems that concern the whole set (a glob matching nothing, a field the CSV
lacks, two documents with one output name) raise at once, every one of them listed.

Sharding: ``--shard K/N`` keeps the jobs whose 0-based position in the full list is K-1 modulo N. The list
is the command line's order with every glob's matches sorted (CSV rows: file order), so every shard of a
job array sees the same list and together the N shards write every document exactly once.
"""
from __future__ import annotations

import csv
import glob
import hashlib
import io
import os
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from ..errors import InputTextError, OptionError, shorten

MAX_INPUT_BYTES = 20_000_000
MAX_NAME = 120  # characters of an output file name (before the suffix)
ENVELOPE_SUFFIX = "-envelope"  # a document's envelope is written as NAME-envelope.EXT


@dataclass(frozen=True)
class Job:
    name: str  # output file name without suffix, unique in its set; the document's seed derives from it
    text: str  # the text to write ('' when `problem`)
    source: str  # where it came from, for messages: "letters/a.txt", "people.csv row 3"
    problem: str = ""  # why it cannot be written ('' = fine)
    envelope: str = ""  # the text of its envelope (mail merge with an envelope template), '' for none


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 text (a BOM is dropped) of `data`; InputTextError for binary or undecodable data."""
    if b"\x00" in data[:65536]:
        raise InputTextError(f"{source} looks binary (it contains NUL bytes): give plain UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputTextError(f"{source} is not UTF-8 text (bad byte at offset {exc.start})") from None
    controls = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > max(8, len(text[:65536]) // 100):
        raise InputTextError(f"{source} looks binary ({controls} control characters): give plain UTF-8 text")
    return text.replace("\f", "\n\n")


def read_file(path: str | os.PathLike, what: str = "input file") -> str:
    """The text of a file; InputTextError (one line, naming the file) when it cannot be read."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputTextError(f"{what} {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise InputTextError(f"{what} {str(p)!r} is a directory, not a text file") from None
    except OSError as exc:
        raise InputTextError(f"cannot read {str(p)!r}: {exc.strerror}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputTextError(f"{what} {str(p)!r} is larger than {MAX_INPUT_BYTES // 1_000_000} MB")
    return decode_text(data, f"{what} {str(p)!r}")


_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def sanitize_name(name: str) -> str:
    """A file name from any text: letters, digits, '-', '_' and '.' kept, runs of anything else -> '_';
    no leading dot or dash (no hidden files, no option-like names); at most MAX_NAME characters."""
    s = _UNSAFE.sub("_", name.strip())
    s = s.lstrip(".-_")[:MAX_NAME].rstrip("._")
    return s


def expand_inputs(patterns: Sequence[str | os.PathLike], out_dir: str | os.PathLike | None = None) -> list[Path]:
    """File names from names and glob patterns (``*``, ``?``, ``[...]``, ``**``), in the given order, each
    glob's matches sorted, duplicates dropped. A name that is not a glob is kept even when missing (its job
    reports it); a glob that matches no file is an OptionError (all such globs listed). A glob's matches in
    `out_dir` (the batch's output folder, or the folder itself) are left out: they are this or an earlier
    run's outputs, never inputs (``--input 'letters/**' --out-dir letters/out`` run twice)."""
    out: list[Path] = []
    seen: set[str] = set()
    empty: list[str] = []
    skip = os.path.realpath(out_dir) if out_dir is not None else None

    def inside_out_dir(p: str) -> bool:
        real = os.path.realpath(p)
        return skip is not None and (real == skip or real.startswith(skip.rstrip(os.sep) + os.sep))

    for pat in patterns:
        pat = str(pat)
        if glob.has_magic(pat) and not os.path.exists(pat):
            found = sorted(p for p in glob.glob(pat, recursive=True) if os.path.isfile(p) and not inside_out_dir(p))
            if not found:
                empty.append(pat)
        else:
            found = [pat]
        for p in found:
            key = os.path.normcase(os.path.abspath(p))
            if key not in seen:
                seen.add(key)
                out.append(Path(p))
    if empty:
        raise OptionError(f"no file matches {shorten(repr(e) for e in empty)}")
    return out


def file_jobs(patterns: Sequence[str | os.PathLike], out_dir: str | os.PathLike | None = None) -> list[Job]:
    """One job per input file (named after the file, without its suffix). Unreadable files become jobs
    with a problem; two inputs that would write the same output name are an OptionError. Globs skip what
    lies in `out_dir` (see `expand_inputs`)."""
    jobs = []
    for p in expand_inputs(patterns, out_dir):
        name = sanitize_name(p.stem) or "document"
        try:
            jobs.append(Job(name, read_file(p), str(p)))
        except InputTextError as exc:
            jobs.append(Job(name, "", str(p), str(exc)))
    check_unique(jobs)
    return jobs


def text_jobs(texts: Mapping[str, str] | Sequence[tuple[str, str]]) -> list[Job]:
    """Jobs from (name, text) pairs (the Python API); names are sanitised and must stay unique."""
    pairs = list(texts.items()) if isinstance(texts, Mapping) else list(texts)
    jobs = []
    for name, text in pairs:
        clean = sanitize_name(str(name))
        jobs.append(Job(clean, text, str(name), "" if clean else f"{str(name)!r} gives an empty file name"))
    check_unique(jobs)
    return jobs


def check_unique(jobs: Sequence[Job], envelopes: bool = False) -> None:
    """OptionError listing every output name two or more jobs share (compared case-insensitively, as
    on macOS and Windows file systems). A job's envelope takes NAME-envelope; with `envelopes` every job
    claims that name, written or not (a sharded mail merge: every shard refuses the same set)."""
    by: dict[str, list[tuple[str, Job]]] = {}
    for j in jobs:
        for name in (j.name, j.name + ENVELOPE_SUFFIX if j.envelope or envelopes else ""):
            if name:
                by.setdefault(name.casefold(), []).append((name, j))
    clashes = [js for js in by.values() if len(js) > 1]
    if clashes:
        shown = shorten((f"{js[0][0]!r} from " + shorten((j.source for _, j in js), 3) for js in clashes), 5, "; ")
        raise OptionError(f"{len(clashes)} output name(s) used more than once: {shown} "
                          "(use --name or --name-column to tell them apart)")


def check_page_names(jobs: Sequence[Job], per_page: bool, envelopes: bool = False) -> None:
    """OptionError when, in a per-page format, one document's numbered pages could take another's file name:
    document ``a`` of two pages writes ``a-1.svg`` and ``a-2.svg``, so a document named ``a-1`` beside it would
    overwrite (or be overwritten by) its first page. Decided over the names alone, whatever the page counts, so
    that every shard of a job array refuses the same set before anything is sampled (a shard does not lay out
    the other shards' documents)."""
    if not per_page:
        return
    named = [(j.name, j) for j in jobs if j.name]
    named += [(j.name + ENVELOPE_SUFFIX, j) for j in jobs if j.name and (j.envelope or envelopes)]  # NAME-envelope
    names = {n.casefold() for n, _ in named}
    clashes = []
    for n, j in named:
        m = re.fullmatch(r"(.+)-(\d+)", n)
        if m and m.group(1).casefold() in names:
            clashes.append(f"{n!r} ({j.source}) beside {m.group(1)!r}")
    if clashes:
        raise OptionError(f"{len(clashes)} output name(s) would clash with another document's numbered pages "
                          f"(a document of several pages writes NAME-1, NAME-2, ...): {shorten(clashes, 5, '; ')} "
                          "(rename them, e.g. with --name, or write PDF: one file per document)")


# --- mail merge --------------------------------------------------------------------------------------

def template_fields(template: str, what: str = "template") -> list[str]:
    """The ``{field}`` names of `template` in order of first use (``{{`` and ``}}`` are literal braces).
    OptionError for a malformed template or a field with a format spec, conversion, index or attribute."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise OptionError(f"{what}: {exc} (write {{{{ and }}}} for literal braces)") from None
    fields: dict[str, None] = {}  # ordered set: linear in the number of fields
    for _lit, name, spec, conv in parts:
        if name is None:
            continue
        if not name.strip() or spec or conv or re.search(r"[.\[\]]", name):
            raise OptionError(f"{what}: {{{name}{'!' + conv if conv else ''}{':' + spec if spec else ''}}} is not a "
                              "plain field name (use {column} with a column of the CSV header)")
        fields.setdefault(name.strip())
    return list(fields)


def fill(template: str, row: Mapping[str, str]) -> str:
    """`template` with every ``{field}`` replaced by ``row[field]`` (fields checked by `template_fields`)."""
    return fill_parts(_parts(template), row)


def _parts(template: str) -> list[tuple[str, str | None]]:
    """(literal, field or None) pairs of a template, parsed once for every row."""
    return [(lit, name.strip() if name is not None else None) for lit, name, _s, _c in string.Formatter().parse(template)]


def fill_parts(parts: Sequence[tuple[str, str | None]], row: Mapping[str, str]) -> str:
    return "".join(lit + (row[name] if name is not None else "") for lit, name in parts)


def read_csv(path: str | os.PathLike) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line number, cells)]) of a CSV file: UTF-8 (BOM tolerated), comma-separated, quoted
    fields may hold commas, quotes ("") and line breaks; the line number is where the record starts (the
    header is line 1). Blank lines at the end are dropped; InputTextError for no header or a bad header."""
    header, rows = iter_csv(path)
    return header, list(rows)


def iter_csv(path: str | os.PathLike) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """`read_csv` as a stream: the header is read and checked at once, the rows are parsed as they are
    taken (a million-row file is never held as a million lists)."""
    text = read_file(path, "data file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    del text  # the StringIO keeps its own copy

    def records() -> Iterator[tuple[int, list[str]]]:
        start = 1
        blank: list[tuple[int, list[str]]] = []  # blank records held back: dropped when nothing follows
        try:
            for rec in reader:
                if not rec:
                    blank.append((start, rec))
                else:
                    yield from blank
                    blank = []
                    yield start, rec
                start = reader.line_num + 1
        except csv.Error as exc:
            raise InputTextError(f"data file {str(path)!r} line {reader.line_num}: {exc}") from None

    rows = records()
    first = next(rows, None)
    if first is None:
        raise InputTextError(f"data file {str(path)!r} is empty: it needs a header row naming the columns")
    header = [h.strip() for h in first[1]]
    bad = [f"column {i + 1} has no name" for i, h in enumerate(header) if not h]
    seen: set[str] = set()  # linear: a header of 100,000 columns is checked in milliseconds
    for h in header:
        if h and h in seen:
            bad.append(f"column {h!r} appears twice")
        seen.add(h)
    if bad:
        raise InputTextError(f"data file {str(path)!r} header: {shorten(dict.fromkeys(bad), 5, '; ')}")
    return header, rows


def merge_jobs(template_path: str | os.PathLike, data_path: str | os.PathLike, name_column: str | None = None,
               name_pattern: str | None = None, envelope_template: str | os.PathLike | None = None,
               shard: tuple[int, int] | None = None) -> list[Job]:
    """One job per CSV row: the template filled from the row, named from `name_column`, from
    `name_pattern` (a template over the columns, e.g. ``{last}-{first}``), or ``row-0001`` style.

    Raises (every problem listed) for a field or name column the CSV lacks and for output names that
    clash; a row's own problems (empty row, wrong number of cells, an empty field the template or the
    name uses) stay with its job, reported with the row's line number in the CSV file. `envelope_template`
    (a template of the envelope's text: the recipient's address) fills each job's `envelope` the same way.

    With `shard` (K, N) the rows of other shards are only read and named (every name takes part in the
    clash checks, their envelopes' names too): their jobs keep an empty text and are never checked further, so
    a shard pays for its own rows only (`shard_of` then picks this shard's jobs).
    """
    template = read_file(template_path, "template")
    fields = template_fields(template)
    envelope = read_file(envelope_template, "envelope template") if envelope_template is not None else None
    if envelope is not None:
        fields += [f for f in template_fields(envelope, "envelope template") if f not in fields]
    header, rows = iter_csv(data_path)
    if name_column is not None and name_pattern is not None:
        raise OptionError("give --name-column or --name, not both")
    if name_column is not None:
        name_pattern = "{" + name_column.replace("{", "{{").replace("}", "}}") + "}"
    name_fields = template_fields(name_pattern, "--name") if name_pattern is not None else []
    columns = set(header)
    missing = [f for f in fields if f not in columns]
    missing_name = [f for f in name_fields if f not in columns]
    problems = []
    if missing:
        problems.append(f"the template uses {len(missing)} field(s) {shorten(missing)} that {str(data_path)!r} lacks")
    if missing_name:
        problems.append(f"the name uses column(s) {shorten(missing_name)} that {str(data_path)!r} lacks")
    if problems:
        raise OptionError("; ".join(problems) + f" (its columns: {shorten(header)})")
    data = Path(data_path).name
    text_parts = _parts(template)
    name_parts = _parts(name_pattern) if name_pattern is not None else None
    envelope_parts = _parts(envelope) if envelope else None
    jobs = []
    for k, (line, cells) in enumerate(rows, start=1):
        source = f"{data} row {line}"
        default_name = f"row-{k:04d}"
        if shard is not None and (k - 1) % shard[1] != shard[0] - 1:  # another shard's row: its name only
            name = sanitize_name(fill_parts(name_parts, dict(zip(header, cells)))) if (
                name_parts is not None and len(cells) == len(header)) else ""
            jobs.append(Job(name or default_name, "", source))
            continue
        if not any(c.strip() for c in cells):
            jobs.append(Job(default_name, "", source, "empty row"))
            continue
        if len(cells) != len(header):
            jobs.append(Job(default_name, "", source, f"{len(cells)} cells, the header has {len(header)}"))
            continue
        row = dict(zip(header, cells))
        empty = [f for f in dict.fromkeys(fields + name_fields) if not row[f].strip()]
        name = sanitize_name(fill_parts(name_parts, row)) if name_parts is not None else default_name
        if empty:
            jobs.append(Job(name or default_name, "", source, f"empty field(s) {shorten(empty)}"))
        elif not name:
            jobs.append(Job(default_name, "", source, "the name is empty once made a file name"))
        else:
            jobs.append(Job(name, fill_parts(text_parts, row), source,
                            envelope=fill_parts(envelope_parts, row) if envelope_parts else ""))
    check_unique(jobs, envelopes=envelope is not None)
    return jobs


# --- sharding and seeds ------------------------------------------------------------------------------

def parse_shard(spec: str) -> tuple[int, int]:
    """'K/N' -> (K, N), 1 <= K <= N; OptionError otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec or "")
    if not m or not (1 <= int(m.group(1)) <= int(m.group(2))):
        raise OptionError(f"--shard must be K/N with 1 <= K <= N (e.g. 2/4), got {spec!r}")
    return int(m.group(1)), int(m.group(2))


def shard_of(jobs: Sequence[Job], shard: tuple[int, int] | None) -> list[Job]:
    """The jobs of shard (K, N): those at 0-based positions i with i % N == K - 1 (all when None)."""
    if shard is None:
        return list(jobs)
    k, n = shard
    return [j for i, j in enumerate(jobs) if i % n == k - 1]


def document_seed(seed: int, name: str) -> int:
    """A document's 63-bit seed from the base seed and its name (sha256): it does not depend on which
    other documents are written, in which order, or in which shard."""
    digest = hashlib.sha256(f"{int(seed)}\x00{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1
