"""Grouping rows by week in SQL.

A week is named by its Monday: `strftime('%Y-%W')` would cut the week that holds
1 January in two (52 of the old year, 00 of the new), so a chart's point for that week
would be two half-weeks' averages.
"""

from __future__ import annotations

from peewee import Node, fn


def monday_of(column: Node) -> Node:
    """The Monday on or before the date (or date-time) in `column`, as YYYY-MM-DD:
    back six days, then forward to the next Monday (SQLite's 'weekday 1')."""
    return fn.date(column, "-6 days", "weekday 1")
