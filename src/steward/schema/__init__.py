"""Schema governance: versions, diffs, compatibility rules, deprecations, impact.

`steward.schema.compatibility` holds the rule sets (Avro, JSON Schema, Iceberg).
"""
