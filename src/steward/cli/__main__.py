"""`python -m steward.cli`: the same as the `steward` command."""

from __future__ import annotations

from steward.cli.main import main

main()
