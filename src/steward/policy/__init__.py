"""Access control: policies as code, decided per principal and table, enforced on queries."""
