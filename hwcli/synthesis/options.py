"""What goes into the sampling pass and what comes out: `SamplingOptions` (frozen, validated), resolved once
against a bundle into `Sampling` (every field concrete), and the `LineResult` of a sampled line."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import OptionError, check_seed
from ..model.bundle import Bundle, SamplingDefaults, Style
from ..model.files import MAX_COPIES, MAX_RETRIES, MAX_STEPS_PER_CHAR

RETRY_BATCH = 16  # rows of a resampling batch when lines have their own seeds (`synthesize(seeds=...)`)
SEEDED_CANDIDATES = 2  # ...copies of each failed unit in it (see `_synthesize_units`)
MAX_CANDIDATES = 4  # copies of a failed unit in a resampling pass without per-unit seeds (not MAX_COPIES: eight
# were measured only for the first pass of a hard unit, `hard_copies`)...
MIN_CANDIDATES = 2  # ...and at least this many
HARD_COPIES = SamplingDefaults.hard_copies  # default of SamplingOptions.hard_copies for a bundle that sets none
SEEDED_CHARS = 128  # ...and characters a unit's text is padded to (longer units only are longer)

@dataclass(frozen=True)
class SamplingOptions:
    bias: float | None = None  # Graves eq. 61-62; None = the bundle's default
    # style index or name, or a `Style` itself (a personal style's, a candidate prime); None = the bundle's default
    # style (defaults.default_style)
    style: int | str | Style | None = None
    seed: int = 0  # same seed, bundle and options -> same strokes
    max_steps_per_char: int | None = None  # cap on points per character (None = bundle default)
    retries: int | None = None  # resamples of a failed line (None = bundle default)
    check: bool | None = None  # read lines back with the recognizer and resample bad ones (None = bundle default)
    batch_size: int = 64  # lines (or segments of long lines) sampled together
    segment_chars: int | None = None  # write longer lines in segments of at most this many characters
    # (None = bundle default; 0 = never split)
    hard_bias: float | None = None  # extra bias on digits, capitals and punctuation (None = bundle default)
    # copies written at once of a line or segment holding digits or capitals when lines are read back (the
    # best reading is kept); None = the bundle's default (defaults.hard_copies, else HARD_COPIES)
    hard_copies: int | None = None
    # copies written at once of every line or segment when lines are read back (the best reading is kept; a hard
    # unit gets the larger of this and hard_copies); None = the bundle's default (defaults.copies, 1 unless set)
    copies: int | None = None
    # when lines are read back, resample a line or segment whose key characters (digits, accented letters and
    # symbols the training data lacks, colons, separators inside numbers: `texts.key_positions`) do not all
    # read back as written (see the module docstring); out of retries the best copy is kept and not reported for its digits alone
    strict_digits: bool = True

    def __post_init__(self) -> None:
        from ..checks import check_flag, check_number, check_type

        check_number(self.bias, "bias", 0.0, 10.0, none=True)  # bias="1" is an OptionError, not a TypeError
        check_number(self.hard_bias, "hard_bias", 0.0, 10.0, none=True)
        for name in ("max_steps_per_char", "retries", "segment_chars", "hard_copies", "copies"):
            check_number(getattr(self, name), name, -math.inf, math.inf, integer=True, none=True)
        check_number(self.batch_size, "batch_size", 1, 1_000_000, integer=True)
        check_type(self.style, (int, str, Style), "style", "a style index or name", none=True)
        check_flag(self.check, "check", none=True)
        check_flag(self.strict_digits, "strict_digits")
        if self.bias is not None and not (0.0 <= self.bias <= 10.0):
            raise OptionError(f"bias must be between 0 and 10, got {self.bias}")
        if self.hard_bias is not None and not (0.0 <= self.hard_bias <= 10.0):
            raise OptionError(f"hard_bias must be between 0 and 10, got {self.hard_bias}")
        if self.max_steps_per_char is not None and not 5 <= self.max_steps_per_char <= MAX_STEPS_PER_CHAR:
            raise OptionError(f"max_steps_per_char must be between 5 and {MAX_STEPS_PER_CHAR}")
        if self.retries is not None and not 0 <= self.retries <= MAX_RETRIES:
            raise OptionError(f"retries must be between 0 and {MAX_RETRIES}")
        check_seed(self.seed)
        if self.batch_size < 1:
            raise OptionError("batch_size must be >= 1")
        if self.hard_copies is not None and not 1 <= self.hard_copies <= MAX_COPIES:
            raise OptionError(f"hard_copies must be between 1 and {MAX_COPIES}")
        if self.copies is not None and not 1 <= self.copies <= MAX_COPIES:
            raise OptionError(f"copies must be between 1 and {MAX_COPIES}")
        if self.segment_chars is not None and self.segment_chars != 0 and self.segment_chars < 8:
            raise OptionError("segment_chars must be 0 (never split) or at least 8")

    def resolve(self, bundle: Bundle) -> "Sampling":
        """These options with every None replaced by the bundle's default: the one place that happens."""
        d = bundle.sampling
        synth = bundle.is_synthesis
        return Sampling(
            bias=d.bias if self.bias is None else float(self.bias),
            hard_bias=(d.hard_bias if self.hard_bias is None else float(self.hard_bias)) if synth else 0.0,
            style=(self.style if isinstance(self.style, Style) else bundle.style(self.style)) if synth else None,
            seed=self.seed,
            max_steps_per_char=self.max_steps_per_char or d.max_steps_per_char,
            retries=d.retries if self.retries is None else self.retries,
            check=synth and (d.check if self.check is None else self.check),
            check_cer=d.check_cer,
            report_cer=d.report_cer,
            batch_size=self.batch_size,
            segment_chars=(d.segment_chars if self.segment_chars is None else self.segment_chars) if synth else 0,
            size_ramp=d.size_ramp if synth else 0.0,
            hard_copies=d.hard_copies if self.hard_copies is None else self.hard_copies,
            copies=d.copies if self.copies is None else self.copies,
            strict_digits=self.strict_digits,
        )


@dataclass(frozen=True)
class Sampling:
    """`SamplingOptions` resolved against a bundle (`SamplingOptions.resolve`): every field concrete."""

    bias: float
    hard_bias: float  # added to `bias` on digits, capitals and punctuation
    style: Style | None  # the priming style (None: the bundle has none, or a prediction network)
    seed: int
    max_steps_per_char: int
    retries: int
    check: bool  # read back with a recognizer (never for a prediction network)
    check_cer: float  # resample a line reading back above this
    report_cer: float  # ...and out of retries report it only above this
    batch_size: int
    segment_chars: int  # 0 = never split
    size_ramp: float
    hard_copies: int = 1
    copies: int = 1  # of every unit on the first pass when lines are read back
    strict_digits: bool = False  # resample a unit whose key characters read back wrong (see SamplingOptions)


@dataclass
class LineResult:
    text: str
    strokes: np.ndarray  # (N, 3) normalised offsets [dx, dy, eos]
    ok: bool = True
    reason: str = ""  # why the line failed its checks (when not ok)
    attempts: int = 1
    resampled: bool = False  # retried because of a failed check
    cer: float = 0.0  # read-back character error rate (0 when not read back); a segmented line: weighted mean
    steps: int = 0  # points sampled (all segments together)
    segments: int = 1  # segments the line was written in
    chars: np.ndarray | None = None  # the character (0-based, in `text`) the window was on at each point
