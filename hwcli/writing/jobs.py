"""What a batch writes: one `Job` per document, from text files (names and globs) or a mail merge
(a template with ``{field}`` placeholders filled from each row of a CSV file); plus sharding.

Pure Python (no torch; numpy only inside the name checks): every problem here is found before a model is loaded. Problems that
concern one document (an unreadable file, an empty CSV row, an empty field) stay with its `Job` so the
others can still be written; problems that concern the whole set (a glob matching nothing, a field the CSV
lacks, two documents with one output name) raise at once, every one of them listed.

Sharding: ``--shard K/N`` keeps the jobs whose 0-based position in the full list is K-1 modulo N. The list
is the command line's order with every glob's matches sorted (CSV rows: file order), so every shard of a
job array sees the same list and together the N shards write every document exactly once.

Memory: a mail merge reads its CSV as a stream and keeps only its own shard's jobs (a `JobList`), or none of them
(`JobStream`: with ``stream=True``, read again each time they are gone over); the names of
every row, which the clash checks need in every shard, are kept as one 8-byte key each (`NameIndex`), not as
strings, and the file is read again only when two keys are equal, to tell a real clash from a collision.
"""
from __future__ import annotations

import codecs
import csv
import glob
import hashlib
import io
import os
import re
import string
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, Mapping, Sequence

from ..errors import InputTextError, OptionError, shorten

MAX_INPUT_BYTES = 20_000_000
MAX_DATA_BYTES = 2_000_000_000  # a mail merge's CSV: read as a stream (twice in a whole run), never held
STREAM_HOLD = 10_000  # merge_jobs(stream=True) holds a shard's jobs up to this many, else reads them again
MAX_NAME = 120  # characters of an output file name (before the suffix)
ENVELOPE_SUFFIX = "-envelope"  # a document's envelope is written as NAME-envelope.EXT
_HEAD = 65536  # bytes (and characters) at the start of a text looked at for signs of binary data


@dataclass(frozen=True)
class Job:
    name: str  # output file name without suffix, unique in its set; the document's seed derives from it
    text: str  # the text to write ('' when `problem`)
    source: str  # where it came from, for messages: "letters/a.txt", "people.csv row 3"
    problem: str = ""  # why it cannot be written ('' = fine)
    envelope: str = ""  # the text of its envelope (mail merge with an envelope template), '' for none


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 text (a BOM is dropped) of `data`; InputTextError for binary or undecodable data."""
    if b"\x00" in data[:_HEAD]:
        raise InputTextError(f"{source} looks binary (it contains NUL bytes): give plain UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputTextError(f"{source} is not UTF-8 text (bad byte at offset {exc.start})") from None
    _check_controls(text, source)
    return text.replace("\f", "\n\n")


def _check_controls(text: str, source: str) -> None:
    controls = sum(1 for c in text[:_HEAD] if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > max(8, len(text[:_HEAD]) // 100):
        raise InputTextError(f"{source} looks binary ({controls} control characters): give plain UTF-8 text")


def read_file(path: str | os.PathLike, what: str = "input file") -> str:
    """The text of a file; InputTextError (one line, naming the file) when it cannot be read."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size  # a buffer of the file's size, not of the limit (20 MB a file)
            data = fh.read(size + 1 if 0 < size <= MAX_INPUT_BYTES else MAX_INPUT_BYTES + 1)
            if 0 < size < len(data) <= MAX_INPUT_BYTES:  # it grew since
                data += fh.read(MAX_INPUT_BYTES + 1 - len(data))
    except OSError as exc:
        raise _open_error(p, what, exc) from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputTextError(f"{what} {str(p)!r} is larger than {MAX_INPUT_BYTES // 1_000_000} MB")
    return decode_text(data, f"{what} {str(p)!r}")


def _open_error(p: Path, what: str, exc: OSError) -> InputTextError:
    if isinstance(exc, FileNotFoundError):
        return InputTextError(f"{what} {str(p)!r} does not exist")
    if isinstance(exc, IsADirectoryError):
        return InputTextError(f"{what} {str(p)!r} is a directory, not a text file")
    return InputTextError(f"cannot read {str(p)!r}: {exc.strerror}")


