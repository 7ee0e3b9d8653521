"""What a bundle writes of hwcli's character set (`alphabet.CHARSET`), said to the user; imports no torch.

- `SUMMARY`: the set in one line, for ``hwcli --help``, ``hwcli styles`` and the README.
- `prepare_text`: a text checked for a loaded bundle; a character of the set that an older bundle lacks is
  refused with a message naming the model and, where the bundled model has it, that model.
- `coverage_note`: one line saying which characters of the set an alphabet lacks (None when it has them all).
- `bundled_alphabet`: the bundled synthesis model's alphabet, read from its JSON alone (cheap enough for help).
- `FULL_SET`: the bundled model that writes the whole set; with no model asked for, the lines that hold
  characters the default lacks or writes poorly (`WEAK`) are written by it (`writing.compose.Composer`).
"""
from __future__ import annotations

import functools
import json
import unicodedata
from importlib import resources
from pathlib import Path

from .alphabet import CHARSET
from .errors import UnsupportedCharactersError

SUMMARY = ("writes every printable ASCII character, the Latin letters of Western and Central Europe and "
           "\u20ac \u00a3 \u00a5 \u00a2 \u00b0 \u00a7 \u00bf \u00a1 \u00ab \u00bb \u2013 \u2014 \u2022 \u00d7 \u00f7 \u00b1")
BUNDLED = "hwcli-synthesis"


def _bundled_json(name: str) -> Path:
    """The bundled model's JSON (wheel: hwcli/_models; source checkout: ../models), as model.bundle finds it."""
    try:
        pkg = resources.files("hwcli") / "_models" / f"{name}.json"
        if pkg.is_file():
            return Path(str(pkg))
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    return Path(__file__).resolve().parents[1] / "models" / f"{name}.json"


