"""Luna: a local-first, encrypted, keyboard-driven personal health journal.

Importing this package does nothing but define the version: no files, no
connections, no heavy imports. The command line lives in `luna_tui.cli`.
"""

__version__ = "0.1.0"
