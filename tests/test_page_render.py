"""SVG, PDF and PNG renderers, checked the way a user would: parse the SVG, open the PDF, decode the PNG."""
from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import time
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np
import pytest

from hwcli.errors import OptionError
from hwcli.page.options import PageOptions, lines_per_page
from hwcli.page.pdf import render_pdf
from hwcli.page.placement import Page, build_page, curve_controls
from hwcli.page.png import page_pixels, render_png
from hwcli.page.svg import render_svg, stroke_path_data
from page_helpers import layout_text, place_pages
from hwcli.strokes import points_from_strokes, to_offsets

SVG_NS = "{http://www.w3.org/2000/svg}"


def wave_line(n_points: int = 600, seed: int = 0) -> np.ndarray:
    """Synthetic line offsets (model units, y down): a sine-wave scribble split into 'words', and a dot."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 60, n_points)
    y = -0.5 - 0.5 * np.sin(x * 3.0) + rng.normal(0, 0.01, n_points)
    words = np.array_split(np.stack([x, y], 1), 8)
    return to_offsets(points_from_strokes(words + [np.array([[2.0, -1.8]])]))


def make_pages(n_pages: int = 1, opts: PageOptions | None = None, lines_per: int = 25) -> list[Page]:
    opts = opts or PageOptions()
    text = "\n".join("some words here" for _ in range(n_pages * lines_per_page(opts)))
    lines = [ln for ln in layout_text(text, opts, char_width=2.5) if ln.index < lines_per]
    return place_pages(((ln, wave_line(seed=i)) for i, ln in enumerate(lines)), 0.4, opts)


def dot_page(opts: PageOptions, at=(100.0, 150.0)) -> Page:
    """A page whose only ink is a single-point stroke (a dot)."""
    return build_page(0, [np.array([[at[0], at[1], 1.0]], np.float32)], opts)


# ----------------------------------------------------------------------------- SVG
def path_numbers(d: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]).reshape(-1, 2)


def test_svg_structure_and_coordinates():
    opts = PageOptions(ruled=True, color="#123456", width=0.7)
    page = make_pages(1, opts)[0]
    buf = io.BytesIO()
    render_svg(page, buf, opts)
    root = ET.fromstring(buf.getvalue())
    assert root.tag == SVG_NS + "svg"
    assert root.get("width") == "210mm" and root.get("height") == "297mm"
    assert root.get("viewBox") == "0 0 210 297"
    ink = root.find(f"{SVG_NS}g[@id='ink']")
    assert ink.get("stroke") == "#123456" and ink.get("fill") == "none"
    assert ink.get("stroke-linecap") == "round" and float(ink.get("stroke-width")) == 0.7
    paths = ink.findall(f"{SVG_NS}path")
    assert len(paths) == 25
    for p in paths:
        d = p.get("d")
        assert d.startswith("M") and " C" in d
        assert set(re.findall(r"[A-Za-z]", d)) <= {"M", "C", "S", "L"}
        xy = path_numbers(d)
        assert (xy[:, 0] > 0).all() and (xy[:, 0] < 210).all()
        assert (xy[:, 1] > 0).all() and (xy[:, 1] < 297).all()
    ruling = root.find(f"{SVG_NS}g[@id='ruling']")
    assert len(ruling.findall(f"{SVG_NS}line")) == 25 + 1


def test_svg_smooth_segments_are_the_catmull_rom_curve():
    """'S' mirrors the previous control point; that must equal the spline's own control points."""
    t = np.linspace(0, 3, 15)
    stroke = np.stack([20 + 5 * t, 50 + 2 * np.sin(3 * t)], 1)
    d = stroke_path_data(stroke)
    cmds = re.findall(r"([MCSL])([^MCSL]*)", d)
    assert [c for c, _ in cmds] == ["M", "C"] + ["S"] * 13
    c1, c2 = curve_controls(stroke)
    cur = path_numbers(cmds[0][1])[0]
    prev_c2 = None
    for k, (cmd, args) in enumerate(cmds[1:]):
        xy = path_numbers(args)
        a, b, end = (xy[0], xy[1], xy[2]) if cmd == "C" else (2 * cur - prev_c2, xy[0], xy[1])
        assert np.allclose([a, b, end], [c1[k], c2[k], stroke[k + 1]], atol=0.02)  # 0.01 mm rounding, mirrored
        cur, prev_c2 = end, b


