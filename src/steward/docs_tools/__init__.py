"""Docs that are generated from the code, and the command that regenerates them.

`python -m steward.docs_tools` rewrites every generated part of `docs/` from the code
it describes; `python -m steward.docs_tools --check` exits 1 naming each file that is
out of date (what `tests/docs` runs). See CONTRIBUTING.md.
"""
