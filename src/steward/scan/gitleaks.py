"""gitleaks' configuration read as is: `.gitleaks.toml` rules and allow-lists, `.gitleaksignore`.

What gitleaks documents (README, config/config.go, config/allowlist.go, detect/detect.go of
gitleaks 8.30) and Steward follows:

- `[[rules]]`: `id`, `description`, `regex`, `secretGroup`, `entropy`, `keywords`, `path`,
  `tags`; a rule with a `path` and no `regex` reports the file itself.
- `[[rules.allowlists]]` (or the older single `[rules.allowlist]`) and global
  `[[allowlists]]` (or `[allowlist]`), with `condition`, `regexTarget`, `regexes`, `paths`,
  `stopwords`, `commits`, and for global ones `targetRules`.
- `[extend]`: `useDefault = true` extends *Steward's* built-in rules (not gitleaks' own
  rule set), `path = "other.toml"` extends another file, `disabledRules` drops rules of the
  extended set. A rule whose id is also in the extended set is merged into it as gitleaks
  merges: description, regex, path, secretGroup and entropy replace, keywords, tags and
  allow-lists add up.

Where gitleaks' behaviour is not expressible in a `Rule`, the difference is said below.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.errors import InvalidInput
from steward.scan.engine import compile_regex
from steward.scan.models import Allowlist, Finding, Rule

# gitleaks stops following `[extend] path` after two levels (maxExtendDepth).
MAX_EXTEND_DEPTH = 2
RULE_FIELDS = {
    "id", "description", "regex", "secretGroup", "entropy", "keywords", "path", "tags",
    "allowlist", "allowlists", "required", "skipReport",
}  # fmt: skip
ALLOWLIST_FIELDS = {
    "description", "condition", "regexTarget", "regexes", "paths", "stopwords", "commits",
}  # fmt: skip
TOP_FIELDS = {"title", "description", "extend", "rules", "allowlist", "allowlists", "minVersion"}


@dataclass(frozen=True)
class _Config:
    """One file's rules (partial: fields an extending rule leaves out are absent) and its
    global allow-lists, before the extended set is merged in."""

    rules: dict[str, dict[str, Any]]
    allowlists: tuple[Allowlist, ...]
    targeted: dict[str, tuple[Allowlist, ...]]


def load_config(path: Path, *, default_rules: Sequence[Rule]) -> tuple[Rule, ...]:
    """The rules a gitleaks TOML file describes, ready for the engine.

    Global allow-lists are added to every rule (gitleaks checks them for every rule's
    findings, so the outcome is the same). `default_rules` is what `useDefault` extends.
    Anything gitleaks refuses (no id, neither regex nor path, an empty allow-list, an
    unknown condition) raises `InvalidInput` naming the file and the rule.
    """
    config = _read(path, default_rules=default_rules, depth=0)
    rules = {
        rule_id: _finish_rule(path, rule_id, fields) for rule_id, fields in config.rules.items()
    }
    for rule_id, allowlists in config.targeted.items():
        if rule_id not in rules:
            raise InvalidInput(f"{path}: [[allowlists]] target rule id {rule_id!r} does not exist")
        rule = rules[rule_id]
        rules[rule_id] = dataclasses.replace(rule, allowlists=rule.allowlists + allowlists)
    return tuple(
        dataclasses.replace(rule, allowlists=rule.allowlists + config.allowlists)
        for rule in rules.values()
    )


def _read(path: Path, *, default_rules: Sequence[Rule], depth: int) -> _Config:
    """One TOML file, with what it extends merged in."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"gitleaks config: cannot read {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"gitleaks config {path}: not valid TOML: {exc}") from exc
    data = _known_keys(path, "the top level", data, TOP_FIELDS)
    rules = {}
    for raw in _tables(path, data, "rules"):
        fields = _rule_fields(path, raw)
        rules[fields["id"]] = fields
    global_lists = _allowlist_tables(path, data, "allowlist", "allowlists", where="[[allowlists]]")
    allowlists: list[Allowlist] = []
    targeted: dict[str, tuple[Allowlist, ...]] = {}
    for table in global_lists:
        raw = _known_keys(path, "[[allowlists]]", table, ALLOWLIST_FIELDS | {"targetRules"})
        allowlist = _allowlist(path, raw, where="[[allowlists]]", extra=frozenset({"targetRules"}))
        targets = _strings(path, raw, "targetRules", where="[[allowlists]]")
        for rule_id in targets:
            targeted[rule_id] = (*targeted.get(rule_id, ()), allowlist)
        if not targets:
            allowlists.append(allowlist)
    config = _Config(rules, tuple(allowlists), targeted)
    extend = data.get("extend", {})
    if not isinstance(extend, dict):
        raise InvalidInput(f"{path}: [extend] must be a table")
    extend = _known_keys(path, "[extend]", extend, {"useDefault", "path", "url", "disabledRules"})
    if "url" in extend:
        raise InvalidInput(f"{path}: [extend] url is not supported (gitleaks does not either)")
    base = _extended(path, extend, default_rules=default_rules, depth=depth)
    if base is None:
        return config
    disabled = set(_strings(path, extend, "disabledRules", where="[extend]"))
    return _merge(config, base, disabled)


def _extended(
    path: Path, extend: dict[str, Any], *, default_rules: Sequence[Rule], depth: int
) -> _Config | None:
    """What `[extend]` names: Steward's default rules, another file, or nothing."""
    use_default = extend.get("useDefault", False)
    if not isinstance(use_default, bool):
        raise InvalidInput(f"{path}: [extend] useDefault must be true or false")
    other = extend.get("path")
    if other is not None and not isinstance(other, str):
        raise InvalidInput(f"{path}: [extend] path must be a string")
    if use_default and other:
        raise InvalidInput(f"{path}: [extend] sets both useDefault and path; set one")
    if not (use_default or other):
        return None
    if depth >= MAX_EXTEND_DEPTH:
        raise InvalidInput(
            f"{path}: [extend] goes deeper than {MAX_EXTEND_DEPTH} files (gitleaks' limit)"
        )
    if use_default:
        return _Config({rule.id: {"id": rule.id, "rule": rule} for rule in default_rules}, (), {})
    # Relative to the file that names it, so a config means the same from any directory.
    target = Path(other).expanduser() if other else path
    if not target.is_absolute():
        target = path.parent / target
    if not target.is_file():
        raise InvalidInput(f"{path}: [extend] path: cannot read {target}: no such file")
    return _read(target, default_rules=default_rules, depth=depth + 1)


def _merge(config: _Config, base: _Config, disabled: set[str]) -> _Config:
    """`config` extending `base` as gitleaks' `Config.extend` does."""
    rules = dict(config.rules)
    for rule_id, base_fields in base.rules.items():
        if rule_id in disabled:
            continue
        if rule_id not in rules:
            rules[rule_id] = base_fields
            continue
        current = config.rules[rule_id]
        # Like gitleaks, an empty description or a zero entropy or group replaces nothing.
        merged = {**base_fields, **{k: v for k, v in current.items() if v not in ("", 0)}}
        for key in ("keywords", "tags", "allowlists"):
            merged[key] = tuple(base_fields.get(key, ())) + tuple(current.get(key, ()))
        rules[rule_id] = merged
    targeted = dict(base.targeted)
    for rule_id, lists in config.targeted.items():
        targeted[rule_id] = targeted.get(rule_id, ()) + lists
    return _Config(rules, config.allowlists + base.allowlists, targeted)


def _finish_rule(path: Path, rule_id: str, fields: dict[str, Any]) -> Rule:
    """The `Rule` a merged set of fields describes, checked as gitleaks' `Rule.Validate`."""
    base: Rule | None = fields.get("rule")
    regex = fields.get("regex", base.regex if base else "")
    rule_path = fields.get("path", base.path if base else None)
    if not regex and not rule_path:
        raise InvalidInput(f"{path}: rule {rule_id}: both regex and path are empty")
    where = f"{path}: rule {rule_id}"
    secret_group = fields.get("secretGroup", base.secret_group if base else 0)
    if regex:
        groups = compile_regex(regex, where=where).groups
        if secret_group > groups:
            raise InvalidInput(
                f"{where}: secretGroup {secret_group} but the regex has {groups} groups"
            )
        if secret_group == 0 and groups and base is None:
            # gitleaks takes the first non-empty group when secretGroup is not set; the
            # engine takes one fixed group, so a gitleaks rule takes its first group.
            secret_group = 1
    if rule_path:
        compile_regex(rule_path, where=f"{where} path")
    for allowlist in fields.get("allowlists", ()):
        for source in allowlist.regexes + allowlist.paths:
            compile_regex(source, where=f"{where} allowlist")
    entropy = fields.get("entropy")
    values: dict[str, Any] = {
        "regex": regex,
        "path": rule_path,
        "secret_group": secret_group,
        "keywords": tuple(k.lower() for k in fields.get("keywords", ())),
        "tags": tuple(fields.get("tags", ())),
        "allowlists": tuple(fields.get("allowlists", ())),
        "description": fields.get("description") or (base.description if base else rule_id),
    }
    if entropy:
        # gitleaks drops a secret whose entropy is <= the threshold, the engine one whose
        # entropy is < it: the next float up makes the two the same test.
        values["entropy"] = math.nextafter(entropy, math.inf)
    if base is not None:
        values["keywords"] = base.keywords + values["keywords"]
        values["tags"] = base.tags + values["tags"]
        values["allowlists"] = base.allowlists + values["allowlists"]
        return dataclasses.replace(base, **values)
    return Rule(id=rule_id, kind="secret", **values)


def _rule_fields(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """The fields one `[[rules]]` table sets, type-checked, under their gitleaks names."""
    named = raw.get("id") or raw.get("ID")
    raw = _known_keys(path, f"rule {named}" if named else "a [[rules]] table", raw, RULE_FIELDS)
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise InvalidInput(
            f"{path}: a [[rules]] table has no id (description: {raw.get('description', '')!r})"
        )
    where = f"rule {rule_id}"
    if "required" in raw:
        raise InvalidInput(
            f"{path}: {where}: [[rules.required]] (composite rules) is not supported"
        )
    fields: dict[str, Any] = {"id": rule_id}
    for key in ("description", "regex", "path"):
        if key in raw:
            fields[key] = _string(path, raw, key, where=where)
    if "secretGroup" in raw:
        group = raw["secretGroup"]
        if not isinstance(group, int) or isinstance(group, bool) or group < 0:
            raise InvalidInput(f"{path}: {where}: secretGroup must be a whole number >= 0")
        fields["secretGroup"] = group
    if "entropy" in raw:
        entropy = raw["entropy"]
        if not isinstance(entropy, int | float) or isinstance(entropy, bool) or entropy < 0:
            raise InvalidInput(f"{path}: {where}: entropy must be a number >= 0")
        fields["entropy"] = float(entropy)
    for key in ("keywords", "tags"):
        if key in raw:
            fields[key] = _strings(path, raw, key, where=where)
    lists = _allowlist_tables(path, raw, "allowlist", "allowlists", where=f"{where} allowlist")
    if lists:
        fields["allowlists"] = tuple(
            _allowlist(path, a, where=f"{where} [[rules.allowlists]]") for a in lists
        )
    return fields


def _allowlist_tables(
    path: Path, data: dict[str, Any], old: str, new: str, *, where: str
) -> list[dict[str, Any]]:
    """The allow-list tables under `new` (an array) or the older single table `old`."""
    if old in data and new in data:
        raise InvalidInput(
            f"{path}: {where}: [{old}] is deprecated and cannot be used with [[{new}]]"
        )
    if old in data:
        if not isinstance(data[old], dict):
            raise InvalidInput(f"{path}: {where}: [{old}] must be a table")
        return [data[old]]
    return _tables(path, data, new)


def _allowlist(
    path: Path, raw: dict[str, Any], *, where: str, extra: frozenset[str] = frozenset()
) -> Allowlist:
    """One allow-list table, checked as gitleaks' `parseAllowlist` and `Validate`."""
    raw = _known_keys(path, where, raw, ALLOWLIST_FIELDS | extra)
    condition = _string(path, raw, "condition", where=where).upper() if "condition" in raw else ""
    if condition not in ("", "OR", "||", "AND", "&&"):
        raise InvalidInput(f"{path}: {where}: unknown condition {condition!r} (expected AND or OR)")
    target = _string(path, raw, "regexTarget", where=where) if "regexTarget" in raw else "secret"
    if target not in ("secret", "match", "line"):
        raise InvalidInput(
            f"{path}: {where}: unknown regexTarget {target!r} (expected match or line)"
        )
    allowlist = Allowlist(
        description=_string(path, raw, "description", where=where) if "description" in raw else "",
        regexes=_strings(path, raw, "regexes", where=where),
        paths=_strings(path, raw, "paths", where=where),
        stopwords=_strings(path, raw, "stopwords", where=where),
        commits=_strings(path, raw, "commits", where=where),
        condition="AND" if condition in ("AND", "&&") else "OR",
        regex_target=target,  # type: ignore[arg-type]  # checked against the three names above
    )
    if not (allowlist.regexes or allowlist.paths or allowlist.stopwords or allowlist.commits):
        raise InvalidInput(
            f"{path}: {where}: must contain at least one of commits, paths, regexes, stopwords"
        )
    return allowlist


def _tables(path: Path, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidInput(f"{path}: {key} must be an array of tables ([[{key}]])")
    return value


def _string(path: Path, raw: dict[str, Any], key: str, *, where: str) -> str:
    value = raw[key]
    if not isinstance(value, str):
        raise InvalidInput(f"{path}: {where}: {key} must be a string")
    return value


def _strings(path: Path, raw: dict[str, Any], key: str, *, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{path}: {where}: {key} must be a list of strings")
    return tuple(value)


def _known_keys(path: Path, where: str, raw: dict[str, Any], known: set[str]) -> dict[str, Any]:
    """`raw` with its keys spelt as gitleaks documents them. gitleaks reads its TOML through
    viper, which ignores the case of keys (`secretgroup` is `secretGroup`); a key it does
    not know would silently do nothing there, so here it is an error naming it."""
    spelling = {name.lower(): name for name in known}
    unknown = sorted(k for k in raw if k.lower() not in spelling)
    if unknown:
        raise InvalidInput(f"{path}: {where}: unknown key(s) {', '.join(unknown)}")
    canonical = {spelling[k.lower()]: value for k, value in raw.items()}
    if len(canonical) < len(raw):
        raise InvalidInput(f"{path}: {where}: a key is set twice with different cases")
    return canonical


def read_ignore_file(path: Path) -> frozenset[str]:
    """The finding fingerprints a `.gitleaksignore` lists, in gitleaks' format:
    `commit:file:rule-id:line` or `file:rule-id:line`, one a line, `#` comments."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"--ignore-file: cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"--ignore-file: {path} is not UTF-8 text") from exc
    entries = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        # gitleaks normalises Windows separators in the file part.
        file_index = 1 if len(parts) == 4 else 0
        parts[file_index] = parts[file_index].replace("\\", "/")
        entries.add(":".join(parts))
    return frozenset(entries)


def gitleaks_fingerprint(finding: Finding) -> str:
    """The finding's fingerprint as gitleaks writes it (and `.gitleaksignore` lists it)."""
    where = f"{finding.path}:{finding.rule_id}:{finding.line}"
    return f"{finding.commit}:{where}" if finding.commit else where


def is_ignored(finding: Finding, ignored: frozenset[str]) -> bool:
    """True when `.gitleaksignore` lists the finding, with or without its commit."""
    return (
        f"{finding.path}:{finding.rule_id}:{finding.line}" in ignored
        or gitleaks_fingerprint(finding) in ignored
    )
