"""The sample files of tests/fixtures/ packed as the apps that make them pack them: an
Apple Health export.zip (apple_health_export/export.xml beside export_cda.xml and a
workout route) and a Daylio backup (backup.daylio: base64 of the JSON, wrapped at 76
characters as Android's Base64.DEFAULT writes it, beside a photo)."""

from __future__ import annotations

import base64
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
APPLE_XML = FIXTURES / "apple_health" / "export.xml"
DAYLIO_JSON = FIXTURES / "daylio" / "backup.json"
CSV = FIXTURES / "csv"


def apple_zip(folder: Path, xml: bytes | None = None) -> Path:
    path = folder / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export.xml", xml or APPLE_XML.read_bytes())
        archive.writestr("apple_health_export/export_cda.xml",
                         '<?xml version="1.0"?><ClinicalDocument/>')
        archive.writestr("apple_health_export/workout-routes/route_2024-03-19_6.40pm.gpx",
                         '<?xml version="1.0"?><gpx version="1.1"/>')
    return path


def daylio_backup(folder: Path, document: bytes | None = None) -> Path:
    encoded = base64.encodebytes(document or DAYLIO_JSON.read_bytes())  # 76-char lines
    path = folder / "backup_2024_03_10.daylio"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("backup.daylio", encoded)
        archive.writestr("assets/photos/2024/1/photo-checksum.jpg", b"\xff\xd8\xff\xe0 jpeg")
    return path
