"""The hand-off packet for a clinician: what a person chooses to show their doctor, as a
PDF to read, a FHIR R4 document Bundle for the doctor's systems and the upcoming
appointments as .ics, written as plain files (0600, said to be NOT encrypted) or as
one AES-256 zip.

One idea per module: `choices` (what the person asked for, as a health-data scope),
`contents` (the data read for it), `insight_rows` (the insights page's results),
`preview` (what will be included, before anything is written), `reference_ranges`
(the normal ranges the charts shade), `pdf_*` (the PDF), `archive` and
`archive_passphrase` (the encrypted zip), `packet` (writing it and its audit row).
"""
