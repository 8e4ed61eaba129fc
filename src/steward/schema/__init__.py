"""Schema governance: versions, diffs, compatibility rules, deprecations, impact.

`steward.schema.compatibility` holds the rule sets (Avro, JSON Schema, Iceberg);
`history` and `diff` a dataset's versions; `check` who a change breaks;
`deprecations` what is announced to go.
"""
