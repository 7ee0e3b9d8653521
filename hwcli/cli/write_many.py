"""`hwcli write` with many documents: several --input files or globs, or a mail merge (--template with
--data), into --out-dir (or --one-file); --skip-existing and --shard K/N for resumable, split runs.
Called by `write.write_cmd` when one of these options is given (it owns the option definitions)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import typer

from .common import clean_progress, err_console


def run(*, texts: list[str], inputs: list[str], template: Path | None, data: Path | None,
        name_column: str | None, name: str | None, out_dir: Path | None, one_file: bool, output: str,
        output_given: bool, fmt: str | None, skip_existing: bool, shard: str | None, quiet: bool,
        envelope_template: Path | None = None, envelope: str | None = None,
        load: Callable[[], tuple], options: Callable[[object], dict]) -> None:
    """Validate the batch options, build the jobs (every input problem listed before the model loads),
    write them with `hwcli.writing.batch.write_many`, print a per-document summary; exit 1 when any failed."""
    from ..errors import OptionError
    from ..writing.jobs import file_jobs, merge_jobs, parse_shard

    shard_kn = parse_shard(shard) if shard is not None else None
    if (template is None) != (data is None):
        raise OptionError("a mail merge needs both --template FILE and --data FILE.csv")
    if template is not None and (inputs or texts):
        raise OptionError("give --input files or a mail merge (--template with --data), not both")
    if (name_column or name) and template is None:
        raise OptionError("--name and --name-column name the documents of a mail merge (--template, --data)")
    if one_file:
        if out_dir is not None:
            raise OptionError("--one-file writes one file (-o FILE.pdf): leave out --out-dir")
        target = output
    else:
        if out_dir is None:
            raise OptionError("many documents need --out-dir DIR (one file each) or --one-file -o FILE.pdf")
        if output_given:
            raise OptionError("-o names one file: with --out-dir each document is named after its input "
                              "(or --one-file -o FILE.pdf puts them all in one file)")
        if output == "-":
            raise OptionError("many documents cannot go to standard output")
        target = None
    if template is not None:
        jobs = merge_jobs(template, data, name_column, name, envelope_template, shard=shard_kn, stream=True)
    else:
        if not inputs and not texts:
            raise OptionError("no input: give --input FILE... (or quoted globs like 'letters/*.txt')")
        jobs = file_jobs(inputs + texts, out_dir, shard=shard_kn, stream=True)  # arguments after --input a.txt are more inputs

    bundle, style = load()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..writing.batch import write_many

    with clean_progress(Progress(TextColumn("writing"), BarColumn(), MofNCompleteColumn(), TextColumn("documents"),
                                 TimeRemainingColumn(), console=err_console, disable=quiet, transient=True)) as bar:
        task = bar.add_task("write", total=None)

        def on_doc(done: int, total: int, doc) -> None:
            # each document's lines as it is finished (nothing is held for a summary at the end: a run of a
            # million documents keeps no reports, write_many(keep_reports=False))
            bar.update(task, completed=done, total=total)
            if doc.status == "failed":  # as it happens: problems found up front show before any sampling
                where = "" if doc.source in doc.error else f"{doc.source}: "
                bar.console.print(f"hwcli: error: {where}{doc.error}", markup=False, soft_wrap=True)
            for bad in doc.failed:
                bar.console.print(f"hwcli: warning: {doc.name} page {bad.page} line {bad.line} may be illegible "
                                  f"({bad.reason}): {bad.text!r}", markup=False, soft_wrap=True)
            if not quiet:
                what = (", ".join(doc.outputs) if doc.status != "failed" else doc.error)
                extra = f", {doc.pages} page(s)" if doc.status == "written" else ""
                bar.console.print(f"{doc.status:>7}  {doc.name}{extra}: {what}", markup=False, soft_wrap=True)

        report = write_many(jobs, out_dir, bundle, fmt=fmt, skip_existing=skip_existing, keep_reports=False,
                            shard=shard_kn, one_file=target, progress=on_doc, envelope=envelope, **options(style))
    if not quiet:
        counts = {s: report.counts.get(s, 0) for s in ("written", "skipped", "failed")}
        where = (f" (shard {shard_kn[0]}/{shard_kn[1]}: {sum(report.counts.values())} of {report.total_jobs} "
                 "documents)" if shard_kn else "")
        err_console.print(f"{counts['written']} written, {counts['skipped']} skipped (already there), "
                          f"{counts['failed']} failed{where}", markup=False, soft_wrap=True)
    if report.counts.get("failed"):
        raise typer.Exit(1)
