"""The Settings place (key 0): what the shell can do to the vault, from the app.

Its parts, each a tab with its own module: export and import (transfer.py), the
passphrase (passphrase.py), the keys (keys.py), the settings (values.py) and the
doctor's checks (doctor.py). screen.py puts them together; shown_once.py shows a
generated key once. Each part validates through the same service calls as the CLI.
"""
