"""Small tools the tests share: running the CLI in-process, poking at raw files."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


AUDIT_OUTBOX = "0006_audit_outbox"


@contextmanager
def an_older_luna(knew: Callable[[str], bool]) -> Iterator[None]:
    """While inside, vaults are made as an older Luna did: only main's migration scripts
    `knew(name)` accepts are applied. The audit outbox always is: this Luna writes every
    audit row through it (an older Luna's vault gains it before any row is written)."""
    from playhouse.migrations import Migration

    from luna_tui.store import migrate

    shipped_names, shipped_load = migrate.script_names, Migration.load_directory

    def known(name: str) -> bool:
        return knew(name) or name == AUDIT_OUTBOX

    def script_names(database_name: str) -> list[str]:
        names = shipped_names(database_name)
        return [n for n in names if known(n)] if database_name == migrate.MAIN else names

    def load_directory(directory: str):  # noqa: ANN202 - playhouse's Migration list
        found = shipped_load(directory)
        if str(migrate.migrations_dir(migrate.MAIN)) != str(directory):
            return found
        return [m for m in found if known(m.name)]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(migrate, "script_names", script_names)
        patch.setattr(Migration, "load_directory", load_directory)
        yield


def run_until_paused(args: list[str], pause_at: str, env_extra: dict[str, str] | None = None,
                     stdin: str | None = None) -> subprocess.Popen:
    """Start `luna ARGS` and return it once it waits at the fault point `pause_at`
    (luna_tui/fault_points.py), for the test to kill it there."""
    from conftest import PASSPHRASE

    env = {**os.environ, "LUNA_PASSPHRASE": PASSPHRASE, "LUNA_TEST_PAUSE_AT": pause_at,
           **(env_extra or {})}
    process = subprocess.Popen([sys.executable, "-m", "luna_tui", *args], env=env,
                               stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if stdin is not None:
        process.stdin.write(stdin)
        process.stdin.close()
    line = process.stderr.readline()
    assert f"paused at {pause_at}" in line, line + process.stderr.read()
    return process


def loosen_keys_table(path: Path) -> None:
    """Rebuild keys.db's key table as an attacker may: without column types or NOT NULL,
    so a field can hold any type SQLite stores (text for bytes, NULL, a number)."""
    conn = sqlite3.connect(path)
    try:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(keys)")]
        conn.executescript(
            f"CREATE TABLE loose ({columns[0]} PRIMARY KEY, {', '.join(columns[1:])});"
            "INSERT INTO loose SELECT * FROM keys; DROP TABLE keys;"
            "ALTER TABLE loose RENAME TO keys;")
    finally:
        conn.close()


def rewrite_key_row(path: Path, locator: str, **changes: object) -> None:
    """Edit a keys.db row the way an attacker would: change fields, then recompute the
    row's (unkeyed) checksum so it still looks whole."""
    from dataclasses import replace

    from luna_tui.vault import keystore

    rows = {r.key_locator_hash: r for r in keystore.read(path).rows}
    edited = replace(rows[locator], **changes).sealed()
    update_key_row(path, locator,
                   **{k: v for k, v in edited.__dict__.items() if k != "key_locator_hash"})


def stdin(monkeypatch: pytest.MonkeyPatch, text: str, tty: bool = False) -> None:
    """What a command reads: `text`, from a terminal if `tty`, else a pipe."""
    stream = io.StringIO(text)
    stream.isatty = lambda: tty  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stdin", stream)
