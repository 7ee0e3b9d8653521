"""Personal styles: the user's data folder, adding a writer's ink as a style, finding styles by name.

The library lives in ``$HWCLI_HOME/styles/``, else ``$XDG_DATA_HOME/hwcli/styles/``, else
``~/.local/share/hwcli/styles/``; folders are created private (0700), files 0600. A style is a folder::

    styles/NAME/style.json   format_version, name, model (the bundle it was made for), adapted (file stem of
                             a personal bundle in this folder, or null), style (priming strokes, text, measured
                             char_width and body_height), the selection and adaptation records
    styles/NAME/ink.npz      the writer's cleaned lines in the model's units, for `hwcli train --init MODEL --data`
    styles/NAME/model.*      the personal bundle, with --adapt

A style is built in a hidden staging folder next to its final place and renamed into place at the very end, so
an interrupted `add` (Ctrl-C, a crash) leaves the library as it was; `remove` renames before deleting.

Adding a style: the ink is cleaned (`style_ink`), the candidate priming lines are scored by the network's
own likelihood (teacher-forced NLL per point: how well the model can follow that line), the best few each
prime a set of calibration sentences, which the bundled recognizer reads back; the prime whose sentences read
best wins, and its sentences give the hand's letter width and body height, as packaging measures the bundled
styles (page layout then sizes and wraps the hand by what it writes). The network writes only part of the way
towards an unfamiliar hand, so the same sentences also give a geometry correction (`geometry_correction`): the x
scale and shear that bring their letter width and slant to the writer's own, stored with the style and applied
to every line written in it.
"""
from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .errors import OptionError, StyleNotFoundError
from .fileio import atomic_output
from .texts import CALIBRATION

FORMAT_VERSION = 1
STYLE_FILE = "style.json"
INK_FILE = "ink.npz"
MODEL_STEM = "model"
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,39}")  # used with fullmatch only
PERSONAL_SOURCE = "personal:"  # how a personal Style's source begins
CANDIDATES = 4  # priming lines tried by sampling (the rest are ranked out by likelihood alone)


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


def _read_style(folder: Path) -> PersonalStyle:
    from .model.bundle import Style

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
                out.append(_read_style(f))
            except StyleNotFoundError as exc:
                out.append((f.name, str(exc)))
    return out


def find_style(name: str) -> PersonalStyle | None:
    f = styles_dir() / name
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or not (f / STYLE_FILE).is_file():
        return None
    return _read_style(f)


def remove_style(name: str) -> Path:
    """Delete a personal style (renamed out of the library first, so it is there or gone, never half)."""
    check_name(name)
    folder = styles_dir() / name
    if not (folder / STYLE_FILE).is_file():
        raise StyleNotFoundError(f"no personal style {name!r} (see `hwcli styles`)")
    trash = Path(tempfile.mkdtemp(prefix=f".{name}.removed.", dir=folder.parent))
    os.replace(folder, trash / name)
    shutil.rmtree(trash, ignore_errors=True)
    return folder


