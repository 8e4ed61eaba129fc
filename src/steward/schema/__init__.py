"""Schema: versions, diffs, compatibility, deprecations and who a change breaks."""
