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
