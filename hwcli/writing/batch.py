"""Many documents in one process: `write_many` validates every job, then samples the lines of several
documents together in big mixed batches and places, renders and publishes each document on its own.

Why one process: loading torch and the models costs seconds per `hwcli write`, and one short letter fills
a fraction of a batch; here the model loads once and a batch holds the lines of many letters, so a hundred
short letters cost about what one long document of the same length costs.

Determinism: a document's seed comes from the base seed and its name (`jobs.document_seed`), each of its
lines gets its own random stream from (document seed, line number) (`synthesize(seeds=...)`), and batches
always have ``batch_size`` rows, so a document's strokes, and so its file, do not depend on which other
documents were written with it, in which order, or in which shard. (Same options, model, torch build and
thread count; the PDF writer is byte-for-byte deterministic.)

Memory: the documents are gone over twice and held by neither pass: first each is checked (its text, its
layout's pages counted, its output files) and dropped, keeping its status (and its report, unless
``keep_reports=False``), then they are made again a group of about ``group_lines`` lines at a time as they are
sampled; a group's strokes are freed once its documents are written. A shard's jobs from `jobs.merge_jobs` or
`jobs.file_jobs` (a `jobs.JobList`) are that shard's alone: the other shards' documents cost an 8-byte key per
output name, for the name checks, and nothing here; with ``stream=True`` (a `jobs.JobStream`) not even this
shard's jobs are held, so a run keeping no reports holds nothing per document but an 8-byte position.
"""
from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from array import array
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from ..errors import HwcliError, InputTextError, OptionError, OutputError, shorten
from ..fileio import check_writable, describe_os_error
from ..model.bundle import Bundle
from ..page import PageOptions, group_pages
from ..page import layout as L
from ..page import options as PO
from ..page.colors import document_colors, line_colors
from ..page.formats import FORMATS, format_for, is_complete, page_paths, plotter_setup
from ..page.machines import PlotterOptions
from ..page.placement import Page
from ..synthesis import Checker, SamplingOptions, unit_seed
from .compose import Composer, Report
from .document import Document, _title
from .jobs import (ENVELOPE_SUFFIX, Job, JobList, JobStream, check_page_names, check_unique, document_seed, in_shard,
                   text_jobs)

log = logging.getLogger(__name__)
EXTENSIONS = {"pdf": ".pdf", "svg": ".svg", "png": ".png", "gcode": ".gcode", "hpgl": ".hpgl", "plotter-svg": ".svg"}


@dataclass
class DocReport(Report):
    """A document's `Report` (pages, lines, resampled, failed: its lines still failing after their retries) and
    what became of it."""

    name: str = ""  # output name (file name without suffix)
    source: str = ""  # input file or CSV row
    status: str = "pending"  # "written", "skipped" (its outputs were there already) or "failed"
    outputs: list[str] = field(default_factory=list)
    error: str = ""  # why it failed


KEPT_FAILURES = 1000  # failed documents' reports a run that keeps no reports (keep_reports=False) still keeps


@dataclass
class BatchReport:
    """What became of a batch's documents: `docs`, every document's report in job order (empty when
    `write_many` ran with ``keep_reports=False``: a million reports are a gigabyte), `counts` by final status
    ("written", "skipped", "failed"), always; `failed` the failed documents' reports (without kept reports,
    the first `KEPT_FAILURES` of them; `counts["failed"]` says how many there were)."""

    docs: list[DocReport] = field(default_factory=list)  # the shard's documents, in job order
    total_jobs: int = 0  # jobs before sharding
    shard: tuple[int, int] | None = None
    counts: dict[str, int] = field(default_factory=dict)  # documents by final status
    kept: bool = True  # every report is in `docs`
    _failures: list[DocReport] = field(default_factory=list, repr=False)

    def by_status(self, status: str) -> list[DocReport]:
        if not self.kept:
            if status == "failed":
                return list(self._failures)
            raise ValueError("this batch kept no reports (keep_reports=False): see counts")
        return [d for d in self.docs if d.status == status]

    @property
    def failed(self) -> list[DocReport]:
        return self.by_status("failed")

    def _count(self, doc: DocReport) -> None:
        self.counts[doc.status] = self.counts.get(doc.status, 0) + 1
        if not self.kept and doc.status == "failed" and len(self._failures) < KEPT_FAILURES:
            self._failures.append(doc)


