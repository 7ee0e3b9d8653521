"""hwcli: realistic handwriting from text.

Public API (imported lazily so that the CLI starts fast):
    load_model(path=None)                -> Bundle
    synthesize(bundle, lines, ...)       -> list of stroke arrays
    write_document(text, out, ...)       -> write a handwritten SVG/PDF/PNG
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["load_model", "synthesize", "write_document", "__version__"]


def __getattr__(name: str):
    if name == "load_model":
        from .model.bundle import load_model

        return load_model
    if name == "synthesize":
        from .synthesis import synthesize

        return synthesize
    if name == "write_document":
        from .document import write_document

        return write_document
    raise AttributeError(name)
