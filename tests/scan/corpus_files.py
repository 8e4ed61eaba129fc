"""How each kind of file holds a plant: the line (or block) an assignment, a PEM key
or an Authorization header becomes in that file's syntax, and the ordinary lines
around it.

`Doc` records, for every plant it is given, the line each labelled value lands on, so
the labels stay exact however a template lays out its file.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from xml.sax.saxutils import escape as xml_escape

from steward.scan.models import Kind
from tests.scan.corpus_model import Plant

PEM_FORMATS = {"pem", "yaml", "json", "py", "env", "tf"}
HEADER_FORMATS = {"yaml", "json", "py", "js", "ts", "sh", "md", "log", "http", "go", "java", "env"}
ASSIGN_FORMATS = {
    "env",
    "yaml",
    "json",
    "ini",
    "properties",
    "py",
    "js",
    "ts",
    "java",
    "go",
    "scala",
    "sh",
    "dockerfile",
    "tf",
    "xml",
    "md",
    "log",
    "sql",
    "ipynb",
    "compose",
}


RECORD_TYPES = {
    "payment-card",
    "iban",
    "us-ssn",
    "uk-nino",
    "es-dni",
    "test-card",
    "luhn-failing-card",
    "iban-bad-checksum",
    "invalid-ssn",
}
RECORD_FORMATS = {"sql", "log", "ipynb", "json", "md", "py", "ts", "java", "go", "scala"}


@dataclass(frozen=True)
class Placed:
    """Where one labelled value went: line number, and the value as the file spells it."""

    line: int
    kind: Kind
    type: str
    value: str
    is_decoy: bool
    opens: int = 0


@dataclass
class Doc:
    """A file being written: its lines, and the labelled values placed in it."""

    path: str
    encoding: str = "utf-8"
    lines: list[str] = field(default_factory=list)
    placed: list[Placed] = field(default_factory=list)

    def add(self, *texts: str) -> None:
        for text in texts:
            self.lines.extend(text.split("\n"))

    def put(self, text: str, plant: Plant, escape: str = "") -> None:
        """Append `text`, which holds `plant`, and label each of its items on the line
        where the item (escaped as the file escapes it) starts."""
        block = text.split("\n")
        base = len(self.lines) + 1
        for item in plant.items:
            shown = spell(item.value, escape)
            first = shown.split("\n")[0]
            index = next(i for i, line in enumerate(block) if first in line)
            opens = base if index else 0
            self.placed.append(
                Placed(base + index, item.kind, item.type, shown, item.is_decoy, opens)
            )
        self.lines.extend(block)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def spell(value: str, escape: str) -> str:
    """`value` as a file escapes it: JSON string escaping, XML attribute escaping, or none."""
    if escape == "json":
        return json.dumps(value)[1:-1]
    if escape == "json2":  # a JSON string inside a JSON string (a notebook's code cell)
        return json.dumps(json.dumps(value)[1:-1])[1:-1]
    if escape == "xml":
        return xml_escape(value, {'"': "&quot;"})
    if escape == "pem-env":
        return value.replace("\n", "\\n")
    return value


def camel(name: str) -> str:
    head, *rest = name.lower().split("_")
    return head + "".join(part.title() for part in rest)


def _yaml_scalar(text: str) -> tuple[str, str]:
    plain = not any(c in text for c in ":#{}[],&*!|>'\"%@`") and not text.startswith(
        ("-", "?", " ")
    )
    return (text, "") if plain else (json.dumps(text), "json")


def _env_value(text: str) -> str:
    if "$" in text or "{" in text:
        return f"'{text}'"
    if any(c in text for c in ' #;"`'):
        return f'"{text}"'
    return text


def assignment(fmt: str, plant: Plant, indent: str = "") -> tuple[str, str]:
    """The line `name = text` in `fmt`'s syntax, and how that syntax escapes the value."""
    name, text = plant.name, plant.text
    quoted = json.dumps(text)
    if fmt == "env":
        return f"{name}={_env_value(text)}", ""
    if fmt == "compose":
        return f"{indent}{name}: {_yaml_scalar(text)[0]}", _yaml_scalar(text)[1]
    if fmt == "yaml":
        scalar, escape = _yaml_scalar(text)
        return f"{indent}{name.lower()}: {scalar}", escape
    if fmt == "json":
        return f'{indent}"{camel(name)}": {quoted},', "json"
    if fmt == "ini":
        return f"{name.lower()} = {text}", ""
    if fmt == "properties":
        return f"{name.lower().replace('_', '.')}={text}", ""
    if fmt == "py":
        return f"{name} = {quoted}", "json"
    if fmt in ("js", "ts"):
        return f"{indent}{camel(name)}: {quoted},", "json"
    if fmt == "java":
        return f"    private static final String {name} = {quoted};", "json"
    if fmt == "go":
        return f"\t{camel(name)} = {quoted}", "json"
    if fmt == "scala":
        return f"  val {camel(name)} = {quoted}", "json"
    if fmt == "sh":
        return f"export {name}='{text}'", ""
    if fmt == "dockerfile":
        return f"ENV {name}={quoted}", "json"
    if fmt == "tf":
        return f"{indent}{name.lower()} = {quoted}", "json"
    if fmt == "xml":
        pascal = "".join(part.title() for part in name.lower().split("_"))
        return f'{indent}<add key="{pascal}" value="{spell(text, "xml")}" />', "xml"
    if fmt == "md":
        return f"| `{name}` | `{text}` |", ""
    if fmt == "log":
        return f"config: {name.lower()}={text}", ""
    if fmt == "sql":
        return f"INSERT INTO app_settings (name, value) VALUES ('{name.lower()}', '{text}');", ""
    if fmt == "ipynb":
        return f"{name} = {quoted}", "json2"
    raise ValueError(f"no assignment syntax for {fmt}")


