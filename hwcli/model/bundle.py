"""Model bundles: ``NAME.safetensors`` (tensors only, no pickle) + ``NAME.json`` (everything else).

The JSON holds ``format_version``, ``config`` (every architecture field), ``alphabet``, ``stats``
(normalisation), ``defaults`` (sampling), ``styles`` (priming strokes + text), ``provenance`` and the
``sha256`` of the tensor file. `load_model` checks the hash and the version and rebuilds the network from
``config``: hyperparameters and the alphabet live nowhere else. Reading and checking the files is
`hwcli.model.files`'s.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save

from ..arithmetic import verify as verify_arithmetic
from ..alphabet import Alphabet
from ..errors import ModelFileError, StyleNotFoundError
from ..fileio import atomic_output
from .files import (FORMAT_VERSION, load_tensors, read_bundle_json, read_verified_tensors, stem_of, tensor_file,
                    validate_bundle_doc)
from .network import NetworkConfig, build_network

DEFAULT_MODEL = "hwcli-synthesis"
DEFAULT_UNCONDITIONAL = "hwcli-prediction"


@dataclass(frozen=True)
class SamplingDefaults:
    """A bundle's sampling defaults (the JSON's ``defaults``), typed. `SamplingOptions` fields left at None take
    these (`hwcli.synthesis.SamplingOptions.resolve`); nothing else falls back to numbers of its own."""

    bias: float = 0.75  # Graves eq. 61-62
    hard_bias: float = 0.0  # added to bias while the window is on a digit, capital, punctuation mark, accented letter or symbol
    max_steps_per_char: int = 25  # cap on points per character
    retries: int = 3  # resamples of a line that failed a check
    # copies written at once of a line or segment holding digits, capitals, accented letters or symbols, when
    # lines are read back (the best reading is kept; `synthesis.run._copies`)
    hard_copies: int = 2
    # copies written at once of every line or segment, when lines are read back (the best reading is kept); a hard
    # unit gets the larger of this and hard_copies. 1 in every bundle hwcli makes: more copies of an adapted style's
    # lines read better by the recognizer, not by tesseract (README, session 30)
    copies: int = 1
    check: bool = True  # read lines back with the recognizer and resample bad ones
    check_cer: float = 0.5  # resample a line that reads back with a CER above this
    fail_cer: float = 0.5  # out of retries, report a line reading back above this (never below check_cer)
    segment_chars: int = 0  # write longer lines in segments of at most this many characters (0 = never split)
    size_ramp: float = 0.0  # evens out the network's shrinking along a line (`strokes.even_out_size`)
    default_style: int = 0  # index of the style used when none is named

    @property
    def report_cer(self) -> float:
        """Read-back CER above which a line is reported as failed (never below the resampling threshold)."""
        return max(self.fail_cer, self.check_cer)

    @classmethod
    def from_dict(cls, d: dict) -> "SamplingDefaults":
        """From a bundle JSON's ``defaults``: missing keys take the class defaults, unknown keys are ignored."""
        out = {}
        for f in fields(cls):
            if d.get(f.name) is not None:
                kind = {"float": float, "int": int, "bool": bool}[str(f.type)]
                try:
                    out[f.name] = kind(d[f.name])
                except (TypeError, ValueError):
                    raise ModelFileError(f"sampling default {f.name}={d[f.name]!r} is not a {f.type}") from None
        return cls(**out)

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULT_SAMPLING = SamplingDefaults().to_dict()
STYLE_STOP_WORDS = frozenset({"and", "a", "an", "the", "of", "with", "very", "in"})


def style_words(text: str) -> list[str]:
    """Lower-case words of a style's name and description (letters, digits and '-'), stop words left out."""
    return [w for w in re.findall(r"[a-z0-9][a-z0-9-]*", text.lower()) if w not in STYLE_STOP_WORDS]


