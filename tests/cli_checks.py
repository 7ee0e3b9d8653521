"""Shared assertions for CLI tests."""
from __future__ import annotations


def assert_one_line_error(result, *fragments: str, code: int = 1) -> str:
    """`result` (a CliRunner result) failed with exit `code`, nothing on stdout, and exactly one
    'hwcli: error: ...' line on stderr containing every fragment; returns that line."""
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hwcli: error: "), result.stderr
    assert "Traceback" not in result.output
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]
