"""A bundle's files on disk: the limits of what is read, the JSON's schema and bounds, and the tensor file read
only as a regular file beside the JSON with its sha256 checked. Shared by model and recognizer bundles
(`hwcli.model.bundle.load_model`, `hwcli.recognizer.network.load_recognizer`); every problem is a
`ModelFileError` naming the file."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from ..errors import ModelFileError

FORMAT_VERSION = 1
STYLE_GEOMETRY = {"x_scale": (0.5, 2.0), "shear": (-1.0, 1.0)}  # allowed ranges of a style's geometry correction


def stem_of(path: str | os.PathLike) -> Path:
    """A bundle's path without its .json / .safetensors suffix."""
    p = Path(path)
    return p.with_suffix("") if p.suffix in (".json", ".safetensors") else p

MAX_STEPS_PER_CHAR = 200  # sampled points per character: a real one takes ~25; more only allocates memory
MAX_RETRIES = 20  # resamples of a failed line
MAX_COPIES = 8  # copies of a line or segment written at once, the best reading kept (a bundle's copies and hard_copies)
MAX_JSON_BYTES = 64 << 20  # a bundle's JSON with a few dozen styles is well under 1 MB
MAX_TENSOR_BYTES = 2 << 30  # the bundled synthesis weights are 7 MB; 2 GiB allows a 20x larger network
MAX_DESCRIPTION = 200  # characters of a style's description
MAX_STYLE_POINTS = 20_000  # priming strokes of one style (a real line has ~700)
# what a bundle's config may say (beyond this a network only allocates memory, it does not write better)
CONFIG_LIMITS = {"hidden": (1, 4096), "layers": (1, 16), "window_k": (1, 100), "mixtures": (1, 200),
                 "alphabet_size": (2, 10_000)}


def _bad(jpath: Path, what: str) -> ModelFileError:
    return ModelFileError(f"model {str(jpath)!r} is not a valid bundle: {what}")


def _short(v) -> str:
    """repr of a bad value, cut to 40 characters (a hostile JSON can hold megabytes in one field)."""
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def validate_bundle_doc(doc: dict, jpath: Path) -> None:
    """Check the bundle JSON's schema before anything is built from it: every problem a hand-edited or hostile
    JSON can have (wrong types, missing keys, NaN or zero scale, an alphabet that does not fit the config,
    styles without text or with bad strokes, unbounded sampling values) becomes one ModelFileError."""
    cfg = doc.get("config")
    if not isinstance(cfg, dict):
        raise _bad(jpath, "'config' must be an object")
    if cfg.get("kind", "synthesis") not in ("synthesis", "prediction"):
        raise _bad(jpath, f"config.kind must be 'synthesis' or 'prediction', got {_short(cfg.get('kind'))}")
    for key, (lo, hi) in CONFIG_LIMITS.items():
        v = cfg.get(key)
        if v is None and key != "alphabet_size":
            continue  # the NetworkConfig default
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise _bad(jpath, f"config.{key} must be an integer in {lo}..{hi}, got {_short(v)}")
    if "kappa_scale" in cfg and not (_number(cfg["kappa_scale"]) and cfg["kappa_scale"] > 0):
        raise _bad(jpath, f"config.kappa_scale must be a positive number, got {_short(cfg['kappa_scale'])}")
    chars = doc.get("alphabet")
    if not isinstance(chars, str) or not chars:
        raise _bad(jpath, "'alphabet' must be a non-empty string")
    if len(set(chars)) != len(chars):
        raise _bad(jpath, "'alphabet' has repeated characters")
    if len(chars) + 1 != cfg["alphabet_size"]:
        raise _bad(jpath, f"the alphabet has {len(chars)} characters (+1 padding) but config.alphabet_size is "
                          f"{cfg['alphabet_size']}")
    stats = doc.get("stats", {})
    scale = stats.get("scale", 1.0) if isinstance(stats, dict) else None
    if not (_number(scale) and scale > 0):
        raise _bad(jpath, f"stats.scale must be a positive finite number, got {_short(scale)}")
    _validate_defaults(doc.get("defaults", {}), jpath)
    styles = doc.get("styles", [])
    if not isinstance(styles, list):
        raise _bad(jpath, "'styles' must be a list")
    for i, st in enumerate(styles):
        _validate_style(st, i, jpath)
    chosen = doc.get("defaults", {}).get("default_style", 0)
    if chosen and chosen >= len(styles):
        raise _bad(jpath, f"defaults.default_style is {chosen} but the model has {len(styles)} style(s)")
    for key in ("char_width", "body_height"):
        if key in doc and not (_number(doc[key]) and doc[key] > 0):
            raise _bad(jpath, f"{key} must be a positive number, got {_short(doc[key])}")
    if not isinstance(doc.get("provenance", {}), dict):
        raise _bad(jpath, "'provenance' must be an object")
    tinfo = doc.get("tensors")
    if not isinstance(tinfo, dict) or not isinstance(tinfo.get("sha256"), str):
        raise _bad(jpath, "'tensors' must be an object with the tensor file's 'sha256'")
    if "file" in tinfo and not isinstance(tinfo["file"], str):
        raise _bad(jpath, "tensors.file must be a file name")


