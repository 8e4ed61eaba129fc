"""The `steward` command: Typer apps, one module per domain, thin over the domains."""
