"""The hand-off's encrypted zip: AES-256 WinZip AE-2, made in memory, opened with the
passphrase by pyzipper and, where it is installed, by 7-Zip itself (.ci/run installs
p7zip-full)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from luna_tui.services.handoff.archive import encrypted_zip, read_encrypted_zip
from luna_tui.services.handoff.archive_passphrase import new_archive_passphrase

MEMBERS = [("handoff-sam-2026-11-01-2026-11-30.pdf", b"%PDF-1.7 pretend"),
           ("handoff-sam-2026-11-01-2026-11-30.json", b'{"resourceType": "Bundle"}')]


def test_the_passphrase_is_six_groups_of_unambiguous_characters_and_new_each_time():
    first, second = new_archive_passphrase(), new_archive_passphrase()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}", first)
    assert first != second


def test_the_archive_opens_with_its_passphrase_and_not_without(clock):
    passphrase = new_archive_passphrase()
    data = encrypted_zip(MEMBERS, passphrase, when=clock.now())
    assert read_encrypted_zip(data, passphrase) == dict(MEMBERS)
    with pytest.raises(RuntimeError):
        read_encrypted_zip(data, "WRONG-PASS")


def test_every_member_is_aes_256_ae_2_and_no_plaintext_shows_in_the_bytes(clock):
    data = encrypted_zip(MEMBERS, new_archive_passphrase(), when=clock.now())
    assert b"pretend" not in data and b"Bundle" not in data
    with zipfile.ZipFile(io.BytesIO(data)) as plain_zip:  # the standard library can't open it
        for info in plain_zip.infolist():
            assert info.compress_type == 99  # "AES", WinZip's method number
            assert info.CRC == 0  # AE-2: no CRC of the plaintext to leak
            aes = _aes_extra(info.extra)
            assert aes == {"version": 2, "vendor": b"AE", "strength": 3}  # 3: AES-256
        with pytest.raises((RuntimeError, NotImplementedError)):
            plain_zip.read(MEMBERS[0][0])


def test_7_zip_opens_the_archive_with_the_passphrase(clock, tmp_path: Path):
    seven = shutil.which("7z")
    if seven is None:
        pytest.skip("7-Zip (7z, Debian's p7zip-full) is not installed; .ci/run installs it")
    passphrase = new_archive_passphrase()
    archive = tmp_path / "handoff.zip"
    archive.write_bytes(encrypted_zip(MEMBERS, passphrase, when=clock.now()))
    out = tmp_path / "out"
    done = subprocess.run([seven, "x", f"-p{passphrase}", f"-o{out}", str(archive)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == dict(MEMBERS)
    wrong = subprocess.run([seven, "x", "-pWRONG", f"-o{tmp_path / 'wrong'}", str(archive)],
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode != 0


def _aes_extra(extra: bytes) -> dict[str, object]:
    """The 0x9901 extra field WinZip's AES members carry."""
    at = 0
    while at + 4 <= len(extra):
        tag, size = int.from_bytes(extra[at:at + 2], "little"), int.from_bytes(
            extra[at + 2:at + 4], "little")
        body = extra[at + 4:at + 4 + size]
        if tag == 0x9901:
            return {"version": int.from_bytes(body[:2], "little"), "vendor": body[2:4],
                    "strength": body[4]}
        at += 4 + size
    return {}
