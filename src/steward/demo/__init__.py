"""`steward demo`: a small but real lakehouse, governed end to end, to try Steward on."""
