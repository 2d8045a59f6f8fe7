"""The Textual app. Everything here may import Textual; nothing below it does."""
