"""PNG renderer: one Page -> an anti-aliased raster PNG, with numpy and the standard library only.

Rasterisation: every stroke is the same Catmull-Rom curve the vector renderers draw
(`curve_controls`), flattened into short straight segments. For each segment, every pixel centre
in a small box around it gets the coverage ``clip(r - d + 0.5, 0, 1)`` where ``d`` is its distance
to the segment and ``r`` the pen radius (a thick line with a one-pixel soft edge and round caps);
overlapping segments combine with ``max``, so self-crossing ink does not darken. All segments of a
page are processed in fixed-size batches of equal boxes, which keeps it vectorised and memory bounded.

Encoding: 8-bit RGB (or RGBA when transparent), filter 0, zlib, with a pHYs chunk so viewers
know the dpi. Pixel (i, j) covers page mm ``[j, j+1) * 25.4 / dpi`` across, rows from the top.
"""
from __future__ import annotations

import math
import struct
import zlib
from typing import BinaryIO

import numpy as np

from ..errors import OptionError
from ..strokes import split_strokes
from .options import PageOptions, color_rgb
from .paper import MARGIN_RGB, RULE_RGB, RULE_WIDTH
from .placement import Page, curve_controls

MIN_STEP_PX = 3.0  # segments longer than max(this, pen radius) are split, so every box stays small
BATCH_PIXELS = 1 << 17  # pixel-segment pairs per vectorised batch: small enough to stay in cache
MAX_DPI = 600  # an A4 page at 600 dpi is already 35 Mpx
# ~13 bytes per pixel while rendering (coverage, RGB image, filtered rows, compressed copy): 80 Mpx is ~1 GiB,
# enough for A3 at 600 dpi; a 2000 x 2000 mm page at 600 dpi (2.2 Gpx, tens of GiB) is refused up front
MAX_PIXELS = 80_000_000


def check_pixels(opts: PageOptions, dpi: float) -> None:
    """OptionError (before any sampling) when a page of `opts` at `dpi` would exceed `MAX_PIXELS`."""
    w_mm, h_mm = opts.page_mm
    w, h = max(1, round(w_mm * dpi / 25.4)), max(1, round(h_mm * dpi / 25.4))
    if w * h > MAX_PIXELS:
        raise OptionError(f"a {w_mm:g} x {h_mm:g} mm page at {dpi:g} dpi is {w} x {h} = {w * h / 1e6:.0f} Mpx; "
                          f"PNG output is limited to {MAX_PIXELS / 1e6:.0f} Mpx per page: lower --dpi, use a smaller "
                          "--page-size, or write PDF/SVG")


def page_pixels(page: Page, dpi: float) -> tuple[int, int]:
    """(width_px, height_px) of a page at `dpi`: mm * dpi / 25.4, rounded."""
    return (max(1, round(page.width_mm * dpi / 25.4)), max(1, round(page.height_mm * dpi / 25.4)))


# ----------------------------------------------------------------------------- geometry
def _flatten(stroke_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One stroke ``(n, 2)`` in px -> straight segments (a, b), each ``(m, 2)``, along its curve."""
    if len(stroke_px) == 1:
        return stroke_px, stroke_px  # a dot: a zero-length segment draws a disc
    p0, p1 = stroke_px[:-1], stroke_px[1:]
    c1, c2 = curve_controls(stroke_px)
    chord = np.linalg.norm(p1 - p0, axis=1)
    # a few sub-steps per Bezier follow its curvature; very short ones are straight enough
    k = np.where(chord < 1.5, 1, np.where(chord < 4, 2, 4))
    pa, pb = [], []
    for kk in (1, 2, 4):
        sel = k == kk
        if not sel.any():
            continue
        t = np.linspace(0.0, 1.0, kk + 1)[None, :, None]
        q = ((1 - t) ** 3 * p0[sel, None] + 3 * (1 - t) ** 2 * t * c1[sel, None]
             + 3 * (1 - t) * t ** 2 * c2[sel, None] + t ** 3 * p1[sel, None])
        pa.append(q[:, :-1].reshape(-1, 2))
        pb.append(q[:, 1:].reshape(-1, 2))
    return np.concatenate(pa), np.concatenate(pb)


def _thin(a: np.ndarray, b: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge a flattened stroke's segments into pieces about `spacing` px long (ends kept).

    A thick pen costs (segments x box area); under a wide nib, a chord of a third of the radius
    strays from the curve by a fraction of a pixel, so the extra segments only cost time.
    """
    pts = np.concatenate([a, b[-1:]])
    cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(b - a, axis=1))])
    keep = np.concatenate([[True], np.diff(np.floor(cum / spacing)) > 0])
    keep[-1] = True
    pts = pts[keep]
    if len(pts) == 1:
        return pts, pts
    return pts[:-1], pts[1:]


