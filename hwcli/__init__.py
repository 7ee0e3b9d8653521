"""hwcli: realistic handwriting from text.

    import hwcli
    doc = hwcli.write("Dear John", style=3, bias=0.8)    # -> Document (pages of placed strokes + report)
    doc.save("letter.pdf")                               # or .svg / .png, a stream, format="svg"

Public API (imported lazily so that the CLI starts fast):
    write(text, style=, bias=, seed=, check=, page=, model=, progress=, ...) -> Document
    load_model(name_or_path=None)         -> Bundle (a bundled model's name, e.g. "hwcli-prediction", or a path)
    Document, PageOptions, SamplingOptions  the types `write` takes and returns
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["write", "load_model", "Document", "PageOptions", "SamplingOptions", "__version__"]

_LAZY = {
    "write": "document",
    "Document": "document",
    "load_model": "model.bundle",
    "PageOptions": "page.layout",
    "SamplingOptions": "synthesis",
}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
