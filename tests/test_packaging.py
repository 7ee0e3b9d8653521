"""The wheel carries the bundled models (models/ -> hwcli/_models) and the console entry point."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (whl,) = out.glob("hwcli-*.whl")
    return whl


def test_wheel_contains_every_bundled_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    models = sorted(p.name for p in (ROOT / "models").iterdir() if p.suffix in (".json", ".safetensors"))
    assert models, "models/ holds no bundle"
    for name in models:
        assert f"hwcli/_models/{name}" in names
    # every bundle is complete: weights and description travel together
    stems = {Path(n).stem for n in models}
    for s in stems:
        assert f"hwcli/_models/{s}.json" in names and f"hwcli/_models/{s}.safetensors" in names


def test_wheel_contains_the_capture_page_and_imitation_reference(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("hwcli/capture/static/index.html", "hwcli/capture/static/capture.js", "hwcli/styles/imitation_writers.json"):
        assert f in names, f


def test_wheel_declares_the_console_command(wheel):
    z = zipfile.ZipFile(wheel)
    ep = next(n for n in z.namelist() if n.endswith("entry_points.txt"))
    assert "hwcli = hwcli.cli.app:main" in z.read(ep).decode()


def test_help_is_fast_and_imports_no_torch():
    code = "import sys; from hwcli.cli.app import app; assert 'torch' not in sys.modules, 'torch imported at start-up'"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
