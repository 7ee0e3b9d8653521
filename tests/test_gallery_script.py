"""scripts/gallery.py: the words a style's description gets from its generated lines, and the writers it never uses."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

_spec = importlib.util.spec_from_file_location("gallery", Path(__file__).resolve().parents[1] / "scripts" / "gallery.py")
gallery = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gallery)

MID = {"slant": 50, "width": 50, "height": 50, "turning": 50}


def test_joinedness_words_follow_pen_lifts_per_letter():
    assert gallery.describe({"lifts": 0.6}, MID) == "joined cursive"
    assert gallery.describe({"lifts": 0.85}, MID) == "partly joined"
    assert gallery.describe({"lifts": 1.2}, MID) == "print"


def test_slant_width_and_loops_by_percentile():
    d = gallery.describe({"lifts": 1.2}, {**MID, "slant": 95, "width": 10, "height": 90})
    assert d == "print, strongly slanted, narrow, tall loops"
    assert gallery.describe({"lifts": 1.2}, {**MID, "slant": 10, "width": 90, "height": 5}) == "print, upright, wide, short loops"


def test_the_judges_reference_writers_are_never_candidates():
    ref = json.loads((Path(__file__).resolve().parents[1] / "hwcli" / "styles" / "imitation_writers.json").read_text())
    excluded = gallery.excluded_writers("42, 7")
    assert {int(w) for w in ref["writers"]} <= excluded and {-1, 42, 7} <= excluded