@dataclass
class Style:
    name: str  # short description ("neat upright print")
    text: str  # what the priming strokes say
    strokes: np.ndarray  # (N, 3) float32 normalised offsets [dx, dy, eos]
    source: str = ""  # where it comes from (e.g. IAM-OnDB line id, writer)
    char_width: float = 0.0  # measured advance per character of lines sampled in this style (normalised units; 0 = unknown)
    body_height: float = 0.0  # measured body height (10th-90th percentile of y) of lines sampled in this style (0 = unknown)
    # a personal style's geometry correction, applied to every line sampled in it (`strokes.restyle`): x scaled
    # by x_scale, then shear added to the slant, so the lines have the writer's letter width and slant
    x_scale: float = 1.0
    shear: float = 0.0
    description: str = ""  # how the hand looks, a few words ("joined cursive, strongly slanted, small"); optional
    # a built-in style of the default bundle in which, with no model asked for, the bundled full-set model
    # writes every line, plain ones too (`hwcli.charset.writes_all`): the print hands it reads better in
    full_set: bool = False

    def to_json(self) -> dict:
        d = {"name": self.name, "text": self.text, "source": self.source,
             "strokes": np.round(self.strokes.astype(np.float64), 4).tolist()}
        if self.description:
            d["description"] = self.description
        if self.char_width > 0:
            d["char_width"] = round(float(self.char_width), 4)
        if self.body_height > 0:
            d["body_height"] = round(float(self.body_height), 4)
        if self.x_scale != 1.0:
            d["x_scale"] = round(float(self.x_scale), 4)
        if self.shear != 0.0:
            d["shear"] = round(float(self.shear), 4)
        if self.full_set:
            d["full_set"] = True
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Style":
        return cls(d.get("name", ""), d["text"], np.asarray(d["strokes"], np.float32).reshape(-1, 3), d.get("source", ""),
                   float(d.get("char_width", 0.0)), float(d.get("body_height", 0.0)), float(d.get("x_scale", 1.0)),
                   float(d.get("shear", 0.0)), d.get("description", ""), d.get("full_set", False) is True)

    def words(self) -> list[str]:
        """The lower-case words of the name and description, for `--style WORD`."""
        return style_words(f"{self.name} {self.description}")




@dataclass
class Bundle:
    network: torch.nn.Module
    config: NetworkConfig
    alphabet: Alphabet
    scale: float  # sensor units per normalised unit
    defaults: dict = field(default_factory=lambda: dict(DEFAULT_SAMPLING))
    styles: list[Style] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)  # anything else in the JSON (e.g. char_width)
    path: str = ""

    @property
    def is_synthesis(self) -> bool:
        return self.config.kind == "synthesis"

    @property
    def sampling(self) -> SamplingDefaults:
        """`defaults`, typed (the dict stays as the JSON has it, so training can carry it into new bundles)."""
        return SamplingDefaults.from_dict(self.defaults)

    @property
    def default_style_index(self) -> int:
        """The index of the style used when none is named: the defaults' ``default_style`` (0 when that is not
        one of the styles, e.g. in a bundle put together in code)."""
        i = self.sampling.default_style
        return i if 0 <= i < len(self.styles) else 0

    def style(self, key: int | str | None) -> Style | None:
        """Style by index or name; None -> the default style (`default_style_index`), or None when there are none."""
        if key is None:
            return self.styles[self.default_style_index] if self.styles else None
        if isinstance(key, str) and key.strip().lstrip("-").isdigit():
            key = int(key)
        if isinstance(key, int):
            if 0 <= key < len(self.styles):
                return self.styles[key]
            hint = f"0..{len(self.styles) - 1}" if self.styles else "none: this model has no styles"
            raise StyleNotFoundError(f"unknown style {key}: available styles are {hint} (see `hwcli styles`)")
        for s in self.styles:
            if s.name == key:
                return s
        # words of a style's description ("cursive", "slanted cursive"; it says how the hand looks, measured),
        # then of its name: the first style (lowest index) that has them all
        wanted = set(style_words(key))
        for words in (lambda s: style_words(s.description), Style.words):
            for s in self.styles:
                if wanted and wanted <= set(words(s)):
                    return s
        known = sorted({w for s in self.styles for w in s.words()})
        hint = f": a style's number, name or one of the words {', '.join(known)}" if known else ""
        raise StyleNotFoundError(f"unknown style {key!r}{hint} (see `hwcli styles`)")


def mean_weights(states: list[dict], shares: list[float]) -> dict:
    """The weighted mean of state dicts of one network (shares normalised to sum 1), computed in float64 and
    returned in each tensor's own dtype: a "model soup" of bundles fine-tuned from the same weights
    (`scripts/average_models.py`), or an adapted network blended back towards its bundle (`styles.adapt.blend`)."""
    total = float(sum(shares))
    return {k: sum(st[k].double() * (w / total) for st, w in zip(states, shares)).to(states[0][k].dtype)
            for k in states[0]}