@dataclass(slots=True)
class _Doc:
    """A document of the run while it is checked, and again while its group is sampled (slots, no Paths, empty
    tuples shared)."""

    job: Job
    report: DocReport
    text: str = ""
    lines: Sequence = ()  # LayoutLines, while its group is sampled
    page: PageOptions = PageOptions()  # its paper (an envelope's differs from its letter's)
    marks: Sequence = ()  # {color:...} marks of the text (colors.split_colors)
    colors: Sequence = ()  # ink of each line (from `marks`, while its group is laid out)
    inks: Sequence = ()
    seed: int = 0
    pos: int = 0  # its place among the run's documents (letters and envelopes)


def write_many(
    jobs: Sequence[Job] | Mapping[str, str],
    out_dir: str | os.PathLike | None,
    bundle: Bundle | str | os.PathLike | None = None,
    sampling: SamplingOptions = SamplingOptions(),
    page: PageOptions = PageOptions(),
    fmt: str | None = None,
    on_unsupported: str = "error",
    checker: Checker | None = None,
    skip_existing: bool = False,
    shard: tuple[int, int] | None = None,
    one_file: str | os.PathLike | None = None,
    group_lines: int | None = None,
    progress: Callable[[int, int, DocReport], None] | None = None,
    dpi: float = 150,
    plotter: PlotterOptions | None = None,
    envelope: str | None = None,
    keep_reports: bool = True,
    *,
    style: int | str | None = None,
    bias: float | None = None,
    seed: int | None = None,
    check: bool | None = None,
) -> BatchReport:
    """Write every job (a `jobs.Job`, or a mapping name -> text) to ``out_dir/NAME.EXT`` in format `fmt`
    (default pdf; with `one_file`, from its suffix), or all of them, each from a new page, into the single
    file `one_file` (PDF or plotter SVG).

    Every job is checked first (readable, writable characters, not empty); a job with a problem is
    reported (``progress`` is called for it before any sampling) and the others are still written; with
    `one_file` any problem raises instead. `skip_existing` leaves documents whose outputs all exist (they
    are complete: outputs are published atomically). `shard` (K, N) writes only the K-th of N parts (see
    `jobs.in_shard`); jobs made for one shard (``merge_jobs(..., shard=(K, N))``, a `jobs.JobList` of that shard's
    jobs alone, the whole batch's names in its `NameIndex`) need the same `shard` here. Seeds: see the module docstring; ``sampling.seed`` is the base seed and
    ``page.seed`` is replaced by each document's seed. Read-back checking as in `hwcli.write` (``sampling.check``,
    default the bundle's; `checker` replaces the bundled recognizer). ``progress(done, total, doc)`` after
    each document. `style`, `bias`, `seed`, `check` override the same fields of `sampling` (as in `hwcli.write`).
    `envelope` (an envelope size, e.g. "DL") writes each job's `envelope` text as ``NAME-envelope.EXT`` beside
    its document, or, with `one_file`, as the page after it (letters and envelopes interleaved for printing).

    Memory: the jobs are gone over twice, checks first (each document prepared, its pages counted and its
    outputs checked, then dropped) and then in groups as they are sampled (prepared again), so the run holds one
    group's documents, an 8-byte position per document still to write, and the reports: every one with
    `keep_reports` (the default), else only counts and the failed ones (`BatchReport`), which with a
    `jobs.JobStream` (``merge_jobs(..., stream=True)``, what the CLI uses) makes a run's memory independent of
    its number of documents (but for the names' 8-byte keys).
    """
    _check_arguments(jobs, out_dir, sampling, page, fmt, skip_existing, shard, one_file, group_lines, progress, dpi,
                     plotter, keep_reports)
    shard = tuple(shard) if shard is not None else None
    given = {k: v for k, v in (("style", style), ("bias", bias), ("seed", seed), ("check", check)) if v is not None}
    sampling = replace(sampling, **given)
    listed = jobs if isinstance(jobs, (JobList, JobStream)) else None  # the whole batch's names checked
    if isinstance(jobs, Mapping):
        jobs = text_jobs(jobs)
    elif not isinstance(jobs, JobStream):
        jobs = list(jobs)
    if listed is None:
        check_unique(jobs, envelopes=envelope is not None)
    elif listed.shard is not None and tuple(listed.shard) != shard:
        k, n = listed.shard
        raise OptionError(f"these jobs are shard {k}/{n} of their batch alone: give write_many the same "
                          f"shard=({k}, {n})")
    if (out_dir is None) == (one_file is None):
        raise OptionError("give an output folder (--out-dir) or one output file (--one-file -o FILE), not both")
    if one_file is not None:
        f, _ = plotter_setup(format_for(str(one_file), fmt).name, plotter, page)
        if f not in ("pdf", "plotter-svg"):
            raise OptionError(f"--one-file writes every document into one PDF (or plotter SVG), not {f}")
        if shard is not None:
            raise OptionError("--one-file writes a single file: it cannot be split into shards")
        check_writable(one_file)
    else:
        f, _ = plotter_setup(format_for(None, fmt or "pdf").name, plotter, page)
        if listed is None:
            check_page_names(jobs, FORMATS[f].per_page, envelope is not None)  # over every job, not only this shard's
        else:
            listed.names.check_pages(FORMATS[f].per_page)  # the same, over every shard's names
        out_dir = Path(out_dir)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)  # shards may race to make it: exist_ok
        except OSError as exc:
            raise OutputError(f"cannot make the output folder {str(out_dir)!r}: {exc.strerror or exc}") from None
        check_writable(out_dir / ".hwcli-check")
    env_page = None
    if envelope is not None:
        env_page = replace(page, page_size=envelope, ruled=False)
        if not env_page.envelope:
            raise OptionError(f"{envelope!r} is not an envelope size: use one of "
                              f"{', '.join(PO.size_name(n) for n in PO.ENVELOPE_SIZES)}")
        if not (listed is not None and listed.names.envelopes) and (isinstance(jobs, JobStream)
                                                                      or not any(j.envelope for j in jobs)):
            raise OptionError("envelopes need their text: give a mail merge an envelope template "
                              "(--envelope-template FILE)")
    if on_unsupported not in ("error", "skip"):
        raise OptionError(f"--on-unsupported must be 'error' or 'skip', got {on_unsupported!r}")
    if f == "png":
        from ..page.png import check_pixels

        check_pixels(page, dpi)
    comp = Composer.load(bundle, sampling, page.line_height, checker=checker)  # an unknown style, a recognizer
    # that cannot load: they fail now, not after sampling

    # this shard's jobs, gone over twice (checks, then sampling): a JobStream makes them again each time
    mine: Iterable[Job] = jobs if listed is not None and listed.shard is not None else _ShardOf(jobs, shard)
    report = BatchReport(total_jobs=listed.total if listed is not None else len(jobs), shard=shard, kept=keep_reports)
    if env_page is not None:
        plain = (listed.plain if isinstance(listed, JobStream) and listed.shard == shard
                 else sum(1 for j in mine if not j.problem))
    total = len(mine) + (plain if env_page is not None else 0)
    done = 0

    def listing() -> Iterator[tuple[int, Job, PageOptions]]:
        """(position, job, paper) of every document of the shard, letters and envelopes, in order."""
        k = 0
        for j in mine:
            yield k, j, page
            k += 1
            if env_page is not None and not j.problem:
                yield k, Job(j.name + ENVELOPE_SUFFIX, j.envelope, f"{j.source} envelope", j.problem), env_page
                k += 1

    def docs(wanted: Sequence[int] | None = None) -> Iterator[tuple[int, _Doc]]:
        """(position, document prepared: checked and counted) of every document, or of those at the positions
        `wanted` (ascending)."""
        at = 0
        for k, j, pg in listing():
            if wanted is not None:
                if at == len(wanted):
                    return
                if k != wanted[at]:
                    continue
                at += 1
            yield k, _prepare(j, comp, pg, on_unsupported, sampling.seed)

    def finished(d: _Doc) -> None:
        nonlocal done
        done += 1
        report._count(d.report)
        if progress:
            progress(done, total, d.report)

    def kept(d: _Doc, k: int) -> _Doc:
        """`d`, prepared again for sampling, with the report the checks gave it (when reports are kept)."""
        if keep_reports:
            d.report = report.docs[k]
        return d

    if one_file is not None:
        bad, n_bad, n_pages, first = [], 0, 0, None
        for k, d in docs():
            if keep_reports:
                report.docs.append(d.report)
            if d.report.status == "failed":
                n_bad += 1
                if len(bad) < 5:
                    bad.append(f"{d.job.source}: {d.report.error}")
            n_pages += d.report.pages
            first = d.text if first is None else first
        if bad:
            raise InputTextError(f"{n_bad} document(s) cannot be written: " + shorten(bad, 5, "; ")
                                 + (f" and {n_bad - len(bad):,} more" if n_bad > len(bad) else ""))
        if skip_existing and is_complete(one_file, f):
            for k, d in docs():
                d = kept(d, k)
                d.report.status, d.report.outputs = "skipped", [str(one_file)]
                finished(d)
            return report
        _write_one_file((kept(d, k) for k, d in docs()), total, n_pages, first or "", Path(one_file), f, plotter,
                        comp, page, group_lines, finished)
        return report

    ext = EXTENSIONS[f]
    pending = array("q")  # positions of the documents to sample (8 bytes each: the documents are not held)
    for k, d in docs():
        if keep_reports:
            report.docs.append(d.report)
        if d.report.status == "failed":
            finished(d)
            continue
        base = out_dir / (d.job.name + ext)  # (not kept: a Path a document, a million documents)
        try:  # every file this document will write, decided and checked before anything is sampled
            targets = page_paths(base, max(d.report.pages, 1), FORMATS[f])
            for t in targets:
                check_writable(t)  # a name too long for the file system, a folder in the way, ...
        except HwcliError as exc:
            d.report.status, d.report.error = "failed", str(exc)
            finished(d)
            continue
        if skip_existing and all(is_complete(t, f) for t in targets):
            d.report.status, d.report.outputs = "skipped", [str(t) for t in targets]
            finished(d)
        else:
            pending.append(k)

    def to_sample() -> Iterator[_Doc]:
        """The pending documents, prepared again, in order (a document whose job changed meanwhile and now fails
        its checks is reported here, not sampled)."""
        for k, d in docs(pending):
            d = kept(d, k)
            d.pos = k
            if d.report.status == "failed":
                late.add(k)
                finished(d)
                continue
            yield d

    late: set[int] = set()  # pending documents that failed when prepared again (reported already)
    for d, pages in _sampled(to_sample(), comp, group_lines):
        full = None
        try:
            doc = Document(lambda _report, pages=pages: iter(pages), len(pages), replace(d.page, seed=d.seed % 2**31),
                           title=_title(d.text))
            d.report.status, d.report.outputs = "written", doc.save(out_dir / (d.job.name + ext), f, dpi=dpi,
                                                                  plotter=plotter)
        except (HwcliError, OSError) as exc:
            d.report.status, d.report.error = "failed", str(exc)
            full = _no_space(exc)
        except Exception as exc:  # noqa: BLE001 - a renderer's bug must not cost the other documents
            log.exception("rendering %s failed", d.job.name)
            d.report.status, d.report.error = "failed", f"unexpected error (a bug in hwcli): {type(exc).__name__}: {exc}"
        finished(d)
        if full is not None:  # the rest would be sampled for nothing: stop here (nothing more is sampled)
            rest = {k for k in pending if k > d.pos and k not in late}
            for k, j, _pg in listing() if rest else ():  # named, not prepared (no sampling)
                if k in rest:
                    r = report.docs[k] if keep_reports else DocReport(name=j.name, source=j.source)
                    r.status = "failed"
                    r.error = f"not written: {full} (the batch stopped at {d.job.name!r}; free space and run again)"
                    finished(_Doc(j, r))
            break
    return report


