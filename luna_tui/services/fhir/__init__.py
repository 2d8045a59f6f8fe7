"""Health data in FHIR R4, the format clinicians' systems speak.

Out: the codes Luna uses (codes.py), what every resource is built from (resources.py),
a Bundle from HealthData (writing.py), and `luna export --format fhir` (exporting.py).
In: a Bundle's elements read by type (elements.py), what Luna takes of it and what it
skips (reading.py), and bringing that into the vault (importing.py).
"""