def text_lines(path: str | os.PathLike, what: str = "input file", limit: int | None = None) -> Iterator[str]:
    """The lines of a text file as `io.StringIO(read_file(path, what), newline="")` gives them (line ends kept),
    read as a stream: a file of any length costs a buffer, not its text. The checks of `read_file` come first
    (the size, the start of the file looked at for binary data); a byte that is not UTF-8 further on raises
    `read_file`'s error when the stream reaches it. `limit`: the largest file taken (default `MAX_INPUT_BYTES`;
    a mail merge's data file may be as large as `MAX_DATA_BYTES`: it is never held)."""
    limit = MAX_INPUT_BYTES if limit is None else limit
    p = Path(path)
    try:
        fh: BinaryIO = open(p, "rb")
    except OSError as exc:
        raise _open_error(p, what, exc) from None
    try:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise InputTextError(f"{what} {str(p)!r} is larger than {limit // 1_000_000} MB")
        head = fh.read(4 * _HEAD + 3)  # at least _HEAD characters (a BOM, then 4 bytes at most each)
        if b"\x00" in head[:_HEAD]:
            decode_text(head[:_HEAD], f"{what} {str(p)!r}")  # raises: NUL bytes
        try:
            start = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=len(head) <= 4 * _HEAD)
        except UnicodeDecodeError:
            if size <= MAX_INPUT_BYTES:
                read_file(p, what)  # raises its own message (with the byte's offset)
            raise InputTextError(f"{what} {str(p)!r} is not UTF-8 text") from None
        _check_controls(start, f"{what} {str(p)!r}")
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    return _stream_lines(fh, p, what, limit)


def _stream_lines(fh: BinaryIO, p: Path, what: str, limit: int) -> Iterator[str]:
    """`text_lines` after its checks: the text is decoded a chunk at a time, its form feeds made paragraph breaks
    (as `decode_text` does) and each chunk split into lines by StringIO's own rule; a last line that may go on
    (no line end yet, or a CR that a LF may follow) waits for the next chunk."""
    read, carry = 0, ""
    with io.TextIOWrapper(fh, encoding="utf-8-sig", newline="") as text:
        try:
            while chunk := text.read(1 << 16):
                read += len(chunk)
                if read > limit:  # (characters, a byte or more each) the file grew as it was read
                    raise InputTextError(f"{what} {str(p)!r} is larger than {limit // 1_000_000} MB")
                lines = io.StringIO(carry + chunk.replace("\f", "\n\n"), newline="").readlines()
                carry = lines.pop() if lines and not lines[-1].endswith("\n") else ""
                yield from lines
        except UnicodeDecodeError:
            if read <= MAX_INPUT_BYTES:  # (a bigger data file is not read whole for the byte's offset)
                read_file(p, what)  # raises its own message (with the byte's offset)
            raise InputTextError(f"{what} {str(p)!r} is not UTF-8 text") from None
    if carry:
        yield carry


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


def file_jobs(patterns: Sequence[str | os.PathLike], out_dir: str | os.PathLike | None = None,
              shard: tuple[int, int] | None = None, stream: bool = False) -> "JobList | JobStream":
    """One job per input file (named after the file, without its suffix). Unreadable files become jobs
    with a problem; two inputs that would write the same output name are an OptionError. Globs skip what
    lies in `out_dir` (see `expand_inputs`). With `shard` (K, N) only that shard's files are read and kept
    (`JobList`); every file's name still takes part in the clash checks. With `stream` no text is held: a
    `JobStream` that reads each file again each time it is gone over (a thousand files of 20 MB are never all
    in memory), and the clash checks have run on the names."""
    paths = expand_inputs(patterns, out_dir)

    def named() -> Iterator[tuple[str, str]]:
        return ((sanitize_name(p.stem) or "document", str(p)) for p in paths)

    def job(name: str, source: str) -> Job:
        try:
            return Job(name, read_file(source), source)
        except InputTextError as exc:
            return Job(name, "", source, str(exc))

    names = NameIndex(named, envelopes=False)
    jobs = JobList(len(paths), shard, names)
    for i, (name, source) in enumerate(named()):
        names.add(name)
        if in_shard(i, shard) and not stream:
            jobs.append(job(name, source))
    names.check_unique()
    if not stream:
        return jobs
    mine = [i for i in range(len(paths)) if in_shard(i, shard)]

    def make() -> Iterator[Job]:
        return (job(name, source) for i, (name, source) in enumerate(named()) if in_shard(i, shard))

    # (`plain` counts envelopes, and files have none: not read here to count their problems)
    return JobStream(make, len(paths), len(mine), len(mine), shard, names,
                     _stat_stamp(lambda: (paths[i] for i in mine)), "an input file")


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