def test_svg_dot_and_plain_paper():
    opts = PageOptions()
    buf = io.BytesIO()
    render_svg(dot_page(opts), buf, opts)
    root = ET.fromstring(buf.getvalue())
    assert root.find(f"{SVG_NS}g[@id='ruling']") is None
    (path,) = root.iter(SVG_NS + "path")
    xy = path_numbers(path.get("d"))
    assert np.allclose(xy, [[100, 150], [100.01, 150]])  # a tiny segment: round caps make it a dot


def test_svg_page_paths(tmp_path: Path):
    from hwcli.page.formats import FORMATS, page_paths

    svg = FORMATS["svg"]
    assert page_paths(tmp_path / "out.svg", 1, svg) == [tmp_path / "out.svg"]
    assert page_paths(tmp_path / "out.svg", 3, svg) == [tmp_path / f"out-{i}.svg" for i in (1, 2, 3)]
    assert page_paths("notes", 2, svg) == [Path("notes-1.svg"), Path("notes-2.svg")]
    assert page_paths("-", 1, svg) == [Path("-")]
    with pytest.raises(OptionError):
        page_paths("-", 2, svg)


# ----------------------------------------------------------------------------- PDF
def test_pdf_pages_paths_and_metadata():
    pypdf = pytest.importorskip("pypdf")
    opts = PageOptions(ruled=True)
    buf = io.BytesIO()
    n = render_pdf(iter(make_pages(3, opts, lines_per=4)), buf, opts)
    assert n == 3
    reader = pypdf.PdfReader(io.BytesIO(buf.getvalue()))
    assert len(reader.pages) == 3
    assert reader.metadata.title == "hwcli" and reader.metadata.creator == "hwcli"
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(210 / 25.4 * 72, abs=0.01)
        assert float(page.mediabox.height) == pytest.approx(297 / 25.4 * 72, abs=0.01)
        content = page.get_contents().get_data()
        assert content.count(b" c\n") > 1000  # Bezier curves
        assert re.search(rb"\d m\b", content) and re.search(rb"\bS\b", content)
        assert b"1 J" in content and b"1 j" in content  # round caps and joins
        assert b"2.834646 0 0 -2.834646 0 841.8898 cm" in content  # mm, y flipped: top-left origin
        assert b"BT" not in content.replace(b"BT /F1 12 Tf 14.4 TL ET", b"")  # no text objects
    # all ink in mm inside the page: read the curve operands (user space is page mm after the flip)
    nums = re.findall(rb"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) c\n", content)
    xy = np.array(nums, float).reshape(-1, 2)
    assert (xy[:, 0] > 0).all() and (xy[:, 0] < 210).all() and (xy[:, 1] > 0).all() and (xy[:, 1] < 297).all()


def test_pdf_is_deterministic_and_never_empty():
    pypdf = pytest.importorskip("pypdf")
    opts = PageOptions()
    pages = make_pages(1, opts, lines_per=3)
    a, b = io.BytesIO(), io.BytesIO()
    render_pdf(pages, a, opts)
    render_pdf(pages, b, opts)
    assert a.getvalue() == b.getvalue()
    empty = io.BytesIO()
    assert render_pdf([], empty, opts) == 0
    assert len(pypdf.PdfReader(io.BytesIO(empty.getvalue())).pages) == 1


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler's pdftoppm")
def test_pdf_renders_where_the_svg_puts_ink(tmp_path: Path):
    """Rasterise with poppler: ink of the first line must be near the top of the page, not the bottom."""
    opts = PageOptions(color="black")
    page = make_pages(1, opts, lines_per=1)[0]
    with open(tmp_path / "p.pdf", "wb") as fh:
        render_pdf([page], fh, opts)
    pgm = subprocess.run(["pdftoppm", "-r", "30", "-gray", str(tmp_path / "p.pdf")],
                         capture_output=True, check=True).stdout
    magic, w, h, maxval, _ = pgm.split(maxsplit=4)
    assert magic == b"P5" and maxval == b"255"
    w, h = int(w), int(h)
    pix = np.frombuffer(pgm[-w * h:], np.uint8).reshape(h, w)  # binary body: the last w*h bytes
    rows = np.nonzero((pix < 128).any(axis=1))[0]
    assert len(rows) and rows.min() > 15 / 25.4 * 30 and rows.max() < 35 / 25.4 * 30  # around the 30 mm baseline


