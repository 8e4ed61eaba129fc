"""Audit: a tamper-evident, append-only log of who did what, with signed checkpoints.

Other domains write to it with `steward.audit.log.record(conn, ...)` inside their own
write transaction, so the record and the change it records commit together.
"""