def save_bundle(
    path: str | os.PathLike,
    network: torch.nn.Module,
    config: NetworkConfig,
    alphabet: Alphabet,
    scale: float,
    defaults: dict | None = None,
    styles: list[Style] | None = None,
    provenance: dict | None = None,
    meta: dict | None = None,
    half: bool = False,
) -> Path:
    """Write ``path.safetensors`` then ``path.json`` (each atomically); returns the stem."""
    stem = stem_of(path)
    tensors = {k: (v.detach().to("cpu").contiguous().half() if half else v.detach().to("cpu").contiguous().float())
               for k, v in network.state_dict().items()}
    blob = save(tensors)
    with atomic_output(stem.with_suffix(".safetensors")) as fh:
        fh.write(blob)
    doc = {
        "format_version": FORMAT_VERSION,
        "config": config.to_dict(),
        "alphabet": alphabet.chars,
        "stats": {"scale": float(scale)},
        "defaults": {**DEFAULT_SAMPLING, **(defaults or {})},
        "styles": [s.to_json() for s in (styles or [])],
        "provenance": provenance or {},
        "tensors": {"file": stem.with_suffix(".safetensors").name, "sha256": hashlib.sha256(blob).hexdigest(),
                    "dtype": "float16" if half else "float32"},
        **(meta or {}),
    }
    with atomic_output(stem.with_suffix(".json")) as fh:
        fh.write(json.dumps(doc, indent=1).encode())
    return stem


def bundled_model_path(name: str = DEFAULT_MODEL) -> Path:
    """The model shipped with the package (wheel: hwcli/_models; source checkout: ../models)."""
    try:
        pkg = resources.files("hwcli") / "_models" / f"{name}.json"
        if pkg.is_file():
            return Path(str(pkg)).with_suffix("")
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    return Path(__file__).resolve().parents[2] / "models" / name


def model_path(spec: str | os.PathLike | None) -> Path:
    """Where the bundle `spec` lives: None -> the bundled synthesis model; a bundled model's name (e.g.
    ``hwcli-prediction``) -> that bundle, unless a file of that name exists here; otherwise a path."""
    if spec is None:
        return bundled_model_path()
    name = os.fspath(spec)  # a Path from the command line's --model too
    p = Path(name)
    if isinstance(name, str) and p.name == name and not stem_of(p).with_suffix(".json").exists():
        shipped = bundled_model_path(stem_of(p).name)
        if shipped.with_suffix(".json").is_file():
            return shipped
    return p


def load_model(path: str | os.PathLike | None = None, device: str = "cpu") -> Bundle:
    """Load a bundle by name or path (default: the bundled synthesis model); verifies the tensor file's sha256."""
    from ..checks import check_path

    check_path(path, "model", none=True)
    verify_arithmetic()  # MKL's fixed path (hwcli.arithmetic), checked before the first product
    stem, doc = read_bundle_json(model_path(path))
    validate_bundle_doc(doc, stem.with_suffix(".json"))
    blob = read_verified_tensors(stem, doc)
    try:
        cfg = NetworkConfig.from_dict(doc["config"])
        alphabet = Alphabet(doc["alphabet"])
        net = build_network(cfg)
    except (ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise ModelFileError(f"model {str(stem)!r} cannot be rebuilt: {str(exc).splitlines()[0]}") from None
    state = load_tensors(blob, str(tensor_file(stem, doc)), net.state_dict())
    net.load_state_dict(state)
    net.eval().to(device)
    known = {"format_version", "config", "alphabet", "stats", "defaults", "styles", "provenance", "tensors"}
    return Bundle(
        network=net,
        config=cfg,
        alphabet=alphabet,
        scale=float(doc.get("stats", {}).get("scale", 1.0)),
        defaults={**DEFAULT_SAMPLING, **doc.get("defaults", {})},
        styles=[Style.from_json(s) for s in doc.get("styles", [])],
        provenance=doc.get("provenance", {}),
        meta={k: v for k, v in doc.items() if k not in known},
        path=str(stem),
    )
