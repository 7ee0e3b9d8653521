"""Letters, cards and envelopes (issue 25): the layout rules checked on placed pages (line positions and gaps
from `Document.pages`, in mm), alignment in every output format, envelope block positions, folded cards, and
mail merge with envelopes."""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from pypdf import PdfReader
from typer.testing import CliRunner

import hwcli
from hwcli.alphabet import CHARSET
from hwcli.cli.app import app
from hwcli.errors import InputTextError, OptionError, UnsupportedCharactersError
from hwcli.model.bundle import load_model
from hwcli.page import envelope as E
from hwcli.page.layout import prepare_marked, runs
from hwcli.page.options import PageOptions
from page_helpers import layout_text
from hwcli.strokes import estimate_baseline
from tiny_bundle import make_bundle, steer

FAST = {"max_steps_per_char": 6, "retries": 0, "check": False}
runner = CliRunner()
LH = 10.0
PAGE = PageOptions(natural=False, line_height=LH, indent=8.0)  # no jitter: ink starts exactly at each line's x

LETTER = """14 Harbour Road
Whitby

1 December 2026

Dear Helen,

It was lovely to see you and the children at the weekend, and thank you
for the flowers, which are still on the kitchen table now.

With much love,
Margaret"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.set_num_threads(1)
    return steer(load_model(make_bundle(tmp_path_factory.mktemp("m") / "tiny", defaults=FAST)))


def placed(bundle, text, page=PAGE):
    """[(text, left x of the ink, baseline y, right x of the ink, placed points)] of the first page."""
    pg = next(iter(hwcli.write(text, model=bundle, seed=1, page=page).pages))
    return [(t, float(p[:, 0].min()), estimate_baseline(p), float(p[:, 0].max()), p)
            for t, p in zip(pg.texts, pg.lines)]


# ----------------------------------------------------------------------------- text as typed
def test_blank_lines_are_space_and_only_prose_is_indented(bundle):
    lines = placed(bundle, LETTER)
    texts = [t for t, *_ in lines]
    assert texts[:4] == ["14 Harbour Road", "Whitby", "1 December 2026", "Dear Helen,"]
    assert texts[-2:] == ["With much love,", "Margaret"]
    base = [b for _, _, b, _, _ in lines]
    gaps = np.diff(base) / LH
    # address, (blank), date, (blank), greeting, (blank), prose..., (blank), closing, signature
    assert np.allclose(gaps[:3], [1, 2, 2], atol=0.05)
    assert gaps[3] == pytest.approx(2, abs=0.05) and gaps[-1] == pytest.approx(1, abs=0.05)
    assert gaps[-2] == pytest.approx(2, abs=0.05)
    lefts = {t: x for t, x, *_ in lines}
    for flush in ("14 Harbour Road", "Whitby", "1 December 2026", "Dear Helen,", "With much love,", "Margaret"):
        assert lefts[flush] == pytest.approx(PAGE.margin, abs=1e-3), flush
    prose = [x for t, x, *_ in lines if t.startswith("It was")]
    assert prose == [pytest.approx(PAGE.margin + 8.0, abs=1e-3)]


def test_blank_lines_count_and_give_no_space_at_the_top_of_a_page():
    opts = PageOptions(page_size="100x60", margin=10, line_height=10)  # 4 lines a page
    lines = layout_text("a\n\n\nb\nc\nd\n\ne", opts, char_width=2.0)
    assert [(ln.text, ln.page, ln.index) for ln in lines] == [
        ("a", 0, 0), ("b", 0, 3), ("c", 1, 0), ("d", 1, 1), ("e", 1, 3)]


@pytest.mark.parametrize("breaks, want", [
    ("keep", ["The first line of a paragraph that somebody wrapped by hand, at",
              "sixty-odd characters, and its end.", "Milk"]),
    ("flow", ["The first line of a paragraph that somebody wrapped by hand, at sixty-odd characters, and its end. Milk"]),
    ("auto", ["The first line of a paragraph that somebody wrapped by hand, at sixty-odd characters, and its end.",
              "Milk"]),
])
def test_breaks_keep_flow_auto(breaks, want):
    text = ("The first line of a paragraph that somebody wrapped by hand, at\nsixty-odd characters, and its end.\n"
            "Milk")
    assert [r.text for r in runs(text, breaks)] == want


@pytest.mark.parametrize("closing", ["With much love, Margaret", "Yours sincerely,\nJ. Smith", "Love,\nMum",
                                     "See you soon!", "Cheers,\nBen", "Ta-ra,\nBen\nxx"])
def test_auto_never_runs_a_closing_into_the_line_before(closing):
    last = "and we will all see you at the station on Tuesday, weather permitting."
    assert len(last) >= 60
    got = [r.text for r in runs(f"Thank you for the lovely weekend,\n{last}\n{closing}", "auto")]
    assert got[1:] == [last] + closing.split("\n")


def test_auto_flows_the_last_short_line_of_hard_wrapped_prose():
    text = ("It was a bright cold day in April, and the clocks were striking\nthirteen. Winston Smith, his chin "
            "nuzzled into his breast, slipped\nquickly through the glass doors.")
    assert [r.text for r in runs(text)] == [" ".join(text.split())]


def test_list_items_keep_their_lines_with_a_hanging_indent(bundle):
    text = ("Shopping:\n- milk\n* eggs, a dozen of the free range ones from the farm shop if they have them\n"
            "  and some bread\n2. call Bob\n10) post the parcel")
    cw = 2.0
    lines = layout_text(text, PAGE, char_width=cw)
    assert [ln.text for ln in lines][:2] == ["Shopping:", "- milk"]
    item = [ln for ln in lines if ln.text.startswith("* eggs") or not ln.text[0] in "-*S12"]
    assert item[0].x == pytest.approx(PAGE.margin) and not item[0].paragraph_start
    assert all(ln.x == pytest.approx(PAGE.margin + 2 * cw) for ln in item[1:]) and len(item) >= 2
    assert " ".join(ln.text for ln in item).endswith("if they have them and some bread")
    assert [ln.text for ln in lines][-2:] == ["2. call Bob", "10) post the parcel"]
    assert [ln.index for ln in lines] == list(range(len(lines)))  # one item a line, no blank space
    # and on the placed page: the continuation's ink starts at the hanging indent
    pl = placed(bundle, text, PAGE)
    assert [t for t, *_ in pl][:3] == ["Shopping:", "- milk", pl[2][0]] and pl[2][0].startswith("* eggs")
    assert pl[2][1] == pytest.approx(PAGE.margin, abs=1e-3) and pl[3][1] > PAGE.margin + 2


# ----------------------------------------------------------------------------- alignment
ALIGNED = ">>\n14 Harbour Road\nWhitby YO21\n\n>< Happy Birthday\n\nsome words\n\n> Love,\n> Sarah"


def test_right_block_centred_line_and_indented_signature(bundle):
    lines = placed(bundle, ALIGNED)
    right_edge = PAGE.margin + PAGE.text_width
    block = [ln for ln in lines if ln[0] in ("14 Harbour Road", "Whitby YO21")]
    assert max(r for *_, r, _ in block) == pytest.approx(right_edge, abs=1e-3)  # the widest line ends at the margin
    assert block[0][1] == pytest.approx(block[1][1], abs=1e-3)  # lines flush left with each other
    assert block[0][1] > PAGE.margin + 20
    (_, lo, _, hi, _), = [ln for ln in lines if ln[0] == "Happy Birthday"]
    assert (lo + hi) / 2 == pytest.approx(PAGE.margin + PAGE.text_width / 2, abs=1e-3)
    sig = [ln for ln in lines if ln[0] in ("Love,", "Sarah")]
    assert [x for _, x, *_ in sig] == [pytest.approx(PAGE.margin + PAGE.text_width / 2, abs=1e-3)] * 2
    assert [ln[0] for ln in lines if ln[0] == "some words"] and lines[-3][1] == pytest.approx(PAGE.margin, abs=1e-3)


def test_alignment_is_the_same_in_svg_png_and_plotter_svg(bundle, tmp_path):
    text = ">> right"
    doc = hwcli.write(text, model=bundle, seed=1, page=PAGE)
    pts = next(iter(doc.pages)).lines[0]
    right = float(pts[:, 0].max())
    assert right == pytest.approx(PAGE.margin + PAGE.text_width, abs=1e-3)
    for name in ("a.svg", "p.svg"):
        kw = {"format": "plotter-svg"} if name == "p.svg" else {}
        doc.save(tmp_path / name, **kw)
        xs = []
        for el in ET.parse(tmp_path / name).iter():
            d = el.get("d") or el.get("points")
            if d:
                nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
                xs += nums[0::2]
        assert max(xs) == pytest.approx(right, abs=0.6), name  # within the pen width
        assert min(xs) > PAGE.margin + PAGE.text_width / 2
    from hwcli.page.png import render_png

    buf = io.BytesIO()
    render_png(next(iter(doc.pages)), buf, PAGE, dpi=50)
    from test_page_render import decode_png

    img, _ = decode_png(buf.getvalue())
    cols = np.nonzero((img < 200).any(axis=(0, 2)))[0]
    assert cols.max() / 50 * 25.4 == pytest.approx(right, abs=1.5)


def test_marks_are_not_characters_and_problems_keep_their_columns(bundle, tmp_path):
    prep = lambda t: bundle.alphabet.prepare(t)  # noqa: E731
    assert prepare_marked(">> Whitby\n><\n> x", prep) == ">> Whitby\n>< \n> x"
    with pytest.raises(UnsupportedCharactersError, match="2:7"):
        prepare_marked(">> ok\n>> ab \u2603", prep)
    full = steer(load_model(make_bundle(tmp_path / "full", defaults=FAST, chars=CHARSET)))  # '>' is a character
    texts = [t for pg in hwcli.write(">> hi\n\\> there", model=full).pages for t in pg.texts]
    assert texts[0] == "hi" and texts[1] == "> there"


# ----------------------------------------------------------------------------- envelopes and cards
ADDRESS = "Ms Helen Smith\n27 Elm Grove\nLeeds LS6 2AA"
SENDER = "S. Jones\n14 Harbour Road\nWhitby"


@pytest.mark.parametrize("size", ["DL", "C6", "C5", "US10", "Monarch"])
def test_envelope_blocks_sit_where_postal_conventions_put_them(bundle, size):
    page = PageOptions(page_size=size, natural=False, line_height=8.0)
    w, h = page.page_mm
    assert w > h  # landscape
    doc = hwcli.write(SENDER + "\n\n" + ADDRESS, model=bundle, page=page)
    assert len(doc) == 1
    pg = next(iter(doc.pages))
    assert (pg.width_mm, pg.height_mm) == (w, h)
    sender, recipient = pg.lines[:3], pg.lines[3:]
    assert pg.texts[3:] == ADDRESS.split("\n")
    r = np.concatenate(recipient)
    s = np.concatenate(sender)
    lefts = [float(p[:, 0].min()) for p in recipient]
    assert np.allclose(lefts, lefts[0], atol=1e-3)  # flush left with each other
    assert lefts[0] >= 0.3 * w and r[:, 0].max() <= w - E.EDGE_CLEAR + 1e-3
    bases = [estimate_baseline(p) for p in recipient]
    assert bases[0] - E.ASCENT * 8.0 >= min(E.TOP_CLEAR, 0.36 * h) - 1e-3  # clear of the stamp
    assert bases[-1] + E.DESCENT * 8.0 <= h - E.BOTTOM_CLEAR + 1e-3  # clear of the barcode zone
    assert 0.45 * h < (bases[0] + bases[-1]) / 2 < 0.75 * h
    assert s[:, 0].min() == pytest.approx(E.SENDER_EDGE, abs=1e-3) and s[:, 0].max() < lefts[0]
    s_gaps = np.diff([estimate_baseline(p) for p in sender])
    assert np.allclose(s_gaps, 8.0 * E.SENDER_SIZE, atol=0.05)  # smaller and tighter


def test_envelope_errors_before_sampling(bundle):
    with pytest.raises(OptionError, match="does not fit on a DL envelope"):
        hwcli.write("\n".join(["line"] * 9), model=bundle, page=PageOptions(page_size="DL"))
    with pytest.raises(InputTextError, match="3 paragraphs"):
        hwcli.write("a\n\nb\n\nc", model=bundle, page=PageOptions(page_size="DL"))
    with pytest.raises(OptionError, match="not ruled"):
        PageOptions(page_size="C6", ruled=True)


def test_cards_a6_and_a5_folded(bundle):
    assert PageOptions(page_size="a6").page_mm == (105.0, 148.0)
    folded = PageOptions(page_size="A5-folded", margin=10, natural=False)
    assert folded.page_mm == (210.0, 148.0) and folded.text_left == 115.0 and folded.text_width == 85.0
    pg = next(iter(hwcli.write("><\nHappy Birthday!\n\nlots of love from all of us here", model=bundle,
                               page=folded).pages))
    ink = np.concatenate(pg.lines)
    assert ink[:, 0].min() >= 115.0 - 1e-3 and ink[:, 0].max() <= 200.0 + 1e-3  # inside of the card
    with pytest.raises(OptionError, match="A5-folded"):
        PageOptions(page_size="B9")


def test_cli_envelope_with_sender(bundle, tmp_path):
    model = str(bundle.path)
    out = tmp_path / "env.pdf"
    res = runner.invoke(app, ["write", "--model", model, "--envelope", "US10", "--sender", "S. Jones\\nWhitby",
                              ADDRESS, "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    box = PdfReader(out).pages[0].mediabox
    assert float(box.width) / 72 * 25.4 == pytest.approx(241.3, abs=0.1)
    assert float(box.height) / 72 * 25.4 == pytest.approx(104.8, abs=0.1)
    res = runner.invoke(app, ["write", "--model", model, "--sender", "x", "hi", "-o", str(out)])
    assert res.exit_code == 2 and "--envelope" in res.output


# ----------------------------------------------------------------------------- mail merge with envelopes
def merge_files(tmp_path):
    (tmp_path / "letter.txt").write_text("Dear {first},\n\nsee you soon.\n\n> Sarah")
    (tmp_path / "address.txt").write_text("{first} {last}\n{street}\n{town}")
    (tmp_path / "people.csv").write_text("first,last,street,town\nAnn,Lee,1 Elm Grove,Leeds\n"
                                         "Bo,Ray,2 Oak Road,York\n")
    return [str(tmp_path / n) for n in ("letter.txt", "people.csv", "address.txt")]


def test_mail_merge_writes_each_envelope_beside_its_letter(bundle, tmp_path):
    letter, data, address = merge_files(tmp_path)
    out = tmp_path / "out"
    res = runner.invoke(app, ["write", "--model", str(bundle.path), "--template", letter, "--data", data,
                              "--name-column", "first", "--envelopes", "--envelope-template", address,
                              "--envelope", "C6", "--out-dir", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["Ann-envelope.pdf", "Ann.pdf", "Bo-envelope.pdf", "Bo.pdf"]
    box = PdfReader(out / "Bo-envelope.pdf").pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (162, 114)
    box = PdfReader(out / "Bo.pdf").pages[0].mediabox
    assert round(float(box.width) / 72 * 25.4) == 210
    # the letters are the same with or without their envelopes (seeds come from the names)
    alone = tmp_path / "alone"
    res = runner.invoke(app, ["write", "--model", str(bundle.path), "--template", letter, "--data", data,
                              "--name-column", "first", "--out-dir", str(alone)])
    assert res.exit_code == 0, res.output
    assert (alone / "Ann.pdf").read_bytes() == (out / "Ann.pdf").read_bytes()


def test_mail_merge_one_file_interleaves_letters_and_envelopes(bundle, tmp_path):
    letter, data, address = merge_files(tmp_path)
    rep = hwcli.write_many(hwcli.jobs.merge_jobs(letter, data, "first", envelope_template=address), None,
                           bundle, one_file=tmp_path / "all.pdf", envelope="DL")
    assert [d.name for d in rep.docs] == ["Ann", "Ann-envelope", "Bo", "Bo-envelope"]
    sizes = [round(float(p.mediabox.width) / 72 * 25.4) for p in PdfReader(tmp_path / "all.pdf").pages]
    assert sizes == [210, 220, 210, 220]


def test_mail_merge_envelope_options_are_checked_up_front(bundle, tmp_path):
    letter, data, address = merge_files(tmp_path)
    base = ["write", "--model", str(bundle.path), "--template", letter, "--data", data, "--out-dir", str(tmp_path / "o")]
    res = runner.invoke(app, base + ["--envelopes"])
    assert res.exit_code == 2 and "--envelope-template" in res.output
    res = runner.invoke(app, base + ["--envelopes", "--envelope-template", address, "--envelope", "A4"])
    assert res.exit_code == 2 and "not an envelope size" in res.output
    (tmp_path / "bad.txt").write_text("{first}\n{postcode}")
    res = runner.invoke(app, base + ["--envelopes", "--envelope-template", str(tmp_path / "bad.txt")])
    assert res.exit_code == 2 and "postcode" in res.output
    with pytest.raises(OptionError, match="used more than once"):
        (tmp_path / "p2.csv").write_text("first,last,street,town\nAnn,Lee,1,L\nAnn-envelope,X,2,Y\n")
        hwcli.jobs.merge_jobs(letter, tmp_path / "p2.csv", "first", envelope_template=address)


# ----------------------------------------------------------------------------- one hand's size on a page
def test_size_factors_pull_lines_towards_the_page_median():
    from hwcli.page.placement import SIZE_LIMITS, size_factors

    f = size_factors([1.0, 1.0, 0.8, 1.25, 0.0], pull=1.0)
    assert f[:2] == [1.0, 1.0] and f[4] == 1.0  # unknown height: left alone
    assert f[2] == pytest.approx(1.25) and f[3] == pytest.approx(0.8)
    half = size_factors([1.0, 1.0, 0.8], pull=0.5)
    assert half[2] == pytest.approx(1.25 ** 0.5)
    assert size_factors([1.0, 0.2, 1.0], pull=1.0)[1] == SIZE_LIMITS[1]  # a runaway is not blown up
    assert size_factors([1.0, 0.0]) == [1.0, 1.0]


def test_even_sizes_scale_the_placed_lines(monkeypatch):
    from hwcli.page.layout import LayoutLine
    from hwcli.writing import compose as document

    class R:
        def __init__(self, h):
            self.strokes, self.chars, self.text, self.h = np.zeros((10, 3), np.float32), None, "x", h

    monkeypatch.setattr(document, "x_height", lambda pts, chars, text: heights.pop(0))
    heights = [2.0, 2.0, 1.0]
    lines = [LayoutLine("x", 0, k, 20.0, 30.0 + 10 * k, 170.0, False) for k in range(3)]
    out = document.even_sizes(lines, [R(0), R(0), R(0)])
    from hwcli.page.placement import SIZE_LIMITS, SIZE_PULL

    assert out[0] is lines[0] and out[2].size == pytest.approx(min(2.0 ** SIZE_PULL, SIZE_LIMITS[1]))
