"""The wheel's packages, found rather than listed: a hand-kept list once forgot
`luna_tui.ai`, and `pip install .` gave a Luna without its AI companion.

Everything else is in pyproject.toml. This file exists for one thing pyproject cannot
say: `migrations/` stays at the repository's top level (one folder per database) but
ships as `luna_tui.migrations`, and setuptools' `find` in pyproject names what it finds
after its folder (`migrations.main`), with no way to put it under `luna_tui`.
"""

from setuptools import find_packages, setup

MIGRATIONS = "luna_tui.migrations"

setup(
    packages=[
        *find_packages(include=["luna_tui", "luna_tui.*"]),
        MIGRATIONS,
        *(f"{MIGRATIONS}.{name}" for name in find_packages("migrations")),
    ],
    # The subpackages (luna_tui.migrations.main, …) follow their parent's folder.
    package_dir={MIGRATIONS: "migrations"},
)