class _ShardOf:
    """The jobs of shard (K, N) of a list of jobs (all of them with no shard), gone over as often as needed."""

    def __init__(self, jobs: Sequence[Job], shard: tuple[int, int] | None):
        self.jobs, self.shard = jobs, shard

    def __iter__(self) -> Iterator[Job]:
        return (j for i, j in enumerate(self.jobs) if in_shard(i, self.shard))

    def __len__(self) -> int:
        if self.shard is None:
            return len(self.jobs)
        k, n = self.shard
        return len(range(k - 1, len(self.jobs), n))


def _no_space(exc: BaseException) -> str | None:
    """'no space left on device' (or 'disk quota exceeded') when `exc` or an exception it was raised from is
    one (OutputError keeps the OSError it replaced as its context), else None."""
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 10:
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return describe_os_error(e)
        if isinstance(e, HwcliError) and "no space left on device" in str(e):
            return "no space left on device"
        e, seen = e.__cause__ or e.__context__, seen + 1
    return None


def _check_arguments(jobs, out_dir, sampling, page, fmt, skip_existing, shard, one_file, group_lines, progress, dpi,
                     plotter, keep_reports=True) -> None:
    """The Python API's arguments: a wrong type or value is an OptionError with a clear message (the CLI's
    values are right by construction)."""
    from ..checks import check_callable, check_flag, check_number, check_path, check_shard, check_type

    if isinstance(jobs, Mapping):
        bad = [f"{k!r}: {type(v).__name__}" for k, v in jobs.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise OptionError(f"documents must map names (str) to texts (str); not so for {shorten(bad, 5)}")
    elif isinstance(jobs, JobStream):
        pass  # made by merge_jobs / file_jobs: Jobs by construction
    elif isinstance(jobs, (str, bytes)) or not isinstance(jobs, Sequence):
        raise OptionError(f"documents must be a mapping name -> text or a list of hwcli.writing.jobs.Job, got "
                          f"{type(jobs).__name__}")
    else:
        bad = [f"{i}: {type(j).__name__}" for i, j in enumerate(jobs) if not isinstance(j, Job)]
        if bad:
            raise OptionError(f"documents must be hwcli.writing.jobs.Job items (or pass a mapping name -> text); not so at "
                              f"position(s) {shorten(bad, 5)}")
    check_path(out_dir, "out_dir", none=True)
    check_path(one_file, "one_file", none=True)
    check_type(sampling, SamplingOptions, "sampling", "a SamplingOptions")
    check_type(page, PageOptions, "page", "a PageOptions")
    check_type(fmt, str, "fmt", "a format name", none=True)
    check_flag(skip_existing, "skip_existing")
    check_flag(keep_reports, "keep_reports")
    check_shard(shard)
    check_number(group_lines, "group_lines", 1, 10**7, integer=True, none=True)
    check_callable(progress, "progress")
    check_number(dpi, "dpi", 10, 600)
    check_type(plotter, PlotterOptions, "plotter", "a PlotterOptions", none=True)


def _prepare(job: Job, comp: Composer, page: PageOptions, on_unsupported: str, seed: int) -> _Doc:
    """Check and lay out one job (no sampling): a _Doc whose report says 'failed' when it cannot be written."""
    d = _Doc(job, DocReport(name=job.name, source=job.source), page=page, seed=document_seed(seed, job.name))
    try:
        if job.problem:
            raise InputTextError(job.problem)
        text, marks = comp.prepare(job.text, on_unsupported)
        if not text.strip():
            raise InputTextError("no text to write (empty or only whitespace)")
        d.text = job.text if text == job.text else text  # the job's own string when nothing changed: held once
        last = None
        for last in comp.lay_out(text, page):  # counted, not kept: laid out again when its group is sampled
            d.report.lines += 1
        d.report.pages = last.page + 1 if last is not None else 0
        if marks:
            d.marks = marks  # the lines' inks are found when its group is laid out again (_lay_out)
            d.inks = document_colors(page.color, [c for _, c in marks])
    except HwcliError as exc:
        d.report.status, d.report.error = "failed", str(exc)
    return d


def _lay_out(d: _Doc, comp: Composer) -> None:
    """A document's lines (on its own paper: an envelope's differs) and their inks, laid out again when its group
    is sampled (a batch keeps only the counts from `_prepare`); the same text and options give the same layout."""
    d.lines = list(comp.lay_out(d.text, d.page))
    d.colors = line_colors([ln.text for ln in d.lines], d.marks) if d.marks else []


def _groups(docs: Sequence[_Doc], group_lines: int) -> Iterator[list[_Doc]]:
    """Consecutive documents of about `group_lines` lines in all (a longer document is a group alone)."""
    group: list[_Doc] = []
    n = 0
    for d in docs:
        group.append(d)
        n += d.report.lines
        if n >= group_lines:
            yield group
            group, n = [], 0
    if group:
        yield group


def _sampled(docs: Sequence[_Doc], comp: Composer, group_lines: int | None) -> Iterator[tuple[_Doc, list[Page]]]:
    """(document, its placed pages) for every document, in order, sampling a group of documents at a time
    (a group's documents are laid out here, and their lines dropped once they are written)."""
    size = group_lines or 8 * comp.sampling.batch_size
    for group in _groups(docs, size):
        for d in group:
            _lay_out(d, comp)
        texts = [ln.text for d in group for ln in d.lines]
        seeds = [unit_seed(d.seed, k) for d in group for k in range(len(d.lines))]
        log.info("sampling %d line(s) of %d document(s)", len(texts), len(group))
        results = iter(comp.sample(texts, seeds=seeds))
        for d in group:
            opts = replace(d.page, seed=d.seed % 2**31)  # the natural jitter is the document's own too
            pages = []
            first = 0
            for number, lines in group_pages(d.lines):
                page_results = [next(results) for _ in lines]
                pages.append(comp.place_page(number, lines, page_results, opts, d.report,
                                             d.colors[first:first + len(lines)], d.inks))
                first += len(lines)
            d.lines, d.colors = (), ()
            yield d, pages
        del results


def _write_one_file(docs: Iterable[_Doc], n_docs: int, n_pages: int, first_text: str, out: Path, f: str, plotter,
                    comp: Composer, page: PageOptions, group_lines: int | None,
                    finished: Callable[[_Doc], None]) -> None:
    """Every document into one file, each from a new page; pages are rendered as their group is sampled."""
    written: list[DocReport] = []

    def pages() -> Iterator[Page]:
        number = 0
        for d, pgs in _sampled(docs, comp, group_lines):
            for pg in pgs:
                pg.number = number
                number += 1
                yield pg
            written.append(d.report)
            d.report.status, d.report.outputs = "written", [str(out)]
            finished(d)

    title = f"{n_docs} documents" if n_docs != 1 else _title(first_text)
    try:
        Document(lambda _report: pages(), n_pages, page, title=title).save(out, f, plotter=plotter)
    except BaseException:
        for r in written:  # (one file: its documents' reports are held anyway, as the file's pages are)
            r.status, r.outputs = "failed", []
        raise
