"""The independent reader's floor: how tesseract, as `hwcli eval --reader tesseract` runs it, reads a line set
*typed* in a font rather than handwritten. Characters it misreads even in clean type (an en dash read as a hyphen,
a bullet as an asterisk, ± as +, ș as s ...) cost handwriting the same, however well written, so this says how
much of a set's tesseract CER no writer can win back.

    python scripts/ocr_floor.py --set everyday            # DejaVu Sans, 5 mm em, 200 dpi, --psm 7, eval's -l
    python scripts/ocr_floor.py --input lines.txt --font /usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf

Each line is drawn black on white with a 2 mm border and read by `hwcli.evaluation.ocr.read_images`, the reader
`hwcli eval` uses (one tesseract process, `--psm 7`, `--dpi`), with the language data `accent_languages` picks. Prints the CER, every line read wrong, and the characters missed most.
"""
from __future__ import annotations

import argparse
import collections
import difflib
import sys
from pathlib import Path

import numpy as np

DEFAULT_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                 "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--set", choices=("everyday", "charset"), default="everyday",
                     help="hwcli eval's built-in lines (charset: each context line once)")
    src.add_argument("--input", type=Path, help="text lines, one per line")
    ap.add_argument("--font", type=Path, default=None, help="a TrueType font (default: DejaVu Sans or Liberation Sans)")
    ap.add_argument("--size-mm", type=float, default=5.0, help="the font's em size on the page (default 5 mm)")
    a = ap.parse_args(argv)

    from PIL import Image, ImageDraw, ImageFont

    from hwcli.evaluation.charset_sets import CHARSET_CONTEXTS, EVERYDAY
    from hwcli.errors import HwcliError
    from hwcli.evaluation.ocr import BORDER_MM, DPI, accent_languages, read_images
    from hwcli.recognizer.reading import edit_distance

    font_path = a.font or next((Path(f) for f in DEFAULT_FONTS if Path(f).is_file()), None)
    if font_path is None or not font_path.is_file():
        ap.error("no font: pass --font FILE.ttf (Debian: fonts-dejavu-core)")
    if a.input is not None:
        try:
            texts = [ln.strip() for ln in a.input.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            ap.error(f"cannot read {a.input}: {exc}")
    else:
        texts = list(EVERYDAY if a.set == "everyday" else CHARSET_CONTEXTS)
    if not texts:
        ap.error("no lines to read")
    px_per_mm = DPI / 25.4
    font = ImageFont.truetype(str(font_path), max(int(round(a.size_mm * px_per_mm)), 8))
    pad = int(round(BORDER_MM * px_per_mm))
    langs = accent_languages()
    images = []
    for t in texts:
        left, top, right, bottom = font.getbbox(t)
        im = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), "white")
        ImageDraw.Draw(im).text((pad - left, pad - top), t, font=font, fill="black")
        images.append(np.asarray(im, np.uint8))
    try:
        hyps = read_images(images, DPI, langs)  # as `hwcli eval --reader tesseract` reads sampled lines
    except HwcliError as exc:
        print(f"ocr_floor.py: {exc}", file=sys.stderr)
        return 1
    errors = chars = 0
    missed: collections.Counter = collections.Counter()
    for t, h in zip(texts, hyps):
        ref = " ".join(t.split())
        e = edit_distance(ref, h)
        errors += e
        chars += len(ref)
        if e:
            print(f"{ref!r} -> {h!r}")
            for op, i1, i2, _, _ in difflib.SequenceMatcher(None, ref, h, autojunk=False).get_opcodes():
                if op in ("replace", "delete"):
                    missed.update(ref[i1:i2])
    print(f"{len(texts)} lines typed in {font_path.name} at {a.size_mm:g} mm, {DPI} dpi, -l {langs}: "
          f"tesseract CER {errors / max(chars, 1):.4f}")
    if missed:
        print("missed most: " + " ".join(f"{c!r} {n}" for c, n in missed.most_common(20)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
