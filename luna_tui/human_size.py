"""One way to say how big a file is, everywhere Luna says it.

Decimal units (1 KB = 1,000 bytes), as file managers show them and as the attachment
limit is set ("max_mb": 25 means 25,000,000 bytes): a size Luna prints matches the one
a person sees beside the file, and a limit and a size are in the same unit.
"""

from __future__ import annotations

UNITS = ("bytes", "KB", "MB", "GB", "TB")


def human_size(size: int) -> str:
    """`999 bytes`, `1.0 KB`, `390.2 KB`, `1.0 MB` (for 999,999 bytes: a rounded 1000.0
    KB would read oddly)."""
    if size < 1000:
        return f"{size:,} bytes" if size != 1 else "1 byte"
    value = float(size)
    for unit in UNITS[1:]:
        value /= 1000
        if round(value, 1) < 1000 or unit == UNITS[-1]:
            return f"{value:,.1f} {unit}"
    raise AssertionError("unreachable")
