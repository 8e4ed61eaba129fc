"""Lineage: OpenLineage events in, a versioned graph of datasets, jobs and columns out."""