# --- the output names of a whole batch ------------------------------------------------------------------

_NUMBERED = re.compile(r"(.+)-(\d+)")  # NAME-<number>: a page of NAME in a per-page format (check_page_names)


def name_key(name: str) -> int:
    """A 64-bit key of an output name as file systems compare names (case-folded): Python's str hash (SipHash,
    salted per process: keys are compared within one run only). Equal names have equal keys; two different
    names share one by chance about once in 2**64, and `NameIndex` takes a shared key for a suspicion only."""
    return hash(name.casefold())


def _keys(name: str, envelopes: bool) -> list[tuple[int, int | None]]:
    """(key, key of its NAME part or None) of each output name a job claims: its name and, with `envelopes`,
    NAME-envelope (names as `check_unique` and `check_page_names` take them). `NameIndex.add` is the same, inlined."""
    out = []
    for n in (name, name + ENVELOPE_SUFFIX) if envelopes else (name,):
        if n:  # check_unique skips an empty name (an empty name's envelope is not: it is not empty)
            m = _NUMBERED.fullmatch(n) if n[-1].isdigit() else None
            out.append((name_key(n), name_key(m.group(1)) if m else None))
    return out


class NameIndex:
    """Every output name of a batch, all shards' (documents, and envelopes with `envelopes`), for the clash
    checks, held as 8-byte keys (`name_key`), not as strings: one per name, one more per name ending in
    -<number>. Equal keys are only suspected clashes: then `again()` gives every job's (name, source) once
    more, in job order (a mail merge reads its CSV again), and the exact checks (`check_unique`,
    `check_page_names`) run over the jobs whose keys are suspect, all of a clash's jobs among them. So a clash
    is reported word for word as over all the jobs, and two names that only share a key make no error."""

    def __init__(self, again: Callable[[], Iterable[tuple[str, str]]], envelopes: bool):
        self.again = again
        self.envelopes = envelopes  # every job claims NAME-envelope too
        self.count = 0  # names added (jobs)
        self._names = array("q")  # the key of every output name
        self._stems = array("q")  # the key of NAME for every output name NAME-<number>

    def add(self, name: str) -> None:
        """Add a job's output names (`_keys`: a million calls, so written out here)."""
        self.count += 1
        for n in (name, name + ENVELOPE_SUFFIX) if self.envelopes else (name,):
            if n:
                self._names.append(name_key(n))
                if n[-1].isdigit():  # isdigit takes every \d and more: only a quick first test
                    m = _NUMBERED.fullmatch(n)
                    if m:
                        self._stems.append(name_key(m.group(1)))

    def _sorted(self):
        """The name keys as a numpy view, sorted in place (their order means nothing): no copy."""
        import numpy as np

        keys = np.frombuffer(self._names, dtype=np.int64)
        keys.sort()
        return keys

    def check_unique(self) -> None:
        """`check_unique` over every job added (OptionError listing the clashes)."""
        keys = self._sorted()
        suspects = set(keys[1:][keys[1:] == keys[:-1]].tolist())
        del keys  # the view pins the array's buffer (no more names could be added)
        if suspects:
            check_unique(self._suspects(suspects), self.envelopes)

    def check_pages(self, per_page: bool) -> None:
        """`check_page_names` over every job added (OptionError listing the clashes)."""
        import numpy as np

        if not per_page or not len(self._stems) or not len(self._names):
            return
        keys, suspects = self._sorted(), set()
        stems = np.frombuffer(self._stems, dtype=np.int64)
        for i in range(0, len(stems), 1 << 16):  # a slice at a time: the temporaries stay small
            part = stems[i:i + (1 << 16)]
            suspects.update(part[keys[np.minimum(np.searchsorted(keys, part), len(keys) - 1)] == part].tolist())
        del keys, stems
        if suspects:
            check_page_names(self._suspects(suspects), per_page, self.envelopes)

    def _suspects(self, suspects: set[int]) -> list[Job]:
        """The jobs (names and sources only) any of whose keys is in `suspects`, in job order."""
        return [Job(name, "", source) for name, source in self.again()
                if any(k in suspects or s in suspects for k, s in _keys(name, self.envelopes))]


