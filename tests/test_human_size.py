"""One size formatter: decimal units, the same in the app, the CLI and every sentence."""

from __future__ import annotations

import pytest

from luna_tui.human_size import human_size


@pytest.mark.parametrize(("size", "said"), [
    (0, "0 bytes"), (1, "1 byte"), (999, "999 bytes"), (1000, "1.0 KB"), (1024, "1.0 KB"),
    (390_200, "390.2 KB"), (999_949, "999.9 KB"), (999_999, "1.0 MB"), (25_000_000, "25.0 MB"),
    (3 * 10**9, "3.0 GB"), (4 * 10**15, "4,000.0 TB"),
])
def test_sizes_are_said_in_decimal_units(size, said):
    assert human_size(size) == said


def test_there_is_one_formatter():
    """Two formatters disagreed (one divided by 1000, one by 1024, both said "MB")."""
    from pathlib import Path

    import luna_tui

    defining = [path.name for path in Path(luna_tui.__file__).parent.rglob("*.py")
                if "def human_size(" in path.read_text(encoding="utf-8")]
    assert defining == ["human_size.py"]


def test_the_nearly_full_disk_sentence_uses_it(tmp_path, monkeypatch):
    from luna_tui import home

    monkeypatch.setattr(home, "free_bytes", lambda path: 1_500_000)
    assert "only 1.5 MB is left on the disk" in str(home.disk_full(tmp_path))
