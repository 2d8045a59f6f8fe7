"""Health data in FHIR R4, the format clinicians' systems speak: the codes Luna uses
(codes.py), the resources it writes (resources.py, writing.py), and reading a Bundle
another tool wrote back in (reading.py)."""
