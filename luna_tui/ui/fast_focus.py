"""Tab and Shift+Tab that move the focus as the app reads the key, for the gate's forms.

A key not bound with priority goes to the focused field first and bubbles up to the
screen's binding from there, one message at a time; the keys typed after it are read
meanwhile and go to the field that still has the focus. A password manager types a whole
form at once ("passphrase, Tab, passphrase"), so the second passphrase landed in the
first field. Bound with priority, the App moves the focus before it reads the next key.
"""

from __future__ import annotations

from textual.binding import Binding

FOCUS_AT_ONCE = [Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
                 Binding("shift+tab", "app.focus_previous", "Previous field", show=False,
                         priority=True)]
