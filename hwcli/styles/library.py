"""Adding a writer's ink as a personal style, and removing one (the folder itself: `hwcli.model.personal`).

A style is built in a hidden staging folder next to its final place and renamed into place at the very end, so
an interrupted `add` (Ctrl-C, a crash) leaves the library as it was; `remove` renames before deleting.

Adding a style: the ink is cleaned (`hwcli.styles.ink`), the priming line is chosen and measured
(`hwcli.styles.priming`), the network optionally adapted to the hand (`hwcli.styles.adapt`), and the style
written into the folder.
"""
from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import OptionError, StyleNotFoundError
from ..fileio import atomic_output
from ..model.personal import (FORMAT_VERSION, INK_FILE, MODEL_STEM, STYLE_FILE, PersonalStyle, check_name, read_style,
                              styles_dir)
from .priming import choose_prime


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
    from .adapt import held_out
    from ..data.dataset import Dataset

    unit = np.array([scale, scale, 1.0], np.float32)
    held = held_out(len(lines))
    splits = ["testset_v" if i in held else "trainset" for i in range(len(lines))]
    ds = Dataset.from_lines([ln.offsets * unit for ln in lines], [ln.text for ln in lines], [ln.name for ln in lines],
                            [-1] * len(lines), splits,
                            {"stats": {"scale": float(scale), "scale_from": "the model's normalisation"},
                             "preprocessing": {"personal": "hwcli.styles.ink (pipeline without downsampling, body "
                                               "height and point density matched to the model)"}})
    ds.save(folder / INK_FILE)


# ----------------------------------------------------------------------------- adding
ADAPT_MIN_LINES = 5  # fewer lines than this cannot teach the network a hand (20 are recommended)
Progress = Callable[[str, int, int], None]  # (stage, done, total)


def add_style(name: str, sources: Sequence[str | os.PathLike], texts: Sequence[str] | None = None, model=None,
              adapt: bool = False, replace: bool = False, seed: int = 0, check: bool = True, recognizer=None,
              adapt_options: dict | None = None, progress: Progress | None = None) -> PersonalStyle:
    """Clean the ink, choose and measure the prime, optionally adapt the network, store the style. With no
    `model`, the style is made for the bundled full-set model (`charset.FULL_SET`) when it is installed, else for
    the bundled default."""
    from ..errors import InkError, ModelFileError
    from ..model.bundle import DEFAULT_MODEL, load_model
    from .ink import prepare_lines, read_ink

    check_name(name)
    bundle = load_model(model)
    if not bundle.is_synthesis:
        raise OptionError(f"{bundle.path!r} is a prediction (unconditional) model: styles need a synthesis model")
    if any(s.name == name for s in bundle.styles):
        raise OptionError(f"{name!r} is the name of a built-in style of this model: choose another name")
    if (styles_dir() / name).exists() and not replace:
        raise OptionError(f"a personal style {name!r} exists already: remove it first (`hwcli styles remove {name}`) "
                          "or add with --replace")
    raw = read_ink(sources, texts)
    if model is None:  # the style is made for the full-set model: it writes every character of the set in the
        # writer's hand, and imitates about as well with pages that read a little better (session 20,
        # benchmarks/imitation.py --model hwcli-charset, 11 unseen writers, seeds 3-6: adapted 70% / 72% by the two
        # judges against 68% / 74% made for hwcli-synthesis, primed 62% / 66% against 63% / 62%, tesseract of the
        # adapted pages 0.208 against 0.214, primed 0.155 against 0.172)
        from ..charset import FULL_SET, routes_to_full_set

        if routes_to_full_set(None, bundle):
            model = FULL_SET
            bundle = load_model(model)
    lines = prepare_lines(raw, bundle.alphabet)
    if adapt and len(lines) < ADAPT_MIN_LINES:
        raise InkError(f"--adapt needs at least {ADAPT_MIN_LINES} lines of ink (20 recommended); got {len(lines)}")
    rec = None
    if check:  # the recognizer scores the candidate primes; without it (--no-check) the likelihood and sampling checks do
        from ..recognizer.network import load_recognizer

        try:
            rec = load_recognizer(recognizer)
        except ModelFileError as exc:  # said, as `write` says it, never a quiet "off"
            raise ModelFileError(f"checking is on but the recognizer cannot be loaded: {exc} (or add the style with "
                                 "--no-check, check=False)") from None
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
    return read_style(styles_dir() / name)
