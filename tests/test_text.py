"""hwcli.data.text: undoing the CSR tokenisation."""
from __future__ import annotations

import pytest

from hwcli.data.text import QuoteState, detokenize


@pytest.mark.parametrize(
    ("tokenised", "written"),
    [
        ("Mr . Gaitskell", "Mr. Gaitskell"),
        ("we 'd", "we'd"),
        ("Foot ' s", "Foot's"),
        ("Foot 's reply", "Foot's reply"),
        ("I 'm sure they 're", "I'm sure they're"),
        ("it is n't", "it isn't"),
        ("Hello , world !", "Hello, world!"),
        ("Dr . Who ? Yes ; no : maybe", "Dr. Who? Yes; no: maybe"),
        ("wait ... now", "wait... now"),
        ("100 % sure", "100% sure"),
        ('" Abolish Lords " .', '"Abolish Lords".'),
        ("he said ' no ' .", "he said 'no'."),
        ("the writers ' books", "the writers' books"),
        ("go ( now ) .", "go (now)."),
        ("[ sic ] ,", "[sic],"),
        ("already attached.", "already attached."),
        ("", ""),
    ],
)
def test_detokenize(tokenised, written):
    assert detokenize(tokenised) == written


def test_quote_state_carries_across_lines():
    state = QuoteState()
    lines = ['he said " we', 'will win " .', '" Yes']
    assert [detokenize(ln, state) for ln in lines] == ['he said "we', 'will win".', '"Yes']
    assert state.double_open


def test_without_state_each_line_starts_with_quotes_closed():
    assert detokenize('will win " .') == 'will win ".'
