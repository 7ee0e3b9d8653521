"""An independent reader: lines rendered as the page renders them, read by Tesseract OCR.

The bundled recognizer learnt from the same data as the synthesis network and drives its self-check, so it
cannot be the only judge of legibility. Tesseract (a separate program, `tesseract-ocr` on Debian; not a
Python dependency of hwcli) knows nothing of either: each line is placed at the size a page would give it,
drawn with the page's pen and curves at 200 dpi, trimmed to its ink with a small white border, and read as a
single text line (``--psm 7``). All lines of a call go to one tesseract process through a list file.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import HwcliError
from ..page.options import PageOptions
from ..page.placement import Page
from ..page.png import encode_png, rasterize_page
from ..strokes import to_points

DPI = 200
BORDER_MM = 2.0
TIMEOUT_S_PER_LINE = 10.0


class ReaderMissingError(HwcliError):
    """The OCR program is not installed."""


def tesseract_path(needed_by: str = "--reader tesseract") -> str:
    """The tesseract executable, or a ReaderMissingError that says what needs it and how to install it."""
    exe = shutil.which("tesseract")
    if exe is None:
        raise ReaderMissingError(f"{needed_by} needs the tesseract program, which is not installed "
                                 "(Debian/Ubuntu: apt-get install tesseract-ocr; macOS: brew install tesseract)")
    return exe


#: Tesseract language data for the accented letters of `alphabet.CHARSET` (Debian: tesseract-ocr-fra, -deu, ...);
#: `accent_languages` keeps the installed ones.
ACCENT_LANGUAGES = ("eng", "fra", "deu", "pol", "ces", "slk", "hun", "ron", "tur", "hrv", "spa", "por", "ita",
                    "nld", "swe", "dan", "nor")


def installed_languages() -> list[str]:
    """The language data tesseract has (``tesseract --list-langs``); [] when it cannot say."""
    try:
        proc = subprocess.run([tesseract_path(), "--list-langs"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lower().startswith("list of")]


def accent_languages() -> str:
    """``-l`` for lines in many European languages: those of `ACCENT_LANGUAGES` that are installed ("eng" at
    least), joined by '+'."""
    have = set(installed_languages())
    return "+".join(lang for lang in ACCENT_LANGUAGES if lang in have or lang == "eng")


def line_image(offsets: np.ndarray, mm_per_unit: float, page: PageOptions = PageOptions(), dpi: float = DPI) -> np.ndarray:
    """One line of offsets (model units) -> uint8 RGB pixels of its ink at page size, trimmed, white border."""
    pts = to_points(np.asarray(offsets, np.float32)).astype(np.float64)
    if len(pts) == 0:
        return np.full((8, 8, 3), 255, np.uint8)
    xy = pts[:, :2] * mm_per_unit
    pad = BORDER_MM + page.width
    xy -= xy.min(axis=0) - pad
    w, h = xy.max(axis=0) + pad
    placed = np.column_stack([xy, pts[:, 2]])
    sheet = Page(number=0, width_mm=float(w), height_mm=float(h), lines=[placed])
    return rasterize_page(sheet, page, dpi)  # the page's pen and ink; the sheet has no ruling


def read_lines(lines: Sequence[np.ndarray], mm_per_unit: float, page: PageOptions = PageOptions(),
               dpi: float = DPI, languages: str = "eng") -> list[str]:
    """Tesseract's reading of each line (offsets in model units), in order, with the language data
    `languages` (tesseract's ``-l``: "eng", or "eng+fra+deu" ..., see `accent_languages`)."""
    return read_images([line_image(off, mm_per_unit, page, dpi) for off in lines], dpi, languages)


def read_images(images: Sequence[np.ndarray], dpi: float = DPI, languages: str = "eng") -> list[str]:
    """Tesseract's reading of each one-line image (uint8 RGB pixels at `dpi`), in order, with the language data
    `languages`: one tesseract process for all of them, through a list file, each read as a single text line
    (``--psm 7``). A line tesseract finds no text in reads as ""."""
    exe = tesseract_path()
    if not images:
        return []
    with tempfile.TemporaryDirectory(prefix="hwcli-ocr-") as tmp:
        names = []
        for i, img in enumerate(images):
            p = Path(tmp) / f"line-{i:05d}.png"
            p.write_bytes(encode_png(img, dpi))
            names.append(str(p))
        listing = Path(tmp) / "lines.txt"
        listing.write_text("\n".join(names) + "\n")
        try:
            proc = subprocess.run([exe, str(listing), "stdout", "--psm", "7", "-l", languages, "--dpi", str(int(dpi))],
                                  capture_output=True, timeout=30 + TIMEOUT_S_PER_LINE * len(images), check=False)
        except subprocess.TimeoutExpired:
            raise HwcliError("tesseract took too long to read the lines") from None
        if proc.returncode != 0:
            msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise HwcliError(f"tesseract failed: {msg[-1] if msg else f'exit {proc.returncode}'}")
    pages = proc.stdout.decode("utf-8", "replace").split("\f")
    texts = [" ".join(p.split()) for p in pages]
    if len(texts) < len(images):
        texts += [""] * (len(images) - len(texts))
    return texts[: len(images)]
