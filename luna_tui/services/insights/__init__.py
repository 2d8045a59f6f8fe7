"""Insights: whether a medication change was followed by a change in mood, sleep or a
vital, and how two daily series move together, said honestly.

Each module holds one idea: the daily series (daily_series), the medication changes and
what may confound them (medication_changes), resampling that respects that days are not
independent (resampling), the before/after analysis (before_after), lagged rank
correlation (lagged_correlation), the rows and their sentences (rows), and the whole
summary for a patient (summary). numpy and scipy are imported inside the functions that
compute, so the shell's fast commands never load them.
"""
