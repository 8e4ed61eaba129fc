"""Quality gates: checks declared next to the data, run inside the engine in one pass."""
