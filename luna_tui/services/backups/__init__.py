"""Backups, one use case per module: `folder` makes, lists and prunes the backups in a
folder; `verify` proves one opens; `restore` puts one back; `chores` deletes one and
runs the automatic backup. How the archive is laid out and how a live vault is copied
are the store's (`store/backup_archive.py`, `store/online_copy.py`)."""
