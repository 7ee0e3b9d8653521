"""The architecture as STYLE.md draws it: imports flow one way, and the light layers stay light.

    errors, alphabet, strokes, fileio, arithmetic -> data, page -> model, recognizer (network, reading), ocr
        -> synthesis, training, recognizer.training -> document (the public API), recognizer.legibility and
        recognizer.selection (measure what `write` produces; training gets its read-back scorer from the cli)
        -> cli

Every import statement counts, also those inside functions (they still make a lower layer depend on a higher).
"""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "hwcli"
LAYERS = [
    ("hwcli.errors", "hwcli.checks", "hwcli.alphabet", "hwcli.strokes", "hwcli.fileio", "hwcli.formats", "hwcli.texts",
     "hwcli.arithmetic", "hwcli.charset"),
    ("hwcli.data", "hwcli.page"),
    ("hwcli.model", "hwcli.recognizer", "hwcli.recognizer.network", "hwcli.recognizer.reading", "hwcli.ocr"),
    ("hwcli.synthesis", "hwcli.training", "hwcli.recognizer.training"),
    ("hwcli.document", "hwcli.recognizer.legibility", "hwcli.recognizer.selection"),
    ("hwcli.cli", "hwcli.__main__", "hwcli"),
]


def layer(module: str) -> int:
    best = None
    for rank, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > best[1]):
                best = (rank, len(p))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


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


def test_no_module_imports_a_later_stage():
    bad = []
    for mod, path in modules().items():
        for dep in imports(mod, path):
            if layer(dep) > layer(mod):
                bad.append(f"{mod} (layer {layer(mod)}) imports {dep} (layer {layer(dep)})")
    assert not bad, "\n".join(sorted(bad))


def test_synthesis_comes_before_page_placement():
    # write flow: layout -> synthesis -> placement: sampling strokes never needs the page
    bad = [f"{mod} imports {dep}" for mod, path in modules().items()
           if mod == "hwcli.synthesis" or mod.startswith("hwcli.model")
           for dep in imports(mod, path) if dep.startswith("hwcli.page")]
    assert not bad, bad


def test_light_layers_stay_light():
    heavy = {"torch": ("hwcli.strokes", "hwcli.page", "hwcli.data.iam"), "typer": ("hwcli",), "rich": ("hwcli",)}
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
