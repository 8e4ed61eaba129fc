"""Schema governance: versions, diffs, compatibility rules, deprecations, impact.

`steward.schema.registry` is the Confluent-compatible schema registry.
"""
