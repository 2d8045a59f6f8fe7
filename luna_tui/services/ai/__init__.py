"""The AI companion, one idea per module: `personas` (who answers, and what of the
person's records it may read); `sessions` (chat sessions, their messages, a reply saved
into the journal); `sending` (a message to the model, its reply streamed, kept, counted
and audited); `memory` (older messages summarised, facts pinned); `usage` (requests and
tokens per period, from stats.db); `context` (what the model is told, built under the
read-only guard); `model_settings` (which model, from the settings). The model client
itself is `luna_tui/ai/provider.py`."""