@contextlib.contextmanager
def staging(name: str, replace: bool = False):
    """A private folder to build style `name` in; on success it becomes ``styles/NAME`` in one rename, on any
    exception (Ctrl-C included) it is deleted and the library is as it was."""
    check_name(name)
    root = styles_dir(create=True)
    final = root / name
    if final.exists() and not replace:
        raise OptionError(f"a personal style {name!r} exists already: remove it first (`hwcli styles remove {name}`) "
                          "or add with --replace")
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.adding.", dir=root))
    try:
        yield tmp
        for f in tmp.rglob("*"):  # personal data: private whatever the umask (files are written with it)
            os.chmod(f, 0o700 if f.is_dir() else 0o600)
        if replace and final.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{name}.replaced.", dir=root))
            os.replace(final, trash / name)
            _commit(tmp, final, name)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            _commit(tmp, final, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _commit(tmp: Path, final: Path, name: str) -> None:
    """Rename the finished folder `tmp` to `final`, never over a style that appeared meanwhile (another `add`
    of the same name running at once): the "exists already" check at the start is not enough, so the commit
    itself refuses. rename(2) of a folder onto a non-empty folder fails (ENOTEMPTY/EEXIST), and a style folder
    is never empty; an empty folder in the way is refused first."""
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise _exists(name)
    try:
        os.rename(tmp, final)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise _exists(name) from None
        raise


def _exists(name: str) -> OptionError:
    return OptionError(f"a personal style {name!r} exists already (another `styles add` made it meanwhile?): remove "
                       f"it first (`hwcli styles remove {name}`) or add with --replace")


def write_style(folder: Path, name: str, model: str, style, lines: int, adapted: str | None, info: dict) -> None:
    doc = {"format_version": FORMAT_VERSION, "name": name, "model": model, "adapted": adapted, "lines": lines,
           "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "style": style.to_json(), "info": info}
    with atomic_output(folder / STYLE_FILE) as fh:
        fh.write(json.dumps(doc, indent=1).encode())


def save_ink(folder: Path, lines, scale: float) -> None:
    """The cleaned lines as a converted dataset in the bundle's units (normalised x `scale`), every 10th line
    in testset_v: ``hwcli train --init MODEL --data .../ink.npz`` fine-tunes on it with full control."""
    from .adapt import HOLDOUT
    from .data.dataset import Dataset

    unit = np.array([scale, scale, 1.0], np.float32)
    splits = ["testset_v" if i % HOLDOUT == HOLDOUT - 1 else "trainset" for i in range(len(lines))]
    ds = Dataset.from_lines([ln.offsets * unit for ln in lines], [ln.text for ln in lines], [ln.name for ln in lines],
                            [-1] * len(lines), splits,
                            {"stats": {"scale": float(scale), "scale_from": "the model's normalisation"},
                             "preprocessing": {"personal": "hwcli.style_ink (pipeline without downsampling, body "
                                               "height and point density matched to the model)"}})
    ds.save(folder / INK_FILE)


# ----------------------------------------------------------------------------- choosing the prime
def line_nll(bundle, lines) -> list[float]:
    """Teacher-forced NLL per point of each line under the synthesis network (lower: the model follows it)."""
    import torch

    from .model import mdn
    from .model.sampling import onehot_texts

    out = []
    net = bundle.network
    with torch.inference_mode():
        for ln in lines:
            seq = torch.from_numpy(ln.offsets).unsqueeze(0)
            oh, _ = onehot_texts(bundle, [ln.text])
            y, _, _ = net(seq[:, :-1], oh)
            mask = torch.ones(1, seq.shape[1] - 1)
            out.append(float(mdn.nll(y, seq[:, 1:], mask, bundle.config.mixtures)) / mask.sum().item())
    return out


@dataclass
class Choice:
    style: object  # the chosen Style, with char_width and body_height measured
    record: dict  # what was tried and how it scored


def choose_prime(bundle, lines, name: str, recognizer=None, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None, match_geometry: bool = True) -> Choice:
    """The best priming line of `lines` for `bundle` (see the module docstring), measured; with
    `match_geometry`, with the correction that gives its lines the writer's letter width and slant."""
    from .model.bundle import Style
    from .strokes import body_height
    from .recognizer.reading import cer, read_strokes
    from .strokes import to_points
    from .synthesis import SamplingOptions, synthesize

    nll = line_nll(bundle, lines)
    # very long lines make a long prime (slow, and the model drifts); very short ones say little about the hand
    pool = [i for i, ln in enumerate(lines) if 12 <= len(ln.text) <= 50] or list(range(len(lines)))
    pool = sorted(pool, key=lambda i: nll[i])[:CANDIDATES]
    tried = []
    samples: dict = {}  # candidate -> its sampled lines that passed the checks
    for k, i in enumerate(pool):
        st = Style(name, lines[i].text, lines[i].offsets, source=lines[i].name)
        saved = bundle.styles
        bundle.styles = [st]
        try:
            res = synthesize(bundle, CALIBRATION, SamplingOptions(style=0, seed=seed, retries=0, check=False))
        finally:
            bundle.styles = saved
        good = [r for r in res if r.ok and len(r.strokes) > 8]
        score = float(len(res) - len(good))  # failed lines count as unreadable
        if recognizer is not None:
            hyps = read_strokes(recognizer, [r.strokes for r in res], bundle.scale)
            score = float(np.mean([1.0 if not r.ok else cer(r.text, " ".join(h.split())) for r, h in zip(res, hyps)]))
        widths = [float(np.ptp(np.cumsum(r.strokes[:, 0]))) / len(r.text) for r in good]
        heights = [body_height(to_points(r.strokes)) for r in good]
        tried.append({"line": lines[i].name, "text": lines[i].text, "nll_point": round(nll[i], 4),
                      "readback_cer" if recognizer is not None else "failed_lines": round(score, 4),
                      "char_width": float(np.median(widths)) if widths else 0.0,
                      "body_height": float(np.median(heights)) if heights else 0.0, "index": i})
        samples[i] = [(r.strokes, r.text) for r in good]
        if progress:
            progress(k + 1, len(pool))
    key = "readback_cer" if recognizer is not None else "failed_lines"
    best = min(tried, key=lambda t: (t[key], t["nll_point"]))
    ln = lines[best["index"]]
    cw, bh, measured = best["char_width"], best["body_height"], "sampled lines"
    if cw <= 0 or bh <= 0:
        # no sampled line passed the checks: the writer's own lines are the best measure there is
        pts = [to_points(x.offsets) for x in lines]
        cw = float(np.median([np.ptp(p[:, 0]) / len(x.text) for p, x in zip(pts, lines)]))
        bh = float(np.median([body_height(p) for p in pts]))
        measured = "the writer's lines"
    geometry = {}
    if match_geometry and measured == "sampled lines":
        geometry = geometry_correction(hand_geometry([(x.offsets, x.text) for x in lines]), samples[best["index"]])
        cw *= geometry["x_scale"]  # the page lays out the lines as they will be drawn
    style = Style(name, ln.text, ln.offsets, source=f"{PERSONAL_SOURCE} {ln.name}", char_width=cw, body_height=bh,
                  x_scale=geometry.get("x_scale", 1.0), shear=geometry.get("shear", 0.0))
    return Choice(style, {"criterion": key, "chosen": best["line"], "measured_on": measured, "candidates": tried,
                          "geometry": geometry or None})


#: How far `geometry_correction` may reshape what the network writes: letter width by at most 1.33x either way,
#: slant by at most 0.4 (about 22 degrees).
MAX_X_SCALE, MAX_SHEAR = 1.33, 0.4


def hand_geometry(lines: Sequence[tuple[np.ndarray, str]]) -> dict:
    """Median slant (`strokes.slant`: shear units, + leaning right) and letter width (ink width per character
    / body height) of (offsets, text) lines; empty when there are none."""
    from .strokes import body_height, slant, to_points

    sl, wr = [], []
    for off, text in lines:
        pts = to_points(off)
        h = body_height(pts)
        if len(pts) > 8 and h > 0 and text.strip():
            sl.append(slant(pts))
            wr.append(float(np.ptp(pts[:, 0])) / len(text) / h)
    return {"slant": float(np.median(sl)), "width": float(np.median(wr))} if sl else {}


def geometry_correction(writer: dict, sampled: Sequence[tuple[np.ndarray, str]], rounds: int = 3) -> dict:
    """The x scale and shear (`strokes.restyle`) that give `sampled` lines (offsets, text) the `writer`'s letter
    width and slant (`hand_geometry`), within `MAX_X_SCALE` and `MAX_SHEAR`.

    The network, primed or adapted, writes only part of the way towards an unfamiliar hand: on 4 unseen
    IAM-OnDB writers, generated slant was off by up to 3.8 and letter width by up to 1.7 of a writer's own
    line-to-line spread. The slant measure responds to a shear only in part (which pen moves count as
    near-vertical changes with it), so the correction is refined on the sampled lines themselves, `rounds`
    times: restyle them, measure, adjust."""
    from .strokes import restyle

    start = hand_geometry(sampled)
    if not writer or not start:
        return {"x_scale": 1.0, "shear": 0.0}
    sx, k, now = 1.0, 0.0, start
    for _ in range(rounds):
        sx = float(np.clip(sx * writer["width"] / now["width"], 1 / MAX_X_SCALE, MAX_X_SCALE))
        k = float(np.clip(k + writer["slant"] - now["slant"], -MAX_SHEAR, MAX_SHEAR))
        now = hand_geometry([(restyle(o, sx, k), t) for o, t in sampled])
    return {"x_scale": round(sx, 4), "shear": round(k, 4), "writer_slant": round(writer["slant"], 4),
            "sampled_slant": round(start["slant"], 4), "corrected_slant": round(now["slant"], 4),
            "writer_width": round(writer["width"], 4), "sampled_width": round(start["width"], 4),
            "corrected_width": round(now["width"], 4)}


# ----------------------------------------------------------------------------- using styles
def resolve(model, keys: Sequence[str | int | None]):
    """(bundle, keys) for `--model`/`--style`: personal style names among `keys` are added to the loaded bundle's
    styles and replaced by their index. With no --model, an adapted personal style loads its own bundle."""
    from .model.bundle import load_model

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


# ----------------------------------------------------------------------------- adding
ADAPT_MIN_LINES = 5  # fewer lines than this cannot teach the network a hand (20 are recommended)
Progress = Callable[[str, int, int], None]  # (stage, done, total)


def add_style(name: str, sources: Sequence[str | os.PathLike], texts: Sequence[str] | None = None, model=None,
              adapt: bool = False, replace: bool = False, seed: int = 0, check: bool = True, recognizer=None,
              adapt_options: dict | None = None, progress: Progress | None = None) -> PersonalStyle:
    """Clean the ink, choose and measure the prime, optionally adapt the network, store the style."""
    from .errors import InkError
    from .model.bundle import DEFAULT_MODEL, load_model
    from .style_ink import prepare_lines, read_ink

    check_name(name)
    bundle = load_model(model)
    if not bundle.is_synthesis:
        raise OptionError(f"{bundle.path!r} is a prediction (unconditional) model: styles need a synthesis model")
    if any(s.name == name for s in bundle.styles):
        raise OptionError(f"{name!r} is the name of a built-in style of this model: choose another name")
    if (styles_dir() / name).exists() and not replace:
        raise OptionError(f"a personal style {name!r} exists already: remove it first (`hwcli styles remove {name}`) "
                          "or add with --replace")
    lines = prepare_lines(read_ink(sources, texts), bundle.alphabet)
    if adapt and len(lines) < ADAPT_MIN_LINES:
        raise InkError(f"--adapt needs at least {ADAPT_MIN_LINES} lines of ink (20 recommended); got {len(lines)}")
    rec = None
    if check:  # the recognizer scores the candidate primes; without it, the likelihood and sampling checks do
        from .errors import ModelFileError
        from .recognizer.network import load_recognizer

        if recognizer is not None:
            rec = load_recognizer(recognizer)
        else:
            with contextlib.suppress(ModelFileError):
                rec = load_recognizer()
    model_spec = DEFAULT_MODEL if model is None else (str(model) if Path(str(model)).name == str(model)
                                                      and not Path(str(model)).exists() else str(Path(model).resolve()))
    with staging(name, replace) as folder:
        save_ink(folder, lines, bundle.scale)
        info: dict = {}
        adapted = None
        if adapt:
            from .adapt import adapt_bundle

            res = adapt_bundle(bundle, model_spec, lines, folder, MODEL_STEM, seed=seed, progress=progress,
                               recognizer=rec, **(adapt_options or {}))
            bundle, info["adapt"] = res.bundle, res.record
            adapted = MODEL_STEM if res.record.get("kept", True) else None  # else: priming alone imitates better
        choice = choose_prime(bundle, lines, name, rec, seed,
                              (lambda d, t: progress("choosing the priming line", d, t)) if progress else None)
        info["selection"] = choice.record
        write_style(folder, name, model_spec, choice.style, len(lines), adapted, info)
    return _read_style(styles_dir() / name)
