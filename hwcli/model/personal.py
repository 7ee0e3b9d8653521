"""The user's style folder: listing, finding, and resolving a style name (built-in or personal) into bundle + style,
so that the library and the CLI resolve names the same way.

The library lives in ``$HWCLI_HOME/styles/``, else ``$XDG_DATA_HOME/hwcli/styles/``, else
``~/.local/share/hwcli/styles/``; folders are created private (0700), files 0600. A style is a folder::

    styles/NAME/style.json   format_version, name, model (the bundle it was made for), adapted (file stem of
                             a personal bundle in this folder, or null), style (priming strokes, text, measured
                             char_width and body_height), the selection and adaptation records
    styles/NAME/ink.npz      the writer's cleaned lines in the model's units, for `hwcli train --init MODEL --data`
    styles/NAME/model.*      the personal bundle, with --adapt

Adding and removing styles is `hwcli.styles.library`'s. Listing needs no torch: `Style` is imported when a style
is read.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import OptionError, StyleNotFoundError

FORMAT_VERSION = 1
STYLE_FILE = "style.json"
INK_FILE = "ink.npz"
MODEL_STEM = "model"
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,39}")  # used with fullmatch only
PERSONAL_SOURCE = "personal:"  # how a personal Style's source begins


# ----------------------------------------------------------------------------- the folder
def data_dir() -> Path:
    """hwcli's user data folder (not created here)."""
    if os.environ.get("HWCLI_HOME"):
        return Path(os.environ["HWCLI_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "hwcli"


def styles_dir(create: bool = False) -> Path:
    d = data_dir() / "styles"
    if create:
        try:
            for folder in (data_dir(), d):
                if not folder.is_dir():
                    folder.mkdir(parents=True, mode=0o700)
                    os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
        except OSError as exc:
            raise OptionError(f"cannot create the style library {str(d)!r}: {exc.strerror or exc}") from None
    return d


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or name == "all":  # fullmatch: '$' allows a '\n'
        raise OptionError(f"invalid style name {name!r}: a letter, then up to 39 letters, digits, '_', '-' or '.'")
    return name


# ----------------------------------------------------------------------------- records
@dataclass
class PersonalStyle:
    name: str
    path: Path  # the style's folder
    model: str  # the bundle the style was made for (a bundled model's name or a path)
    style: object  # hwcli.model.bundle.Style (imported lazily: listing styles needs no torch)
    adapted: str | None = None  # stem of the personal bundle inside `path`
    lines: int = 0
    info: dict = field(default_factory=dict)  # selection and adaptation records

    @property
    def bundle_path(self) -> Path | None:
        return self.path / self.adapted if self.adapted else None


def read_style(folder: Path) -> PersonalStyle:
    from .bundle import Style

    try:
        doc = json.loads((folder / STYLE_FILE).read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise ValueError(f"{STYLE_FILE} holds {type(doc).__name__}, not an object")
        version = doc.get("format_version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError(f"format_version {version!r} is not a number")
        if version > FORMAT_VERSION:
            raise StyleNotFoundError(f"personal style {folder.name!r} needs a newer hwcli (style format {version})")
        for key in ("name", "model"):
            if not isinstance(doc.get(key), str):
                raise ValueError(f"{key!r} is {doc.get(key)!r}, not a text")
        st, adapted, info = doc.get("style"), doc.get("adapted"), doc.get("info", {})
        if not isinstance(st, dict) or not isinstance(st.get("text"), str):
            raise ValueError("'style' has no priming text")
        if adapted is not None and (not isinstance(adapted, str) or not _NAME_RE.fullmatch(adapted)):
            raise ValueError(f"'adapted' is {adapted!r}, not a file stem in the style's folder")
        if not isinstance(info, dict):
            raise ValueError("'info' is not an object")
        style = Style.from_json(st)
        if not np.isfinite(style.strokes).all():
            raise ValueError("the priming strokes are not finite")
        return PersonalStyle(doc["name"], folder, doc["model"], style, adapted, int(doc.get("lines", 0)), info)
    except StyleNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the file holds, one damaged style never hides the others
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise StyleNotFoundError(f"personal style {folder.name!r} in {str(folder)!r} is damaged ({reason}): remove it "
                                 f"with `hwcli styles remove {folder.name}`") from None


def list_styles() -> list[PersonalStyle | tuple[str, str]]:
    """Every personal style, by name; a damaged one as (name, reason)."""
    d = styles_dir()
    out: list = []
    if not d.is_dir():
        return out
    for f in sorted(d.iterdir()):
        if f.is_dir() and not f.name.startswith("."):
            try:
                out.append(read_style(f))
            except StyleNotFoundError as exc:
                out.append((f.name, str(exc)))
    return out


def find_style(name: str) -> PersonalStyle | None:
    f = styles_dir() / name
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or not (f / STYLE_FILE).is_file():
        return None
    return read_style(f)


# ----------------------------------------------------------------------------- using styles
def resolve(model, keys: Sequence[str | int | None]):
    """(bundle, keys) for `--model`/`--style`: personal style names among `keys` are added to the loaded bundle's
    styles and replaced by their index. With no --model, an adapted personal style loads its own bundle."""
    from .bundle import load_model

    personal = {}
    for k in keys:
        if isinstance(k, str) and not k.strip().lstrip("-").isdigit() and k != "all":
            ps = find_style(k)
            if ps is not None:
                personal[k] = ps
    adapted = {str(ps.bundle_path) for ps in personal.values() if ps.adapted}
    if model is None and len(adapted) > 1:
        raise OptionError("adapted styles each bring their own model: use one adapted style at a time")
    if model is None and adapted:
        path = adapted.pop()
        bundle = load_model(path)
    else:
        bundle = load_model(model if model is not None else _base_model(personal))
    names = {s.name for s in bundle.styles}
    out = []
    for k in keys:
        if k in personal and k not in names:
            bundle.styles.append(personal[k].style)
            out.append(len(bundle.styles) - 1)
        else:
            out.append(k)
    return bundle, out


def _base_model(personal: dict):
    """The model personal styles were made for, when they agree (else the bundled default)."""
    models = {ps.model for ps in personal.values() if not ps.adapted}
    return models.pop() if len(models) == 1 else None


def resolve_style(model, style):
    """(bundle, style) for one style: `model` a loaded `Bundle`, a bundled model's name, a path or None; `style` an
    index, a built-in or personal style name, a `Style` or None. The CLI and `hwcli.write` resolve names alike
    (`resolve`): a built-in name wins over a personal one, and with no model an adapted personal style brings its
    own. A loaded bundle is left as it is: its personal style comes back as the `Style` itself."""
    from .bundle import Bundle

    if not isinstance(model, Bundle):
        bundle, (key,) = resolve(model, [style])
        return bundle, key
    if (isinstance(style, str) and not style.strip().lstrip("-").isdigit()
            and style not in {s.name for s in model.styles}):
        ps = find_style(style)
        if ps is not None:
            return model, ps.style
    return model, style
