"""`python -m luna_tui` runs the `luna` command."""

from luna_tui.cli.main import run

if __name__ == "__main__":
    run()
