"""`python -m luna_tui` runs the `luna` command."""

from luna_tui.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
