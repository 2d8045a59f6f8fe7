"""What each place of the app shows, gathered in one trip to the DB thread.

A screen asks its read model for one value and draws it; it never assembles a use case
from several services itself. Each module here serves one place.
"""
