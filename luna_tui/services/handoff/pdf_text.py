"""Text in the hand-off PDF: the bundled font, and characters it cannot draw.

PDF's fourteen core fonts know Latin-1 only, and people's names, medicines and notes
do not stay inside it (Łukasz, Ørsted, Дмитрий, ≥ 5 mg). So the PDF embeds DejaVu Sans
(fonts/, under the Bitstream Vera licence, see fonts/LICENSE.txt): Latin, Greek and
Cyrillic, and the usual symbols, subset by the PDF library to the glyphs used, so a
packet stays small. A character DejaVu has no glyph for (Chinese, say) is replaced by
U+FFFD, the visible replacement mark: a reader then sees that something was there,
where the PDF library would print an empty box or nothing. The text stays real text,
so it can be searched and copied (and Luna's tests extract it).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

FAMILY = "DejaVu"
REPLACEMENT = "\ufffd"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


def font_path(style: str = "") -> Path:
    """The bundled TTF of `style` ("" regular, "B" bold)."""
    return Path(str(resources.files(__package__).joinpath("fonts", _FONT_FILES[style])))


def add_fonts(pdf: Any) -> None:
    """Register the bundled family with an FPDF document."""
    for style in _FONT_FILES:
        pdf.add_font(FAMILY, style, str(font_path(style)))


def drawable(pdf: Any, text: str) -> str:
    """`text` with every character the current font cannot draw replaced by U+FFFD
    (line breaks stay: multi_cell breaks there)."""
    cmap = pdf.current_font.cmap
    return "".join(ch if ord(ch) in cmap or ch == "\n" else REPLACEMENT for ch in text)