@functools.lru_cache(maxsize=4)
def _bundled_doc(name: str) -> dict | None:
    """The bundled model `name`'s JSON, read once (None when it is missing or unreadable)."""
    try:
        doc = json.loads(_bundled_json(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


@functools.lru_cache(maxsize=4)
def bundled_alphabet(name: str = BUNDLED) -> str | None:
    """The characters of the bundled model `name` (None when its JSON is missing or unreadable)."""
    chars = (_bundled_doc(name) or {}).get("alphabet")
    return chars if isinstance(chars, str) else None


def lacking(chars: str) -> str:
    """The characters of `CHARSET` not in `chars`, in CHARSET's order."""
    have = set(chars)
    return "".join(c for c in CHARSET if c not in have)


def coverage_note(chars: str, model: str = "this model") -> str | None:
    """One line on what of the set `model` (alphabet `chars`) cannot write, or None when it writes it all."""
    miss = lacking(chars)
    if not miss:
        return None
    shown = miss if len(miss) <= 40 else miss[:40] + "..."
    return (f"{model} writes {len(CHARSET) - len(miss)} of the {len(CHARSET)} characters: it lacks {len(miss)} "
            f"({shown}), which it refuses")


BUNDLED_FULL = ("hwcli-synthesis", "hwcli-charset")  # bundled synthesis models, the default first
#: the bundled model that writes the whole set; with no model asked for, a text that needs it is written by it
FULL_SET = "hwcli-charset"


#: characters IAM-OnDB holds only a handful of times: the default bundle writes them as scribble or as other
#: characters ("3/11" as "3,11", "Zebra" with a 2), the full-set model, taught them on generated lines, reads
#: right far more often (`hwcli eval --set everyday`, session 12: "/" 2 of 7 against 6-7 of 7, X 0 of 1 against
#: 1 of 1, Z 1-2 of 3 against 2-3 of 3; brackets, session 14: 12 lines with them read by tesseract at CER 0.18
#: against 0.09). With no model asked for, a line holding one is written by `FULL_SET`.
WEAK = "/%&+XZQ[]"
_SET = frozenset(CHARSET)


#: Which built-in styles the full-set model writes every line of is a flag of each style in the default bundle
#: (`Style.full_set`, "full_set": true in its JSON): the print hands in which `FULL_SET` (trained on IAM-OnDB and
#: generated lines since) reads better than the default on ordinary sentences too (session 20, `scripts/gallery.py
#: score --lines 24 --seeds 0` and `1`, the 20 built-in primes, tesseract as the page draws them: print styles 0-15
#: 0.089 against 0.114 on average, 10 of 20 styles <= 0.08 against 6; `hwcli eval --lines 100 --reader tesseract`,
#: style 2, seeds 0-2: 0.030 against 0.037; `--set hard` written whole by it, seeds 0 / 1: 0.085 / 0.065 against
#: 0.110 / 0.101). Every print style 0-15 since session 21: 8 quick slant, level on seeds 0 / 1, read better on
#: seeds 1-3 (0.085 against 0.123), and 15 plain upright, re-primed with another line of its writer, 0.035 against
#: 0.062 (seeds 1-3); and the print styles added since, chosen with it. Not flagged: the joined-up cursive styles
#: 16-19 (0.322 against 0.273: it joins them even more).


def writes_all(bundle, style) -> bool:
    """Whether, when lines route to `FULL_SET` (`routes_to_full_set`), it writes every line in `style` (a
    `Style` of `bundle`, or None: the default style): a built-in style of `bundle` flagged `full_set` (a
    personal style never: its prime was measured against the default model)."""
    st = bundle.style(None) if style is None else style
    return st is not None and st.full_set and any(st is s for s in bundle.styles)


def route_lines(texts, bundle, style) -> tuple[list[int], list[int]]:
    """(indices of `texts` the default `bundle` writes, indices `FULL_SET` writes) in `style` (a `Style` of
    `bundle`, or None), when lines route to it: every line in a `full_set` style, else `split_lines`."""
    if writes_all(bundle, style):
        return [], list(range(len(texts)))
    return split_lines(texts, bundle.alphabet)


def needs_full_set(text: str, alphabet) -> bool:
    """Whether `text` holds a character of the set that `alphabet` (a model's) lacks, or one of `WEAK`."""
    return any(c in WEAK or (c in _SET and c not in alphabet) for c in unicodedata.normalize("NFC", text))


def split_lines(texts, alphabet) -> tuple[list[int], list[int]]:
    """(indices of the lines a model of `alphabet` writes, indices of those that go to `FULL_SET`)."""
    full = [needs_full_set(t, alphabet) for t in texts]
    return [k for k, f in enumerate(full) if not f], [k for k, f in enumerate(full) if f]


def routes_to_full_set(model, bundle) -> bool:
    """Whether lines that need the full set go to `FULL_SET`: no model was asked for (`model` None), the bundled
    default was taken (not an adapted personal style's own model) and the full-set model is installed."""
    return (model is None and bundle.is_synthesis and is_default_bundle(getattr(bundle, "path", None))
            and full_set_available())


def full_set_available() -> bool:
    """Whether the bundled `FULL_SET` model is installed and writes every character of the set."""
    have = bundled_alphabet(FULL_SET)
    return have is not None and not lacking(have)


def default_note() -> str | None:
    """One line on what the bundled models write with no model asked for (`coverage_note` of the default when
    the full-set model is missing); None when the default writes the whole set."""
    chars = bundled_alphabet(BUNDLED)
    if chars is None or not lacking(chars):
        return None
    if not full_set_available():
        return coverage_note(chars, f"the bundled {BUNDLED}")
    return (f"with no --model, the bundled {BUNDLED} writes the lines made of its {len(CHARSET) - len(lacking(chars))} "
            f"characters (IAM-OnDB's: its best prose), and the bundled {FULL_SET}, in the same style, every line "
            f"holding another character of the set or one of {' '.join(WEAK)}, and every line in the print styles "
            f"it reads better in{_full_set_style_numbers()}")


def _full_set_style_numbers() -> str:
    """" (styles 0-15, 20-22)": the numbers of the default bundle's styles flagged `full_set`, read from its JSON
    (cheap enough for help); "" when it cannot be read."""
    styles = (_bundled_doc(BUNDLED) or {}).get("styles")
    nums = [k for k, st in enumerate(styles if isinstance(styles, list) else [])
            if isinstance(st, dict) and st.get("full_set") is True]
    runs: list[list[int]] = []
    for k in nums:
        if runs and k == runs[-1][-1] + 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    return f" (styles {', '.join(f'{r[0]}-{r[-1]}' if len(r) > 1 else str(r[0]) for r in runs)})" if runs else ""


def is_default_bundle(path) -> bool:
    """Whether `path` (a loaded bundle's path) is the bundled default model's."""
    if not path:
        return False
    return Path(str(path)).with_suffix("") == _bundled_json(BUNDLED).with_suffix("")


def full_set_model(chars: str, besides: str | None = None) -> str | None:
    """A bundled model that writes every character of `chars` ("the bundled hwcli-charset (--model
    hwcli-charset)"), other than `besides` (the path of the model that lacks them); None when none does."""
    for name in BUNDLED_FULL:
        have = bundled_alphabet(name)
        if have is None or not set(chars) <= set(have):
            continue
        if besides is not None and Path(besides).with_suffix("") == _bundled_json(name).with_suffix(""):
            continue
        return f"the bundled {name}" + ("" if name == BUNDLED else f" (--model {name})")
    return None


def model_label(path: str) -> str:
    """How a message names a bundle: a bundled model by its name, any other by its path."""
    p = Path(path)
    return p.stem if p.with_suffix("") == _bundled_json(p.stem).with_suffix("") else str(p.with_suffix(""))


def prepare_text(bundle, text: str, on_unsupported: str = "error") -> str:
    """``bundle.alphabet.prepare(text, on_unsupported)``, with a refusal that names the model when it lacks
    characters of the set (and the bundled model that writes them, if it does)."""
    try:
        return bundle.alphabet.prepare(text, on_unsupported)
    except UnsupportedCharactersError as exc:
        if not exc.lacking:
            raise
        path = str(getattr(bundle, "path", "") or "")
        raise UnsupportedCharactersError(exc.positions, exc.lacking, model_label(path) if path else None,
                                         full_set_model(exc.lacking, path or None)) from None
