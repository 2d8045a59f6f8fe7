"""Talking to a language model: an OpenAI-compatible streaming client. No database here."""
