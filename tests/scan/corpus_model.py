"""What the corpus plants, before it is placed in a file.

A `Plant` is one thing a file holds on one line (or one block, for PEM keys): a
variable `name` and the `text` assigned to it. Its `items` are the labelled values
inside the text: a connection URL carries a password and, often, an internal host.
"""

from __future__ import annotations

from dataclasses import dataclass

from steward.scan.models import Kind

# The shape says where a plant can go: an assignment goes in any config or source file,
# a PEM block where multi-line text fits, a header where HTTP requests are written.
Shape = str  # "assign" | "pem" | "header"


@dataclass(frozen=True)
class Item:
    """One labelled value: a secret, a host, an address or personal data, or a decoy."""

    kind: Kind
    type: str
    value: str
    is_decoy: bool = False


@dataclass(frozen=True)
class Plant:
    """`name = text` in whatever syntax the file has; `items` are the values in `text`."""

    name: str
    text: str
    items: tuple[Item, ...]
    shape: Shape = "assign"


@dataclass(frozen=True)
class Label:
    """One planted value: where it is (path relative to the corpus root, 1-based line
    where the value starts), what it is, and whether it is a near miss a scanner must not
    report. `opens` is the line where the syntax holding the value opens, when that is
    an earlier line (a YAML `key: |` block, a heredoc); a finding there counts too."""

    path: str
    line: int
    kind: Kind
    type: str
    value: str
    is_decoy: bool = False
    commit: str | None = None
    opens: int = 0