def test_pdf_dot_is_drawn():
    pypdf = pytest.importorskip("pypdf")
    opts = PageOptions()
    buf = io.BytesIO()
    render_pdf([dot_page(opts)], buf, opts)
    content = pypdf.PdfReader(io.BytesIO(buf.getvalue())).pages[0].get_contents().get_data()
    assert b"100.00 150.00 m 100.01 150.00 l" in content


# ----------------------------------------------------------------------------- PNG
def decode_png(data: bytes) -> tuple[np.ndarray, dict]:
    """Tiny PNG reader for 8-bit RGB/RGBA (all five filter types): -> (H, W, C) uint8, chunk dict."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, idat = 8, {}, b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(tag + body) & 0xFFFFFFFF
        chunks[tag] = body
        idat += body if tag == b"IDAT" else b""
        pos += 12 + n
    w, h, depth, ctype = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and ctype in (2, 6)
    ch = 3 if ctype == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * ch)
    out = np.zeros((h, w * ch), np.int32)
    prev = np.zeros(w * ch, np.int32)
    for i in range(h):
        f, row = raw[i, 0], raw[i, 1:].astype(np.int32)
        if f == 0:
            cur = row
        elif f == 2:
            cur = (row + prev) % 256
        else:  # filters 1, 3, 4 depend on the left neighbour: decode byte by byte
            cur = np.zeros_like(row)
            for j in range(len(row)):
                a = cur[j - ch] if j >= ch else 0
                b, c = prev[j], (prev[j - ch] if j >= ch else 0)
                if f == 1:
                    pred = a
                elif f == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[j] = (row[j] + pred) % 256
        out[i] = prev = cur
    return out.astype(np.uint8).reshape(h, w, ch), chunks


def test_png_size_ink_and_colour():
    opts = PageOptions(ruled=True, color="#b00020")
    page = make_pages(1, opts)[0]
    buf = io.BytesIO()
    render_png(page, buf, opts, dpi=100)
    img, chunks = decode_png(buf.getvalue())
    w, h = round(210 / 25.4 * 100), round(297 / 25.4 * 100)
    assert img.shape == (h, w, 3) and page_pixels(page, 100) == (w, h)
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (w, h)
    ink = (img == (0xB0, 0x00, 0x20)).all(axis=2)
    assert ink.sum() > 2000  # fully covered pixels only; the soft edges are blends
    ys, xs = np.nonzero(ink)
    px_per_mm = 100 / 25.4
    assert xs.min() >= (opts.margin - 1) * px_per_mm and xs.max() <= (210 - opts.margin + 1) * px_per_mm
    assert (img[5, 5] == 255).all()  # white paper in the corner
    rule_row = int(round(30 * px_per_mm - 0.5))  # first baseline, 30 mm from the top
    assert (img[rule_row, 2] != 255).any() and (img[rule_row, 2, 2] > img[rule_row, 2, 0])  # faint blue


def test_png_dot_is_visible_and_transparent_mode():
    opts = PageOptions(color="black", width=0.5)
    buf = io.BytesIO()
    render_png(dot_page(opts, at=(100.0, 150.0)), buf, opts, dpi=150, transparent=True)
    img, _ = decode_png(buf.getvalue())
    assert img.shape[2] == 4
    s = 150 / 25.4
    cy, cx = int(150 * s), int(100 * s)
    assert img[cy, cx, 3] == 255 and (img[cy, cx, :3] == 0).all()
    assert 4 <= (img[..., 3] > 128).sum() <= 40  # a dot about 0.5 mm wide, nothing else
    assert img[0, 0, 3] == 0


def test_png_bad_dpi():
    with pytest.raises(OptionError):
        render_png(dot_page(PageOptions()), io.BytesIO(), PageOptions(), dpi=0)


def test_png_a4_page_is_fast():
    opts = PageOptions(ruled=True)
    page = make_pages(1, opts)[0]
    assert sum(len(p) for p in page.lines) >= 25 * 600
    start = time.perf_counter()
    render_png(page, io.BytesIO(), opts, dpi=150)
    # about 0.4 s on one free core; generous because CI machines are shared
    assert time.perf_counter() - start < 4.0
