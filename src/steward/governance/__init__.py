"""Governance: lineage checked against the policy in force at each run, and personal data traced."""
