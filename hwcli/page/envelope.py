"""Envelopes: the text of an envelope page (an envelope `PageOptions.page_size`, landscape) laid out as
addresses where postal conventions put them. All lengths in mm, y down from the top-left corner.

The text is one or two paragraphs: the recipient's address, or the sender's address, a blank line, then the
recipient's. Every typed line keeps its break (an address is never reflowed); a line too long for its room
wraps.

- recipient (Royal Mail, USPS and Deutsche Post agree on the shape): parallel to the long side, lines
  flush left with each other, the block starting `RECIPIENT_X` of the way across (further left when its
  longest line would not fit before `EDGE_CLEAR` of the right edge) and centred on `RECIPIENT_Y` of the
  height, but never in the top `TOP_CLEAR` (stamp and postmark) nor the bottom `BOTTOM_CLEAR` (the sorting
  barcode zone: USPS 5/8 in, Royal Mail 15 mm);
- sender (optional; the US return address, or the sender on the front): the top-left corner, `SENDER_EDGE`
  from both edges, written `SENDER_SIZE` times the recipient's size on as much tighter lines.
"""
from __future__ import annotations

from typing import Iterator

from ..errors import InputTextError, OptionError
from .layout import LayoutLine, blocks, wrap_paragraph
from .options import PageOptions, size_name

RECIPIENT_X = 0.40  # the block's left edge, as a fraction of the width
RECIPIENT_Y = 0.58  # the block's middle, as a fraction of the height
TOP_CLEAR = 40.0  # mm kept clear at the top (stamp, postmark); less on an envelope lower than 100 mm
BOTTOM_CLEAR = 16.0  # mm kept clear at the bottom (barcode zone)
EDGE_CLEAR = 15.0  # mm kept clear at the left and right edges
SENDER_EDGE = 12.0  # mm from the top and left edges to the sender block
SENDER_SIZE = 0.75  # the sender's writing (and line spacing) relative to the recipient's
ASCENT, DESCENT = 0.75, 0.35  # line heights of ink above the first baseline and below the last


def envelope_layout(text: str, opts: PageOptions, char_width: float,
                    max_chars: int | None = None) -> Iterator[LayoutLine]:
    """LayoutLines of one envelope (page 0): the sender block (if any), then the recipient block.
    InputTextError for more than two paragraphs; OptionError when the address does not fit."""
    paras = [[t.text for t in lines] for _space, lines in blocks(text)]
    if not paras:
        return
    if len(paras) > 2:
        raise InputTextError(f"an envelope takes the recipient's address, or the sender's address, a blank line and "
                             f"the recipient's; this text has {len(paras)} paragraphs")
    sender, recipient = (paras[0], paras[1]) if len(paras) == 2 else ([], paras[0])
    w, h = opts.page_mm
    lh = opts.line_height
    name = size_name(str(opts.page_size).strip().lower())
    index = 0

    s_lh = lh * SENDER_SIZE
    s_width = w * RECIPIENT_X - SENDER_EDGE - 2.0
    s_lines = [piece for line in sender
               for piece in wrap_paragraph(line, s_width, s_width, char_width * SENDER_SIZE, max_chars)]
    s_bottom = SENDER_EDGE + len(s_lines) * s_lh + DESCENT * s_lh if s_lines else 0.0
    for k, piece in enumerate(s_lines):
        yield LayoutLine(piece, 0, index, SENDER_EDGE, SENDER_EDGE + ASCENT * s_lh + k * s_lh, s_width, False,
                         size=SENDER_SIZE)
        index += 1

    longest = max(len(line) for line in recipient) * char_width
    left = max(EDGE_CLEAR, min(w * RECIPIENT_X, w - EDGE_CLEAR - longest))
    room = w - EDGE_CLEAR - left
    r_lines = [piece for line in recipient for piece in wrap_paragraph(line, room, room, char_width, max_chars)]
    block = (len(r_lines) - 1 + ASCENT + DESCENT) * lh  # first line's ascenders to last line's descenders
    top = max(RECIPIENT_Y * h - block / 2, min(TOP_CLEAR, 0.36 * h))
    top = min(top, h - BOTTOM_CLEAR - block)
    if top < max(s_bottom, 4.0):
        raise OptionError(f"an address of {len(r_lines)} line(s) does not fit on a {name} envelope "
                          f"({w:g} x {h:g} mm) at line height {lh:g} mm: use a smaller --line-height")
    for k, piece in enumerate(r_lines):
        yield LayoutLine(piece, 0, index, left, top + ASCENT * lh + k * lh, w - EDGE_CLEAR - left, False)
        index += 1