class JobList(list):
    """The jobs of one shard of a batch (of all of it without a shard), in order, and what the whole batch's
    checks and report need: `total` (jobs before sharding), `shard` and `names` (every job's output names,
    `NameIndex`; their clashes are checked already, the page-number clashes by `write_many`, which knows the
    format)."""

    def __init__(self, total: int, shard: tuple[int, int] | None, names: NameIndex):
        super().__init__()
        self.total = total
        self.shard = shard
        self.names = names


class JobStream:
    """The jobs of a batch (of one shard of it, with `shard`), in order, not held: each iteration makes them
    again from their files (a mail merge reads its CSV again, a file batch reads each file again), so a run of a
    million documents holds none of them. `write_many` goes over them twice (the checks, then the sampling). As
    `JobList`: `total` (jobs before sharding), `shard`, `names`; and `len()` (this shard's jobs) and `plain` (those
    without a problem, which are the ones that get an envelope). If a file changes between two passes, the
    iteration raises InputTextError when it sees that (its size or modification time differs, or the count of
    jobs), instead of writing documents that were not checked."""

    def __init__(self, make: Callable[[], Iterator[Job]], total: int, count: int, plain: int,
                 shard: tuple[int, int] | None, names: NameIndex, stamp: Callable[[], object], what: str):
        self._make = make
        self.total = total
        self.shard = shard
        self.names = names
        self.plain = plain
        self._count = count
        self._stamp = stamp
        self._first = stamp()
        self._what = what

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Job]:
        changed = InputTextError(f"{self._what} changed while the batch ran (documents already written stay): "
                                 "run it again")
        if self._stamp() != self._first:
            raise changed
        n = 0
        for job in self._make():
            n += 1
            yield job
        if n != self._count or self._stamp() != self._first:
            raise changed


def _stat_stamp(paths: Callable[[], Iterable[Path]]) -> Callable[[], object]:
    """A stamp of files (size and modification time of each) that changes when any of them does."""
    def stamp() -> object:
        out = []
        for p in paths():
            try:
                st = os.stat(p)
                out.append((st.st_size, st.st_mtime_ns))
            except OSError:
                out.append(None)
        return hashlib.sha256(repr(out).encode()).digest()
    return stamp


