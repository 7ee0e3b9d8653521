"""hwcli: realistic handwriting from text.

    import hwcli
    doc = hwcli.write("Dear John", style=3, bias=0.8)    # -> Document (pages of placed strokes + report)
    doc.save("letter.pdf")                               # or .svg / .png, a stream, format="svg"

Public API (imported lazily so that the CLI starts fast):
    write(text, style=, bias=, seed=, check=, page=, model=, progress=, ...) -> Document
    write_many(jobs, out_dir, ...)        -> BatchReport: many documents in one process (mail merge, shards)
    load_model(name_or_path=None)         -> Bundle (a bundled model's name, e.g. "hwcli-prediction", or a path)
    Document, PageOptions, SamplingOptions  the types `write` takes and returns
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["write", "write_many", "load_model", "Document", "PageOptions", "SamplingOptions", "__version__"]

from .arithmetic import configure as _configure_arithmetic

_configure_arithmetic()  # before any hwcli module imports torch: MKL's path is fixed when it first runs


def __getattr__(name: str):
    # each name imports its module on first use: `import hwcli` (and so `hwcli --help`) loads no torch
    from importlib import import_module

    if name in ("write", "Document"):
        return getattr(import_module(".writing.document", __name__), name)
    if name == "write_many":
        return import_module(".writing.batch", __name__).write_many
    if name == "load_model":
        return import_module(".model.bundle", __name__).load_model
    if name == "PageOptions":
        return import_module(".page.options", __name__).PageOptions
    if name == "SamplingOptions":
        return import_module(".synthesis", __name__).SamplingOptions
    if name == "jobs":  # README: hwcli.jobs.merge_jobs(...) makes the jobs of a mail merge
        return import_module(".writing.jobs", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
