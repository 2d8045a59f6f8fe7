"""The hand-off as one AES-256 encrypted zip, built in memory.

WinZip's AE-2 format (AES-256 in CTR mode, PBKDF2-HMAC-SHA1 key derivation, an
HMAC-SHA1 check per member, and no CRC of the plaintext, which AE-1 would leak): the
one encrypted zip that 7-Zip, Keka, PeaZip and similar tools open. Windows Explorer
and macOS Archive Utility do not; the packet says so. Written with pyzipper, the
maintained AES extension of the standard library's zipfile (`cryptography`, which
Luna has, offers AES but no zip container). The members never touch the disk: the
zip is assembled in a BytesIO and only its encrypted bytes are written.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

AES_BITS = 256
AE_2 = 2  # WinZip AE-2: no CRC of the plaintext in the headers


def encrypted_zip(members: Sequence[tuple[str, bytes]], passphrase: str, *,
                  when: dt.datetime) -> bytes:
    """The zip of `members` (name, content), each encrypted under `passphrase`;
    `when` is the members' date (local time, as zip keeps it)."""

    import pyzipper

    buffer = io.BytesIO()
    with pyzipper.AESZipFile(buffer, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(passphrase.encode("utf-8"))
        archive.setencryption(pyzipper.WZ_AES, nbits=AES_BITS, force_wz_aes_version=AE_2)
        for name, content in members:
            # A ZipInfo of our own: writestr(name) would stamp it with the machine's
            # clock rather than Luna's.
            info = archive.zipinfo_cls(name, date_time=when.timetuple()[:6])
            info.compress_type = pyzipper.ZIP_DEFLATED
            info.external_attr = 0o600 << 16  # unpacked readable by its owner only
            archive.writestr(info, content)
    return buffer.getvalue()


def read_encrypted_zip(data: bytes, passphrase: str) -> dict[str, bytes]:
    """The members of an archive `encrypted_zip` made (for checking it opens)."""

    import pyzipper

    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(passphrase.encode("utf-8"))
        return {name: archive.read(name) for name in archive.namelist()}
