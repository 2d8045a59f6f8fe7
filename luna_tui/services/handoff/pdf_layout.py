"""The hand-off PDF's few kinds of text: a section heading, a line of label and value,
a paragraph, a small table. The sections (pdf_sections.py) are written with these, so
every section looks the same and a new one (an insights page) does too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from luna_tui.services.handoff.pdf_text import FAMILY, drawable

BODY_SIZE = 9.5
SMALL_SIZE = 8
HEADING_SIZE = 12
LINE = 5.0  # mm: one line of body text
HEADING_HEIGHT = 3 + LINE + 2 + 1.5  # mm: the space above, the title, the rule below
MUTED = (100, 100, 100)


def heading(pdf: Any, text: str, *, keep: float = 20) -> None:
    """A section's title, on a new page if fewer than `keep` mm would follow it (a
    heading alone at the foot of a page says nothing)."""
    if pdf.will_page_break(keep + HEADING_HEIGHT):
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FAMILY, "B", HEADING_SIZE)
    pdf.cell(0, LINE + 2, drawable(pdf, text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(180, 180, 180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.5)


def labelled(pdf: Any, label: str, value: str) -> None:
    """`Allergies  penicillin`: a label in bold, its value wrapped beside it."""
    pdf.set_font(FAMILY, "B", BODY_SIZE)
    pdf.cell(36, LINE, drawable(pdf, label))
    pdf.set_font(FAMILY, "", BODY_SIZE)
    pdf.multi_cell(0, LINE, drawable(pdf, value), new_x="LMARGIN", new_y="NEXT")


def paragraph(pdf: Any, text: str, *, size: float = BODY_SIZE, muted: bool = False,
              bold: bool = False) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", size)
    if muted:
        pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, LINE * size / BODY_SIZE, drawable(pdf, text), new_x="LMARGIN",
                   new_y="NEXT")
    pdf.set_text_color(0, 0, 0)


def table(pdf: Any, header: Sequence[str], rows: Sequence[Sequence[str]],
          widths: Sequence[float]) -> None:
    """A table of text; `widths` are fractions of the line, and long cells wrap."""
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font(FAMILY, "", SMALL_SIZE)
    with pdf.table(col_widths=[usable * w for w in widths], line_height=LINE * 0.85,
                   text_align="LEFT", first_row_as_headings=True,
                   headings_style=_headings_style(pdf), borders_layout="HORIZONTAL_LINES",
                   padding=0.8) as grid:
        for cells in [header, *rows]:
            row = grid.row()
            for cell in cells:
                row.cell(drawable(pdf, cell))
    pdf.ln(1)


def _headings_style(pdf: Any) -> Any:
    from fpdf.fonts import FontFace

    return FontFace(family=FAMILY, emphasis="BOLD", size_pt=SMALL_SIZE,
                    fill_color=(238, 238, 238))
