"""scripts/ocr_floor.py: typed lines, one image each, read by eval's own reader (`ocr.read_images`, one tesseract
call); the CER and the characters missed come from what tesseract returned."""
from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("ocr_floor", Path(__file__).resolve().parents[1] / "scripts" / "ocr_floor.py")
ocr_floor = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ocr_floor)

FONT = next((Path(f) for f in ocr_floor.DEFAULT_FONTS if Path(f).is_file()), None)
needs_font = pytest.mark.skipif(FONT is None, reason="no DejaVu or Liberation font installed")


def _fake_tesseract(monkeypatch, readings: list[str], seen: list):
    from hwcli.evaluation import ocr

    monkeypatch.setattr(ocr, "tesseract_path", lambda needed_by="": "tesseract")
    monkeypatch.setattr(ocr, "accent_languages", lambda: "eng+fra")

    def run(cmd, **kw):
        listing = Path(cmd[1])
        images = listing.read_text().split()
        seen.append((cmd, [Path(p).stat().st_size for p in images]))
        return subprocess.CompletedProcess(cmd, 0, "".join(r + "\n\f" for r in readings).encode(), b"")

    monkeypatch.setattr(ocr.subprocess, "run", run)  # the reader eval uses: ocr.read_images


@needs_font
def test_cer_and_missed_characters_come_from_the_readings(tmp_path, monkeypatch, capsys):
    lines = tmp_path / "lines.txt"
    lines.write_text("Crème brûlée\n\nPIN 4071 – safe\n", encoding="utf-8")
    seen = []
    _fake_tesseract(monkeypatch, ["Creme brûlée", "PIN 4071 - safe"], seen)
    assert ocr_floor.main(["--input", str(lines)]) == 0
    out = capsys.readouterr().out
    (cmd, sizes), = seen
    assert cmd[2:] == ["stdout", "--psm", "7", "-l", "eng+fra", "--dpi", "200"]
    assert len(sizes) == 2 and all(s > 100 for s in sizes)  # one image per non-empty line, each with ink
    assert "'Crème brûlée' -> 'Creme brûlée'" in out and "'PIN 4071 – safe' -> 'PIN 4071 - safe'" in out
    assert "tesseract CER 0.0741" in out  # 2 errors in 12 + 15 characters
    assert "'è' 1" in out and "'–' 1" in out


@needs_font
def test_a_line_tesseract_leaves_empty_counts_whole(tmp_path, monkeypatch, capsys):
    lines = tmp_path / "lines.txt"
    lines.write_text("abcd\nefgh\n", encoding="utf-8")
    _fake_tesseract(monkeypatch, ["abcd"], [])  # a reading short: the second line read as nothing
    assert ocr_floor.main(["--input", str(lines)]) == 0
    assert "tesseract CER 0.5000" in capsys.readouterr().out


def test_unreadable_input_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        ocr_floor.main(["--input", str(tmp_path / "missing.txt")])
    assert exc.value.code == 2
    assert "cannot read" in capsys.readouterr().err
