"""The architecture as STYLE.md and the README draw it: folders are the flows, imports flow one way, and the light
layers stay light.

    ground floor (errors, checks, alphabet, charset, strokes, cleaning, fileio, texts, arithmetic)
        -> data, page -> model -> recognizer -> synthesis -> writing, training -> styles -> evaluation, capture
        -> cli (and the package's own __init__ / __main__)

A folder (package) sits on one layer as a whole: a module may import its own folder and the folders of lower
layers, never a folder of its own layer or a higher one (the ground floor's modules and the entry points excepted).
Every import statement counts, also those inside functions (they still make a lower layer depend on a higher).
"""
from __future__ import annotations

import ast
from pathlib import Path


PKG = Path(__file__).resolve().parents[1] / "hwcli"
GROUND = ("errors", "checks", "alphabet", "charset", "strokes", "cleaning", "fileio", "texts", "arithmetic")
LAYERS = [
    GROUND,
    ("data", "page"),
    ("model",),
    ("recognizer",),
    ("synthesis",),
    ("writing", "training"),
    ("styles",),
    ("evaluation", "capture"),
    ("cli", "__main__", ""),  # "": hwcli/__init__.py, the public API
]


def room(module: str) -> str:
    """The top-level entry of hwcli a module belongs to: its folder, or its own name on the ground floor."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer(module: str) -> int:
    found = [rank for rank, rooms in enumerate(LAYERS) if room(module) in rooms]
    assert len(found) == 1, f"{module}: its folder {room(module)!r} must sit on exactly one layer, not {found}"
    return found[0]


def modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(module: str, path: Path) -> set[str]:
    """Every hwcli module `module` imports (relative imports resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    known = modules()
    return {m for m in found if m in known}


def test_every_folder_sits_on_one_layer():
    entries = {p.stem if p.suffix == ".py" else p.name for p in PKG.iterdir()
               if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    listed = [r for rooms in LAYERS for r in rooms if r]
    assert len(listed) == len(set(listed)), "a folder is listed on two layers"
    assert entries == set(listed), f"place every folder on a layer: missing {sorted(entries - set(listed))}, " \
                                   f"gone {sorted(set(listed) - entries)}"
    for mod in modules():
        layer(mod)


def upward_imports() -> list[str]:
    bad = []
    for mod, path in modules().items():
        for dep in imports(mod, path):
            if room(dep) == room(mod):
                continue
            if layer(dep) > layer(mod) or (layer(dep) == layer(mod) and 0 < layer(mod) < len(LAYERS) - 1):
                bad.append(f"{mod} (layer {layer(mod)}) imports {dep} (layer {layer(dep)})")
    return sorted(bad)


def test_no_module_imports_a_later_stage():
    bad = upward_imports()
    assert not bad, "\n".join(bad)


def test_a_planted_upward_import_is_caught(tmp_path, monkeypatch):
    # the check itself: a model module that imports the write flow must fail it
    planted = PKG / "model" / "bundle.py"
    text = planted.read_text() + "\n\ndef _planted():\n    from ..writing import document  # noqa\n"
    real = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: text if self == planted else real(self, *a, **k))
    assert any(b.startswith("hwcli.model.bundle ") and "hwcli.writing" in b for b in upward_imports())


def test_synthesis_comes_before_page_placement():
    # write flow: layout -> synthesis -> placement: sampling strokes never needs the page
    bad = [f"{mod} imports {dep}" for mod, path in modules().items()
           if mod.startswith(("hwcli.synthesis", "hwcli.model"))
           for dep in imports(mod, path) if dep.startswith("hwcli.page")]
    assert not bad, bad


def test_light_layers_stay_light():
    heavy = {"torch": ("hwcli.strokes", "hwcli.cleaning", "hwcli.page", "hwcli.data.iam"), "typer": ("hwcli",), "rich": ("hwcli",)}
    bad = []
    for mod, path in modules().items():
        top = {n.split(".")[0] for n in _all_imports(path)}
        for lib, where in heavy.items():
            if lib in top and any(mod == w or mod.startswith(w + ".") for w in where) and not mod.startswith("hwcli.cli"):
                bad.append(f"{mod} imports {lib}")
    assert not bad, bad


def _all_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
    return names