def _validate_defaults(d, jpath: Path) -> None:
    if not isinstance(d, dict):
        raise _bad(jpath, "'defaults' must be an object")
    ints = {"max_steps_per_char": (5, MAX_STEPS_PER_CHAR), "retries": (0, MAX_RETRIES), "segment_chars": (0, 10_000),
            "default_style": (0, 10_000), "hard_copies": (1, MAX_COPIES),
            "copies": (1, MAX_COPIES)}
    nums = {"bias": (0.0, 10.0), "hard_bias": (0.0, 10.0), "check_cer": (0.0, 10.0), "fail_cer": (0.0, 10.0), "size_ramp": (-1.0, 1.0)}
    for k, (lo, hi) in ints.items():
        if k in d and (isinstance(d[k], bool) or not isinstance(d[k], int) or not lo <= d[k] <= hi):
            raise _bad(jpath, f"defaults.{k} must be an integer in {lo}..{hi}, got {_short(d[k])}")
    if d.get("segment_chars", 0) not in (0,) and d.get("segment_chars", 0) < 8:
        raise _bad(jpath, f"defaults.segment_chars must be 0 or at least 8, got {_short(d['segment_chars'])}")
    for k, (lo, hi) in nums.items():
        if k in d and not (_number(d[k]) and lo <= d[k] <= hi):
            raise _bad(jpath, f"defaults.{k} must be a number in {lo:g}..{hi:g}, got {_short(d[k])}")
    if "check" in d and not isinstance(d["check"], bool):
        raise _bad(jpath, f"defaults.check must be true or false, got {_short(d['check'])}")


def _validate_style(st, i: int, jpath: Path) -> None:
    if not isinstance(st, dict):
        raise _bad(jpath, f"style {i} must be an object")
    if not isinstance(st.get("text"), str) or not st["text"].strip():
        raise _bad(jpath, f"style {i} has no text (the priming strokes must say something)")
    if not isinstance(st.get("name", ""), str) or not isinstance(st.get("source", ""), str):
        raise _bad(jpath, f"style {i}: name and source must be strings")
    desc = st.get("description", "")
    if not isinstance(desc, str) or len(desc) > MAX_DESCRIPTION or any(c in desc for c in "\r\n\t"):
        raise _bad(jpath, f"style {i}: description must be one line of at most {MAX_DESCRIPTION} characters, "
                          f"got {_short(desc)}")
    if not isinstance(st.get("full_set", False), bool):
        raise _bad(jpath, f"style {i}: full_set must be true or false, got {_short(st['full_set'])}")
    pts = st.get("strokes")
    if not isinstance(pts, list) or not 2 <= len(pts) <= MAX_STYLE_POINTS:
        raise _bad(jpath, f"style {i}: strokes must be a list of 2..{MAX_STYLE_POINTS} [dx, dy, pen_up] rows")
    try:
        arr = np.asarray(pts, np.float64)
    except (ValueError, TypeError):
        arr = None
    if arr is None or arr.ndim != 2 or arr.shape[1] != 3 or not np.isfinite(arr).all():
        raise _bad(jpath, f"style {i}: strokes must be finite [dx, dy, pen_up] rows")
    for key in ("char_width", "body_height"):
        if key in st and not (_number(st[key]) and st[key] >= 0):
            raise _bad(jpath, f"style {i}: {key} must be a number >= 0, got {_short(st[key])}")
    for key, (lo, hi) in STYLE_GEOMETRY.items():
        if key in st and not (_number(st[key]) and lo <= st[key] <= hi):
            raise _bad(jpath, f"style {i}: {key} must be a number in {lo:g}..{hi:g}, got {_short(st[key])}")


