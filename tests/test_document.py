"""The Python API: hwcli.write() -> Document, doc.save() by suffix / format / stream, the format registry,
bounded memory (kept or re-sampled pages), checking as a library decision, load_model by name."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from pypdf import PdfReader

import hwcli
from hwcli.writing import document as document
from hwcli.errors import InputTextError, ModelFileError, OptionError, StyleNotFoundError, UnsupportedCharactersError
from hwcli.model.bundle import load_model, model_path
from hwcli.page import formats as formats
from hwcli.page.placement import Page
from tiny_bundle import make_bundle, make_recognizer

FAST = {"max_steps_per_char": 5, "retries": 0, "check": False}
LONG = "\n\n".join("word " * 40 for _ in range(6))  # several pages at line height 30


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.set_num_threads(1)
    return load_model(make_bundle(tmp_path_factory.mktemp("m") / "tiny", defaults=FAST))


def test_write_validates_at_once_and_samples_only_when_read(bundle):
    seen = []
    doc = hwcli.write("hello there\n\nsecond paragraph", model=bundle, progress=lambda d, t: seen.append((d, t)))
    assert isinstance(doc, hwcli.Document) and len(doc) == 1
    assert seen == []  # nothing sampled yet
    pages = list(doc.pages)
    assert seen and seen[-1][0] == seen[-1][1] == doc.report.lines == 2
    assert len(pages) == 1 and isinstance(pages[0], Page)
    assert pages[0].texts == ["hello there", "second paragraph"]
    assert all(ln.shape[1] == 3 and ln.dtype == np.float32 for ln in pages[0].lines)
    x, y = np.concatenate([ln for ln in pages[0].lines if len(ln)])[:, :2].T
    assert 0 < x.min() and x.max() < pages[0].width_mm and 0 < y.min() and y.max() < pages[0].height_mm  # mm


@pytest.mark.parametrize("text, kw, error", [
    ("   \n", {}, InputTextError),
    ("snow \u2603", {}, UnsupportedCharactersError),
    ("hi", {"style": "nope"}, StyleNotFoundError),
    ("hi", {"bias": -1.0}, OptionError),
    ("hi", {"on_unsupported": "maybe"}, OptionError),
])
def test_write_rejects_bad_input_before_sampling(bundle, text, kw, error):
    with pytest.raises(error):
        hwcli.write(text, model=bundle, **kw)


def test_unsupported_characters_can_be_skipped(bundle):
    doc = hwcli.write("snow \u2603 day", model=bundle, on_unsupported="skip")
    assert [t for pg in doc.pages for t in pg.texts] == ["snow day"]


def test_save_picks_the_renderer_by_suffix_or_format(bundle, tmp_path):
    doc = hwcli.write(LONG, model=bundle, page=hwcli.PageOptions(line_height=30))
    n = len(doc)
    assert n > 1
    assert doc.save(tmp_path / "a.pdf") == [str(tmp_path / "a.pdf")]
    assert len(PdfReader(str(tmp_path / "a.pdf")).pages) == n
    svgs = doc.save(tmp_path / "a.svg")
    assert svgs == [str(tmp_path / f"a-{i}.svg") for i in range(1, n + 1)]
    assert ET.parse(svgs[0]).getroot().tag.endswith("svg")
    pngs = doc.save(tmp_path / "b", format="png")
    assert pngs == [str(tmp_path / f"b-{i}.png") for i in range(1, n + 1)]
    assert open(pngs[-1], "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_save_to_a_stream(bundle):
    doc = hwcli.write("to a stream", model=bundle)
    buf = io.BytesIO()
    assert doc.save(buf) == ["<stream>"]
    assert buf.getvalue().startswith(b"%PDF")  # PDF when a stream names no format
    buf = io.BytesIO()
    doc.save(buf, format="svg")
    assert ET.fromstring(buf.getvalue()).tag.endswith("svg")
    several = hwcli.write(LONG, model=bundle, page=hwcli.PageOptions(line_height=30))
    with pytest.raises(OptionError, match="one page"):
        several.save(io.BytesIO(), format="svg")


def test_a_registered_format_is_one_line(bundle, tmp_path, monkeypatch):
    monkeypatch.setitem(formats.FORMATS, "txt", formats.FORMATS["pdf"])  # restored after the test
    formats.register("txt", f"{__name__}:render_texts", suffixes=("txt",))
    out = tmp_path / "lines.txt"
    doc = hwcli.write("first line\n\nthird", model=bundle)
    doc.save(out)
    assert out.read_text() == "first line\nthird\n"


def render_texts(pages, fh, opts, title="?"):  # a whole-document renderer, as `register` names it
    for pg in pages:
        fh.write("".join(t + "\n" for t in pg.texts).encode())


def test_save_is_atomic_when_a_renderer_fails(bundle, tmp_path, monkeypatch):
    monkeypatch.setitem(formats.FORMATS, "boom", formats.Format("boom", f"{__name__}:render_boom", ("svg",), True))
    mine = [tmp_path / "mine-1.svg", tmp_path / "mine-2.svg"]
    for p in mine:
        p.write_text("precious")
    doc = hwcli.write(LONG, model=bundle, page=hwcli.PageOptions(line_height=30))
    with pytest.raises(RuntimeError):
        doc.save(tmp_path / "mine.svg", format="boom")
    assert [p.read_text() for p in mine] == ["precious", "precious"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine-1.svg", "mine-2.svg"]  # no temporary left


def render_boom(page, fh, opts):
    if page.number == 1:
        raise RuntimeError("renderer failed on the second page")
    fh.write(b"<svg/>")


def test_unwritable_target_fails_before_sampling(bundle, tmp_path):
    seen = []
    doc = hwcli.write("hi", model=bundle, progress=lambda d, t: seen.append(d))
    with pytest.raises(hwcli.errors.OutputError):
        doc.save(tmp_path / "no" / "dir" / "x.pdf")
    assert seen == []


def test_short_documents_keep_pages_long_ones_sample_again(bundle, tmp_path, monkeypatch):
    calls = []
    short = hwcli.write("one line", model=bundle, progress=lambda d, t: calls.append(d))
    short.save(tmp_path / "a.pdf")
    short.save(tmp_path / "a.svg")
    assert calls == [1]  # the second save reused the kept page
    monkeypatch.setattr(document, "KEEP_PAGES", 0)  # every document is "long": nothing is kept
    calls.clear()
    long = hwcli.write("one line", model=bundle, progress=lambda d, t: calls.append(d))
    long.save(tmp_path / "b.svg")
    long.save(tmp_path / "c.svg")
    assert calls == [1, 1]  # sampled twice ...
    assert (tmp_path / "b.svg").read_bytes() == (tmp_path / "c.svg").read_bytes() == (tmp_path / "a.svg").read_bytes()


def test_report_lists_failed_lines_one_based(bundle):
    doc = hwcli.write("alpha\nbeta", model=bundle, seed=1)  # random weights: lines fail their checks
    rep = doc.report
    assert rep.pages == 1 and rep.lines == 2 and rep.failed  # a short line keeps its break
    for k, f in enumerate(rep.failed, start=1):
        assert (f.page, f.line, f.text) == (1, k, ["alpha", "beta"][k - 1]) and f.reason


def test_checking_loads_the_recognizer_or_says_why(bundle, tmp_path):
    with pytest.raises(ModelFileError, match="checking is on but the recognizer cannot be loaded"):
        hwcli.write("hi", model=bundle, check=True, recognizer=tmp_path / "missing")
    rec = make_recognizer(tmp_path / "rec")
    doc = hwcli.write("hi there", model=bundle, check=True, recognizer=rec)
    assert doc.report.lines == 1  # read back by the tiny recognizer (random: reads badly, still written)


def test_style_sheet_has_a_line_per_style(bundle, tmp_path):
    doc = document.style_sheet(bundle, "abc", seed=1)
    pages = list(doc.pages)
    assert [t for pg in pages for t in pg.texts] == [f"{i}. abc" for i in range(len(bundle.styles))]
    doc.save(tmp_path / "s.pdf")
    assert len(PdfReader(str(tmp_path / "s.pdf")).pages) == len(pages)


def test_load_model_takes_a_bundled_name_or_a_path(tmp_path):
    assert model_path("hwcli-prediction").with_suffix(".json").is_file()  # resolves without loading weights
    assert model_path(tmp_path / "x") == tmp_path / "x"
    # the command line hands --model over as a Path: a bare bundled name resolves there too
    from pathlib import Path

    assert model_path(Path("hwcli-prediction")) == model_path("hwcli-prediction")
    assert model_path(Path("sub") / "hwcli-prediction") == Path("sub") / "hwcli-prediction"
    with pytest.raises(ModelFileError):
        load_model("no-such-model")


@pytest.mark.slow
def test_load_model_by_bundled_name():
    assert not hwcli.load_model("hwcli-prediction").is_synthesis


def test_format_for_suffix_name_and_stream():
    assert formats.format_for("a/b.PNG").name == "png"
    assert formats.format_for("a/b.svg", "pdf").name == "pdf"  # the name wins over the suffix
    assert formats.format_for("-").name == formats.format_for(None).name == "pdf"
    assert formats.format_for("noext").name == "pdf"
    with pytest.raises(OptionError, match="unknown output format 'docx'"):
        formats.format_for("x.docx")
    assert formats.page_paths("out.pdf", 3, formats.FORMATS["pdf"]) == [formats.Path("out.pdf")]  # one file