def _split_long(a: np.ndarray, b: np.ndarray, step: float, ra: np.ndarray | None = None,
                rb: np.ndarray | None = None):
    """Cut segments longer than `step` px into equal pieces no longer than `step` (radii `ra`->`rb`
    interpolated along when given). Returns (a, b) or (a, b, ra, rb)."""
    n = np.maximum(1, np.ceil(np.linalg.norm(b - a, axis=1) / step)).astype(np.int64)
    if (n == 1).all():
        return (a, b) if ra is None else (a, b, ra, rb)
    idx = np.repeat(np.arange(len(a)), n)
    first = np.repeat(np.cumsum(n) - n, n)
    j = (np.arange(len(idx)) - first)[:, None]
    d = (b - a)[idx] / n[idx, None]
    if ra is None:
        return a[idx] + d * j, a[idx] + d * (j + 1)
    dr = (rb - ra)[idx] / n[idx]
    return a[idx] + d * j, a[idx] + d * (j + 1), ra[idx] + dr * j[:, 0], ra[idx] + dr * (j[:, 0] + 1)


def rasterize_segments(a: np.ndarray, b: np.ndarray, radius, shape: tuple[int, int],
                       radius_b: np.ndarray | None = None) -> np.ndarray:
    """Coverage ``(H, W)`` float32 in [0, 1] of round-capped thick segments a->b (``(S, 2)`` px, x right, y down).

    `radius` is one pen radius (px), or with `radius_b` per-segment radii ``(S,)`` at a and at b: the
    radius then varies linearly along each segment (pressure-like ink).
    """
    h, w = shape
    cov = np.zeros(h * w, np.float32)
    if len(a) == 0:
        return cov.reshape(h, w)
    varying = radius_b is not None
    rmax = float(np.max(radius)) if varying else float(radius)
    step = max(MIN_STEP_PX, rmax)
    if varying:
        a, b, ra_all, rb_all = _split_long(a.astype(np.float64), b.astype(np.float64), step,
                                           np.asarray(radius, np.float64), np.asarray(radius_b, np.float64))
        rmax = max(rmax, float(np.max(radius_b)))
    else:
        a, b = _split_long(a.astype(np.float64), b.astype(np.float64), step)
    box = int(math.ceil(step + 2 * rmax + 3))
    gy, gx = np.mgrid[0:box, 0:box]
    gx, gy = gx.ravel(), gy.ravel()
    batch = max(16, BATCH_PIXELS // (box * box))
    for s in range(0, len(a), batch):
        sa, sb = a[s:s + batch], b[s:s + batch]
        x0 = np.floor(np.minimum(sa[:, 0], sb[:, 0]) - rmax - 1).astype(np.int64)
        y0 = np.floor(np.minimum(sa[:, 1], sb[:, 1]) - rmax - 1).astype(np.int64)
        px = x0[:, None] + gx[None, :]  # (B, box*box) pixel columns
        py = y0[:, None] + gy[None, :]
        # distance from each pixel centre to its segment
        d = sb - sa
        dd = np.maximum((d * d).sum(1), 1e-12)[:, None]
        rx = px + 0.5 - sa[:, :1]
        ry = py + 0.5 - sa[:, 1:]
        t = np.clip((rx * d[:, :1] + ry * d[:, 1:]) / dd, 0.0, 1.0)
        dist = np.hypot(rx - t * d[:, :1], ry - t * d[:, 1:])
        r = (ra_all[s:s + batch, None] + t * (rb_all - ra_all)[s:s + batch, None]) if varying else radius
        c = np.clip(r - dist + 0.5, 0.0, 1.0)
        keep = (c > 0) & (px >= 0) & (px < w) & (py >= 0) & (py < h)
        np.maximum.at(cov, (py[keep] * w + px[keep]), c[keep].astype(np.float32))
    return cov.reshape(h, w)


def _band(centres: list[float], n: int, half: float) -> np.ndarray:
    """Coverage ``(n,)`` of lines of half-width `half` px centred at `centres` px, along one axis."""
    pos = np.arange(n) + 0.5
    out = np.zeros(n, np.float32)
    for c in centres:
        out = np.maximum(out, np.clip(half - np.abs(pos - c) + 0.5, 0, 1).astype(np.float32))
    return out


# ----------------------------------------------------------------------------- compositing + encoding
def _paint(flat: np.ndarray, idx: np.ndarray, cov: np.ndarray, rgb: tuple[int, int, int]) -> None:
    """Paint colour `rgb` with coverage `cov` ``(k,)`` over pixels `idx` of `flat` ``(H*W, 3|4)`` uint8.

    Only touched pixels are converted to float: a page is mostly paper, and blending the whole
    page three times cost more than rasterising the ink.
    """
    if len(idx) == 0:
        return
    col = np.asarray(rgb, np.float32) / 255.0
    a = cov.astype(np.float32)[:, None]
    px = flat[idx].astype(np.float32) / 255.0
    if flat.shape[1] == 3:
        out = col * a + px * (1.0 - a)
    else:  # straight-alpha "over" for transparent paper
        under = px[:, 3:] * (1.0 - a)
        alpha = a + under
        rgb_out = (col * a + px[:, :3] * under) / np.maximum(alpha, 1e-6)
        out = np.concatenate([rgb_out, alpha], axis=1)
    flat[idx] = np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


def encode_png(pixels: np.ndarray, dpi: float | None = None) -> bytes:
    """uint8 ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA -> PNG file bytes."""
    h, w, ch = pixels.shape
    ctype = {3: 2, 4: 6}[ch]

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = np.empty((h, 1 + w * ch), np.uint8)
    raw[:, 0] = 0  # filter type 0 (none): pages are mostly flat colour, which zlib handles well
    raw[:, 1:] = pixels.reshape(h, w * ch)
    out = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0))]
    if dpi:
        ppm = int(round(dpi / 0.0254))
        out.append(chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
    out.append(chunk(b"tEXt", b"Software\x00hwcli"))
    out.append(chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)))
    out.append(chunk(b"IEND", b""))
    return b"".join(out)


