"""Undo the CSR tokenisation of IAM-OnDB transcriptions.

The CSR section of IAM-OnDB separates punctuation and clitics by spaces in many forms
("Mr . Gaitskell", "we 'd", "Foot ' s", '" Abolish Lords "'). The writer wrote them attached, and the
synthesis network learns spacing from the text, so we restore what was written.
"""
from __future__ import annotations

import re

_CLOSE_PUNCT = {".", ",", ";", ":", "!", "?", ")", "]", "}", "...", "%"}
_OPEN_PUNCT = {"(", "[", "{"}
_CLITICS = {"s", "d", "ll", "t", "re", "ve", "m", "S", "D", "LL", "T", "RE", "VE", "M"}
_CLITIC_RE = re.compile(r"^'(s|d|ll|t|re|ve|m|S|D|LL|T|RE|VE|M)$")


class QuoteState:
    """Open/closed state of double and single quotes, carried across the lines of one form."""

    def __init__(self) -> None:
        self.double_open = False
        self.single_open = False


def detokenize(line: str, state: QuoteState | None = None) -> str:
    """Return the text as the writer wrote it. `state` carries quote parity across a form's lines.

    >>> detokenize("Mr . Gaitskell said we 'd go ( now ) .")
    "Mr. Gaitskell said we'd go (now)."
    """
    state = state or QuoteState()
    toks = line.split()
    out: list[str] = []  # finished tokens
    glue_next = False  # the next token attaches to the previous one (after an opening quote/bracket)
    i = 0
    while i < len(toks):
        tok = toks[i]
        attach_prev = False
        if tok in _CLOSE_PUNCT or _CLITIC_RE.match(tok) or tok == "n't":
            attach_prev = True
        elif tok == "'" and i + 1 < len(toks) and toks[i + 1] in _CLITICS and out:
            # "Foot ' s" -> "Foot's"
            tok = "'" + toks[i + 1]
            i += 1
            attach_prev = True
        elif tok == '"':
            if state.double_open:
                attach_prev = True
            state.double_open = not state.double_open
            if state.double_open:
                _append(out, tok, False, glue_next)
                glue_next = True
                i += 1
                continue
        elif tok == "'":
            if state.single_open or (out and out[-1].endswith(("s", "S"))):
                # closing quote, or a plural possessive ("writers '")
                attach_prev = True
                state.single_open = False
            else:
                state.single_open = True
                _append(out, tok, False, glue_next)
                glue_next = True
                i += 1
                continue
        elif tok in _OPEN_PUNCT:
            _append(out, tok, False, glue_next)
            glue_next = True
            i += 1
            continue
        _append(out, tok, attach_prev and bool(out), glue_next)
        glue_next = False
        i += 1
    return " ".join(out)


def _append(out: list[str], tok: str, attach_prev: bool, glue: bool) -> None:
    if out and (attach_prev or glue):
        out[-1] += tok
    else:
        out.append(tok)
