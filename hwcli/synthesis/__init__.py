"""Lines of text -> stroke sequences with a trained bundle: options, segments, checks, retries.

The sampling loop itself lives beside the network (`hwcli.model.sampling.sample_batch`): all lines of a call
are sampled together as one batch, and each line stops on its own when the attention window has moved past
its last character and the pen has lifted, or at a cap of steps per character. This module decides what
to sample and what to keep. Lines that fail the sanity checks (window never reached the end, ran to the cap,
absurd extents, scribbles) are resampled with a new seed up to ``retries`` times, a few copies of it in each
resampling pass (the best-reading copy is kept); a line that still fails is returned with ``ok=False`` and its
reason, never dropped. A line or segment that lost its end in every attempt (attention stalled, or never
reached the last character) is first written again as two halves, which replace it when both reach their ends.

Long lines are written in segments. IAM-OnDB lines are short (median 29 characters, 95th percentile 41), and a
network asked for a 50-character page line is outside what it learnt: the attention drifts and the end of the
line turns to scribble. A line longer than ``segment_chars`` is therefore cut at spaces into the fewest balanced
segments, each segment is sampled (checked and resampled) as a line of its own in the same style, and the
segments are levelled (`hwcli.strokes.level`: each one's fitted baseline horizontal; the network's segments sag
or climb, and joined on their median baselines each sat on a step of its own) and joined on a common baseline
with one of the line's own word gaps between them (`hwcli.strokes.join_segments`, `word_gaps`), evened to the line's size (the x-height measured on the small letters, found through the attention window, so it does not depend on which
letters a segment holds, with the height of the ascenders b d h k l) and to its mean slant, so the line reads as one hand. (Priming each segment with the one
before it was measured and removed: the network wrote each segment smaller than the one before, x-height 0.81x,
and read worse, CER 3.2% -> 4.0%.)

Read-back checking is decided here too: when checking is on (`SamplingOptions.check`, default the bundle's),
`synthesize` reads lines back with the bundled recognizer, and raises `ModelFileError` saying why when it
cannot load one; it never turns checking off by itself. Key characters are held to a stricter rule than
letters (`SamplingOptions.strict_digits`): a line or segment whose digits, accented letters and symbols the
training data lacks (`texts.is_key_char`), colons and separators inside numbers (`texts.key_positions`) do not
all read back as written is resampled like a failing one,
and among copies the one with the fewest misread key characters wins, since a wrong digit changes a date, a
price or a phone number, and a missing accent or symbol changes a name or an address, where a sloppy letter
only looks sloppy. (On `hwcli eval --set everyday`, seeds 0 and 1, holding accents and symbols to it too
took tesseract's share of accented letters read right from 18%/24% to 22%/36%, its CER 0.127/0.124 ->
0.125/0.122, at ~1.8x the sampling time of those lines.)
The package's rooms: `options` (SamplingOptions, Sampling, LineResult), `segments` (cutting lines into segments
and halves, unit seeds), `checks` (the sanity checks, the read-back checker) and `run` (the pass:
`synthesize`, with its retries).
"""
from __future__ import annotations

from .checks import READ_BACK, SHORT_OF_END, STALLED, Checker, check_line, line_checker
from .options import HARD_COPIES, LineResult, Sampling, SamplingOptions
from .run import synthesize
from .segments import halves, split_segments, unit_seed

__all__ = ["HARD_COPIES", "READ_BACK", "SHORT_OF_END", "STALLED", "Checker", "LineResult", "Sampling",
           "SamplingOptions", "check_line", "halves", "line_checker", "split_segments", "synthesize",
           "unit_seed"]
