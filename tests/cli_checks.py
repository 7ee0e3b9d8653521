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


def fail_on_call(real, n: int, err: int, message: str):
    """`real` (e.g. os.fsync, os.replace) that raises OSError(err, message) on its n-th call: a disk that
    fills up, or a rename that fails, half-way through."""
    calls = []

    def fake(*args):
        calls.append(args)
        if len(calls) == n:
            raise OSError(err, message)
        return real(*args)

    return fake
