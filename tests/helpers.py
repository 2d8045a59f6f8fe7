"""Small tools the tests share: running the CLI in-process, poking at raw files."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> CliResult:
    from luna_tui.cli.main import main

    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def keys_db_rows(path: Path) -> list[dict]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM keys")]
    finally:
        conn.close()


def update_key_row(path: Path, locator: str, **values: object) -> None:
    conn = sqlite3.connect(path)
    try:
        assignments = ", ".join(f"{k} = ?" for k in values)
        conn.execute(f"UPDATE keys SET {assignments} WHERE key_locator_hash = ?",
                     [*values.values(), locator])
        conn.commit()
    finally:
        conn.close()


def encrypted_connection(path: Path, key: bytes):
    """A raw SQLCipher connection to one of the vault's files, as an attacker with the
    key (or a test) would open it."""
    from sqlcipher3 import dbapi2 as sqlcipher

    conn = sqlcipher.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn
