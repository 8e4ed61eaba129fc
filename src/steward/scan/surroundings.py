"""Where a candidate sits on its line: the text around it and the key that names it.

RE2 has no look-arounds, so the host, address and personal-data rules match the bare
value and their validators judge its surroundings here: what comes right after it (is
it part of a longer name or number?) and which key names it (`version: 10.0.0.1` is a
version, `release_host: 10.0.0.1` a host).
"""

from __future__ import annotations

import re

from steward.scan.models import Candidate

# The key a value is assigned to, read backwards from the value: `host: `, `"host": "`,
# `HOST=`, `<host>`, `--host `, `host => `, `host(`, `Message-Id: <`.
_KEY_BEFORE_VALUE = re.compile(r"([A-Za-z_][\w.\-]*)[\s\"'`=:<>(\[,{\\-]*$")
# How far back a key is looked for: keys are short, and minified lines are long.
KEY_WINDOW = 80
_KEY_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def value_start(cannot_precede: str) -> str:
    """RE2 for what may come right before a value: the line's start, a JSON escape (`\\n`
    inside a notebook's string), or one character outside `cannot_precede` (a regex
    character class body) other than a newline. The engine may search many lines at
    once; a match that began at the previous line's newline would be judged on that line.
    Use with the `(?m)` flag."""
    return rf"(?:^|\\[nrt]|[^\n{cannot_precede}])"


def surroundings(candidate: Candidate) -> tuple[str, str]:
    """The text of the line before the candidate's secret and after it.

    The match is located on its line (the engine does not pass positions); a match
    that occurs twice on one line is read at its first occurrence.
    """
    line, match, secret = candidate.line, candidate.match, candidate.secret
    found = line.find(match)
    begin = found + match.find(secret) if found >= 0 else line.find(secret)
    if begin < 0:
        return "", ""
    return line[:begin], line[begin + len(secret) :]


def key_before(before: str) -> str:
    """The key that names the value right after `before` ("" when there is none)."""
    found = _KEY_BEFORE_VALUE.search(before[-KEY_WINDOW:])
    return found.group(1) if found else ""


def key_parts(key: str) -> list[str]:
    """A key's words, lower-cased, whatever its convention: `releaseHost`, `RELEASE_HOST`,
    `release-host` and `release.host` all give ["release", "host"]."""
    return [part.lower() for part in _KEY_PART.findall(key)]


# Commands whose `user@host` argument is a login, not an email address.
LOGIN_COMMANDS = frozenset({"ssh", "scp", "sftp", "rsync", "mosh", "ssh-copy-id"})
_TOKEN_SEPARATORS = re.compile(r"[\s\"'<>(\[=,;`]")


def is_login(before: str, after: str) -> bool:
    """`user@host` right after `before` is a login, not an email address: the user of a URL
    (`postgres://alice@db`), an scp-style remote (`git@host:repo`, `root@host:/etc`), or
    an argument of `ssh`, `scp`, `rsync` (`ssh -i key.pem hadoop@host`)."""
    token = _TOKEN_SEPARATORS.split(before)[-1]
    if "://" in token and not token.lower().startswith("mailto:"):
        return True
    if after.startswith(":") and len(after) > 1 and not after[1].isspace():
        return True
    words = before[: len(before) - len(token)].lower().split()
    return not LOGIN_COMMANDS.isdisjoint(words)