def rasterize_page(page: Page, opts: PageOptions, dpi: float = 150, transparent: bool = False) -> np.ndarray:
    """One Page -> uint8 pixels ``(H, W, 3)`` (white paper) or ``(H, W, 4)`` (transparent paper)."""
    w, h = page_pixels(page, dpi)
    s = dpi / 25.4  # px per mm
    img = np.full((h, w, 4 if transparent else 3), 255, np.uint8)
    if transparent:
        img[..., 3] = 0
    flat = img.reshape(h * w, -1)
    half_rule = RULE_WIDTH * s / 2
    if page.rule_ys:
        rows = _band([y * s for y in page.rule_ys], h, half_rule)
        r = np.flatnonzero(rows)
        idx = (r[:, None] * w + np.arange(w)[None, :]).ravel()
        _paint(flat, idx, np.repeat(rows[r], w), RULE_RGB)
    if page.margin_x is not None:
        cols = _band([page.margin_x * s], w, half_rule)
        cidx = np.flatnonzero(cols)
        idx = (np.arange(h)[:, None] * w + cidx[None, :]).ravel()
        _paint(flat, idx, np.tile(cols[cidx], h), MARGIN_RGB)
    radius = opts.width * s / 2
    for rgb, lines in _by_ink(page, opts):  # one pass per ink (one unless the text asks for more: colors.py)
        if opts.pen != "uniform":
            _draw_pressure_ink(flat, lines, opts, s, (h, w), rgb)
            continue
        seg_a, seg_b = [], []
        for stroke in (st for pts in lines for st in split_strokes(pts)):
            a, b = _flatten(np.asarray(stroke, np.float64) * s)
            if radius > 6:
                a, b = _thin(a, b, radius / 3)
            seg_a.append(a)
            seg_b.append(b)
        if seg_a:
            ink = rasterize_segments(np.concatenate(seg_a), np.concatenate(seg_b), radius, (h, w)).ravel()
            idx = np.flatnonzero(ink)
            _paint(flat, idx, ink[idx], rgb)
    return img


def _by_ink(page: Page, opts: PageOptions) -> list[tuple[tuple[int, int, int], list[np.ndarray]]]:
    """The page's lines grouped by ink, as (rgb, lines); one group unless lines have colours of their own."""
    if not page.colors:
        return [(opts.rgb, page.lines)]
    groups: dict[tuple[int, int, int], list[np.ndarray]] = {}
    for k, pts in enumerate(page.lines):
        groups.setdefault(color_rgb(page.line_color(k, opts.color)), []).append(pts)
    return list(groups.items())


def _draw_pressure_ink(flat: np.ndarray, lines: list[np.ndarray], opts: PageOptions, px_per_mm: float,
                       shape: tuple[int, int], rgb: tuple[int, int, int]) -> None:
    """Pressure-like ink: the flattened centre line of every stroke with its varying radius (see ink.py)."""
    from .ink import line_centres

    a, b, ra, rb = [], [], [], []
    for pts in lines:
        for q, wd in line_centres(pts, opts.width, opts.pen):
            q = q * px_per_mm
            r = wd * px_per_mm / 2
            if len(q) == 1:
                q, r = np.vstack([q, q]), np.concatenate([r, r])
            a.append(q[:-1])
            b.append(q[1:])
            ra.append(r[:-1])
            rb.append(r[1:])
    if not a:
        return
    ink = rasterize_segments(np.concatenate(a), np.concatenate(b), np.concatenate(ra), shape,
                             radius_b=np.concatenate(rb)).ravel()
    idx = np.flatnonzero(ink)
    _paint(flat, idx, ink[idx], rgb)


def render_png(page: Page, fh: BinaryIO, opts: PageOptions, dpi: float = 150, transparent: bool = False) -> None:
    """Write one Page as a PNG to the binary file `fh`; size = page mm * dpi / 25.4 pixels."""
    if isinstance(dpi, bool) or not (isinstance(dpi, (int, float)) and 10 <= dpi <= MAX_DPI):
        raise OptionError(f"dpi must be between 10 and {MAX_DPI}, got {dpi!r}")
    check_pixels(opts, dpi)
    fh.write(encode_png(rasterize_page(page, opts, dpi, transparent), dpi))
