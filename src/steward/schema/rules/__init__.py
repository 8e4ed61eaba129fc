"""One module per schema format, each a rule set behind `steward.schema.compatibility`."""
