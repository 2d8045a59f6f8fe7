"""The AI companion's services; `context` builds what the model is told, under the
read-only guard. The model client itself is `luna_tui/ai/provider.py`."""