def pem_block(fmt: str, plant: Plant, indent: str = "") -> tuple[str, str]:
    """A multi-line key or certificate in `fmt`: raw, a YAML block, a JSON string, a
    Python triple-quoted string, a one-line `.env` value with `\\n`, a Terraform heredoc."""
    name, pem = plant.name, plant.text
    if fmt == "pem":
        return pem, ""
    if fmt == "yaml":
        body = "\n".join(indent + "  " + line for line in pem.split("\n"))
        return f"{indent}{name.lower()}: |\n{body}", ""
    if fmt == "json":
        return f'{indent}"{camel(name)}": {json.dumps(pem)},', "json"
    if fmt == "py":
        return f'{name} = """{pem}\n"""', ""
    if fmt == "env":
        return f'{name}="{spell(pem, "pem-env")}"', "pem-env"
    if fmt == "tf":
        return f"{indent}{name.lower()} = <<-EOT\n{pem}\nEOT", ""
    raise ValueError(f"no PEM syntax for {fmt}")


def header(fmt: str, plant: Plant, indent: str = "") -> tuple[str, str]:
    """An `Authorization` header as `fmt` writes one: config, code, curl, or a request log."""
    text = plant.text
    quoted = json.dumps(text)
    url = "https://api.acme.io/v1/reports"
    lines = {
        "yaml": f'{indent}Authorization: "{text}"',
        "json": f'{indent}"Authorization": {quoted},',
        "py": f'session.headers["Authorization"] = {quoted}',
        "js": f"{indent}headers: {{ Authorization: {quoted} }},",
        "ts": f"{indent}headers: {{ Authorization: {quoted} }},",
        "sh": f'curl -fsS -H "Authorization: {text}" {url}',
        "md": f'curl -H "Authorization: {text}" {url}',
        "log": f"> Authorization: {text}",
        "http": f"Authorization: {text}",
        "go": f'\treq.Header.Set("Authorization", {quoted})',
        "java": f'        conn.setRequestProperty("Authorization", {quoted});',
        "env": f'API_AUTH_HEADER="Authorization: {text}"',
    }
    return lines[fmt], ""


def fits(fmt: str, plant: Plant, file_kind: str = "") -> bool:
    """Whether a file of `fmt` syntax (and `file_kind`, when it differs) can hold `plant`.
    Records about people (cards, bank accounts, national ids) sit in data, logs, docs and
    test fixtures, not in deployment config."""
    if plant.items[0].kind == "pii" and plant.items[0].type in RECORD_TYPES:
        return (file_kind or fmt) in RECORD_FORMATS
    if plant.shape == "pem":
        return fmt in PEM_FORMATS
    if plant.shape == "header":
        return fmt in HEADER_FORMATS
    return fmt in ASSIGN_FORMATS


def render(fmt: str, plant: Plant, indent: str = "") -> tuple[str, str]:
    """`plant` in `fmt`'s syntax, and how that syntax escapes its values."""
    if plant.shape == "pem":
        return pem_block(fmt, plant, indent)
    if plant.shape == "header":
        return header(fmt, plant, indent)
    return assignment(fmt, plant, indent)


def place(doc: Doc, fmt: str, plant: Plant, indent: str = "") -> None:
    """Write `plant` into `doc` in `fmt`'s syntax, labelled."""
    text, escape = render(fmt, plant, indent)
    doc.put(text, plant, escape)


def fill(doc: Doc, rng: random.Random, pool: list[str], low: int = 1, high: int = 3) -> None:
    """A few ordinary lines between plants, so most of a file is what files hold; a
    setting appears once per file, a comment at most twice."""
    comment = ("#", "//", ";", "--", "<!--")
    fresh = [
        ln
        for ln in pool
        if ln not in doc.lines or (ln.strip().startswith(comment) and doc.lines.count(ln) < 2)
    ]
    for line in rng.sample(fresh, min(len(fresh), rng.randint(low, high))):
        doc.add(line)