def in_shard(i: int, shard: tuple[int, int] | None) -> bool:
    """Whether the job at 0-based position `i` belongs to shard (K, N) (every job with no shard)."""
    return shard is None or i % shard[1] == shard[0] - 1


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
    """`read_csv` as a stream: the header is read and checked at once, the rows are read and parsed as they
    are taken (a million-row file is never held, as text or as a million lists)."""
    reader = csv.reader(text_lines(path, "data file", MAX_DATA_BYTES), strict=True)

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
               shard: tuple[int, int] | None = None, stream: bool = False) -> "JobList | JobStream":
    """One job per CSV row: the template filled from the row, named from `name_column`, from
    `name_pattern` (a template over the columns, e.g. ``{last}-{first}``), or ``row-0001`` style.

    Raises (every problem listed) for a field or name column the CSV lacks and for output names that
    clash; a row's own problems (empty row, wrong number of cells, an empty field the template or the
    name uses) stay with its job, reported with the row's line number in the CSV file. `envelope_template`
    (a template of the envelope's text: the recipient's address) fills each job's `envelope` the same way.

    With `shard` (K, N) the rows of other shards are only read and named (every name takes part in the
    clash checks, their envelopes' names too, as one key each: `NameIndex`), and the jobs returned are this
    shard's alone (`JobList`; `write_many` takes them with the same `shard`), so a shard pays for its own rows
    and a fixed 8 to 24 bytes for each of the others'. With `stream`, more than `STREAM_HOLD` jobs are not held
    at all: a `JobStream`, which reads the CSV again each time it is gone over (a whole run of a million rows
    holds only the names' keys); fewer are a `JobList` as without it (a small shard of a big file is not read
    three times).
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

    def named(rows: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, int, list[str], str]]:
        """(k, line, cells, output name) of every row: one rule in every shard, so all of them check one set"""
        for k, (line, cells) in enumerate(rows, start=1):
            name = ""
            if name_parts is not None and len(cells) == len(header) and any(c.strip() for c in cells):
                name = sanitize_name(fill_parts(name_parts, dict(zip(header, cells))))
            yield k, line, cells, name or f"row-{k:04d}"

    def again() -> Iterator[tuple[str, str]]:  # every row's (name, source), the file read again
        return ((name, f"{data} row {line}") for _k, line, _c, name in named(iter_csv(data_path)[1]))

    def job(line: int, cells: list[str], name: str) -> Job:
        source = f"{data} row {line}"
        if not any(c.strip() for c in cells):
            return Job(name, "", source, "empty row")
        if len(cells) != len(header):
            return Job(name, "", source, f"{len(cells)} cells, the header has {len(header)}")
        row = dict(zip(header, cells))
        empty = [f for f in dict.fromkeys(fields + name_fields) if not row[f].strip()]
        if empty:
            return Job(name, "", source, f"empty field(s) {shorten(empty)}")
        if name_parts is not None and not sanitize_name(fill_parts(name_parts, row)):
            return Job(name, "", source, "the name is empty once made a file name")
        return Job(name, fill_parts(text_parts, row), source,
                   envelope=fill_parts(envelope_parts, row) if envelope_parts else "")

    names = NameIndex(again, envelopes=envelope is not None)
    jobs: JobList | None = JobList(0, shard, names)
    count = plain = 0
    for k, line, cells, name in named(rows):
        names.add(name)
        if not in_shard(k - 1, shard):  # another shard's row: its name only
            continue
        j = job(line, cells, name)
        count += 1
        plain += not j.problem
        if jobs is not None:
            jobs.append(j)
            if stream and len(jobs) > STREAM_HOLD:
                jobs = None  # too many to hold: read again when needed
    names.check_unique()
    if jobs is not None:
        jobs.total = names.count
        return jobs

    def make() -> Iterator[Job]:
        return (job(line, cells, name) for k, line, cells, name in named(iter_csv(data_path)[1])
                if in_shard(k - 1, shard))

    return JobStream(make, names.count, count, plain, shard, names, _stat_stamp(lambda: [Path(data_path)]),
                     f"data file {str(data_path)!r}")


# --- sharding and seeds ------------------------------------------------------------------------------

def parse_shard(spec: str) -> tuple[int, int]:
    """'K/N' -> (K, N), 1 <= K <= N; OptionError otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec or "")
    if not m or not (1 <= int(m.group(1)) <= int(m.group(2))):
        raise OptionError(f"--shard must be K/N with 1 <= K <= N (e.g. 2/4), got {spec!r}")
    return int(m.group(1)), int(m.group(2))


def shard_of(jobs: Sequence[Job], shard: tuple[int, int] | None) -> list[Job]:
    """The jobs of shard (K, N): those at 0-based positions i with i % N == K - 1 (all when None)."""
    return [j for i, j in enumerate(jobs) if in_shard(i, shard)]


def document_seed(seed: int, name: str) -> int:
    """A document's 63-bit seed from the base seed and its name (sha256): it does not depend on which
    other documents are written, in which order, or in which shard."""
    digest = hashlib.sha256(f"{int(seed)}\x00{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1
