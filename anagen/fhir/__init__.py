"""FHIR R4 export: a patient's record as a Bundle, a clinic's records as Bulk Data NDJSON.

- :mod:`anagen.fhir.mapping` shapes records into resources (no Django, no queries);
- :mod:`anagen.fhir.codes` holds the code systems and units (documented in ``docs/fhir.md``);
- :mod:`anagen.fhir.selectors` loads the records a user may export;
- :mod:`anagen.fhir.services` writes exports and records each one in the audit trail;
- :mod:`anagen.fhir.registry` is where other apps (studies) add their resources.
"""
