"""Where Luna keeps what is not the vault: the app's preferences and, with LUNA_DEBUG=1,
crash reports.

`LUNA_CONFIG_DIR` wins (tests and the bench point it at a temp folder), else the
platform's user config folder. Nothing kept here may hold health data.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_DIR_ENV = "LUNA_CONFIG_DIR"


def config_dir() -> Path:
    explicit = os.environ.get(CONFIG_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs  # deferred: only the path is needed, and only here

    return Path(platformdirs.user_config_dir("luna", appauthor=False))