def read_bundle_json(path: str | os.PathLike) -> tuple[Path, dict]:
    stem = stem_of(path)
    jpath = stem.with_suffix(".json")
    if not jpath.exists():
        raise ModelFileError(f"model {str(jpath)!r} not found")
    if not jpath.is_file():
        raise ModelFileError(f"model {str(jpath)!r} is not a regular file")
    try:
        with open(jpath, "rb") as fh:
            raw = fh.read(MAX_JSON_BYTES + 1)
        if len(raw) > MAX_JSON_BYTES:
            raise ModelFileError(f"model {str(jpath)!r} is larger than {MAX_JSON_BYTES >> 20} MB: not a bundle JSON")
        doc = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise ModelFileError(f"model {str(jpath)!r} is not a valid bundle JSON ({why})") from None
    if not isinstance(doc, dict) or "config" not in doc or "alphabet" not in doc:
        raise ModelFileError(f"model {str(jpath)!r} is not a hwcli bundle (config/alphabet missing)")
    ver = doc.get("format_version", 0)
    if isinstance(ver, bool) or not isinstance(ver, int):
        raise ModelFileError(f"model {str(jpath)!r} is not a valid bundle: format_version must be an integer, got {_short(ver)}")
    if ver > FORMAT_VERSION:
        raise ModelFileError(
            f"model {str(jpath)!r} needs bundle format version {ver}; this hwcli reads up to {FORMAT_VERSION}: upgrade hwcli"
        )
    return stem, doc


def tensor_file(stem: Path, doc: dict, what: str = "model") -> Path:
    """The bundle's tensor file: a plain file name beside the JSON (never a path elsewhere), a regular file
    (not a device, FIFO or folder) of at most MAX_TENSOR_BYTES."""
    import stat

    tinfo = doc.get("tensors") if isinstance(doc.get("tensors"), dict) else {}
    name = tinfo.get("file", stem.with_suffix(".safetensors").name)
    if (not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name
            or "\0" in name or Path(name).name != name):
        raise ModelFileError(f"{what} {str(stem)!r}: tensors.file {_short(name)} must be a file name beside the JSON, not a path")
    tpath = stem.parent / name
    try:
        st = os.stat(tpath)
    except OSError:
        raise ModelFileError(f"{what} weights {str(tpath)!r} not found") from None
    if not stat.S_ISREG(st.st_mode):
        raise ModelFileError(f"{what} weights {str(tpath)!r} are not a regular file")
    if st.st_size > MAX_TENSOR_BYTES:
        raise ModelFileError(f"{what} weights {str(tpath)!r} are {st.st_size / 2**30:.1f} GiB, more than the "
                             f"{MAX_TENSOR_BYTES >> 30} GiB a bundle may have")
    return tpath


def read_verified_tensors(stem: Path, doc: dict, what: str = "model") -> bytes:
    """The bytes of the bundle's tensor file, after checking them against the sha256 in its JSON."""
    tinfo = doc.get("tensors") if isinstance(doc.get("tensors"), dict) else {}
    tpath = tensor_file(stem, doc, what)
    try:
        with open(tpath, "rb") as fh:
            blob = fh.read(MAX_TENSOR_BYTES + 1)
    except OSError as exc:
        raise ModelFileError(f"{what} weights {str(tpath)!r} cannot be read ({exc.strerror})") from None
    if len(blob) > MAX_TENSOR_BYTES:
        raise ModelFileError(f"{what} weights {str(tpath)!r} grew past {MAX_TENSOR_BYTES >> 30} GiB while read")
    if hashlib.sha256(blob).hexdigest() != tinfo.get("sha256"):
        raise ModelFileError(f"{what} weights {str(tpath)!r} do not match the sha256 in {stem.name}.json (corrupt or modified file)")
    return blob


def load_tensors(blob: bytes, tpath: str, expected: dict, what: str = "model") -> dict:
    """Parse a safetensors blob (its own errors: truncated, oversized header, not safetensors at all, e.g. a
    renamed pickle, which is never unpickled) and check it against `expected` (the network's state dict): the
    same names, the same shapes (both named on a mismatch), finite values."""
    from safetensors.torch import load as load_bytes

    try:
        tensors = load_bytes(blob)
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own SafetensorError, or others
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(f"{what} weights {tpath!r} are not a valid safetensors file ({why[:200]})") from None
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        parts = ([f"missing {', '.join(missing[:5])}"] if missing else []) + ([f"unexpected {', '.join(extra[:5])}"] if extra else [])
        raise ModelFileError(f"{what} weights {tpath!r} do not fit the network in its JSON: {'; '.join(parts)}")
    for name, ref in expected.items():
        t = tensors[name]
        if tuple(t.shape) != tuple(ref.shape):
            raise ModelFileError(f"{what} weights {tpath!r}: tensor {name!r} has shape {tuple(t.shape)}, the network "
                                 f"in the JSON needs {tuple(ref.shape)}")
        if not t.is_floating_point():
            raise ModelFileError(f"{what} weights {tpath!r}: tensor {name!r} is {t.dtype}, not floating point")
        if not bool(torch.isfinite(t).all()):
            raise ModelFileError(f"{what} weights {tpath!r}: tensor {name!r} holds NaN or infinite values")
    return {k: v.float() for k, v in tensors.items()}
