"""The README's Python example runs as written (on a tiny random-weights model instead of the bundled one)."""
from __future__ import annotations

import re
from pathlib import Path

import torch

from tiny_bundle import make_bundle

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_example_runs(tmp_path, monkeypatch):
    from hwcli.model import bundle as bundle_module

    blocks = python_blocks()
    torch.set_num_threads(1)
    # the bundled names resolve to tiny bundles with the same names: fast, and no real weights in a fast test
    (tmp_path / "models").mkdir()
    for name in ("hwcli-synthesis", "hwcli-prediction"):
        make_bundle(tmp_path / "models" / name, kind="prediction" if "prediction" in name else "synthesis",
                    defaults={"max_steps_per_char": 5, "retries": 0, "check": False})
    monkeypatch.setattr(bundle_module, "bundled_model_path", lambda name=bundle_module.DEFAULT_MODEL: tmp_path / "models" / name)
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    assert (tmp_path / "letter.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "letter.svg").is_file()
    assert sorted(p.name for p in (tmp_path / "letters").iterdir()) == ["ann.pdf", "bo.pdf"]  # hwcli.write_many

