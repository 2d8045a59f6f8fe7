"""The tests' PDFs come from the benchmark's maker (a real PDF with a text layer)."""

from luna_tui.bench.sample_pdf import text_pdf

__all__ = ["text_pdf"]
