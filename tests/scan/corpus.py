"""A labelled corpus for the release scanner: a monorepo of configs, manifests,
notebooks and sources with planted secrets, internal hosts, private addresses and
personal data, and as many near-miss decoys, every one labelled by path and line.

    labels = build_corpus(tmp_path, seed=0)
    findings = scan(tmp_path, rules=default_rules(CORPUS_OPTIONS))

The scale follows issue 15's reference corpus: 384 secrets of 78 types, 123 internal
host names, 91 private addresses, 110 pieces of personal data, and as many decoys.
`build_corpus_repo` commits the same tree over several commits, with secrets that are
added and deleted later, for `--history`.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

from steward.scan.models import Kind, ScanOptions
from tests.scan import corpus_fixed as fixed
from tests.scan import corpus_manifests as m
from tests.scan import corpus_people as people
from tests.scan import corpus_templates as t
from tests.scan import corpus_values as v
from tests.scan.corpus_files import Doc, fits
from tests.scan.corpus_fixed import Corpus
from tests.scan.corpus_model import Item, Label, Plant
from tests.scan.corpus_ordinary import ordinary_files
from tests.scan.corpus_plants import how_many, secret_types

__all__ = ["CORPUS_OPTIONS", "TARGETS", "Label", "build_corpus", "build_corpus_repo"]

CORPUS_OPTIONS = ScanOptions(
    internal_domains=(v.INTERNAL_DOMAIN,), allowed_email_domains=(v.ALLOWED_EMAIL_DOMAIN,)
)
TARGETS: dict[Kind, int] = {"secret": 384, "internal-host": 123, "private-ip": 91, "pii": 110}
SERVICES = [
    "billing",
    "checkout",
    "identity",
    "inventory",
    "notifications",
    "reporting",
    "search",
    "gateway",
    "ledger",
    "shipping",
    "pricing",
    "catalog",
    "payouts",
    "fraud",
    "loyalty",
    "ingest",
    "warehouse",
    "scheduler",
    "exports",
    "audit",
    "tax",
    "invoicing",
    "recommendations",
    "support",
    "onboarding",
    "analytics",
    "media",
    "webhooks",
    "feature-store",
    "risk",
    "crm",
    "geo",
    "forecast",
    "mailer",
]
LANGUAGES = ["py", "ts", "go", "java", "scala", "js"]
SOURCE_PATHS = {
    "py": "app/settings.py",
    "ts": "src/config.ts",
    "go": "internal/config/config.go",
    "java": "src/main/java/io/acme/{svc}/Config.java",
    "scala": "src/main/scala/io/acme/{svc}/JobConfig.scala",
    "js": "config/index.js",
}
# How likely a service has each file besides its sources and .env.
OPTIONAL = {
    "yaml": 0.7,
    "dockerfile": 0.6,
    "compose": 0.5,
    "md": 0.6,
    "sh": 0.6,
    "deployment": 0.5,
    "helm": 0.4,
    "configmap": 0.4,
}
EXTRAS = ["ini", "properties", "tf", "xml", "json", "log", "sql", "http", "ipynb"]


def _general_pool(c: Corpus, pending: list[Plant]) -> list[Plant]:
    """Every plant that any config or source file can hold, up to the targets: secrets of
    each type, then hosts, addresses and personal data, then as many decoys.
    `pending` are plants drawn already for files written later; they count too.
    """
    planter = c.planter
    pool: list[Plant] = []
    for secret_type in secret_types():
        if secret_type not in TEMPLATE_ONLY:
            pool += [planter.secret(secret_type) for _ in range(how_many(secret_type))]
    placed = _counts(
        [item for d in c.docs for item in _doc_items(d)]
        + [i for p in pool + pending for i in p.items]
    )
    pool += [
        planter.host() for _ in range(TARGETS["internal-host"] - placed[("internal-host", False)])
    ]
    pool += [
        planter.address() for _ in range(TARGETS["private-ip"] - placed[("private-ip", False)])
    ]
    pii_types = list(people.PII_VALUES)
    pool += [
        planter.personal(pii_types[i % len(pii_types)])
        for i in range(TARGETS["pii"] - placed[("pii", False)])
    ]
    pool += [planter.pem_decoy(i) for i in range(20)]  # certificates and public keys
    placed = _counts(
        [item for d in c.docs for item in _doc_items(d)]
        + [i for p in pool + pending for i in p.items]
    )
    pool += [planter.secret_decoy(i) for i in range(TARGETS["secret"] - placed[("secret", True)])]
    pool += [
        planter.host_decoy(i)
        for i in range(TARGETS["internal-host"] - placed[("internal-host", True)])
    ]
    pool += [
        planter.address_decoy(i)
        for i in range(TARGETS["private-ip"] - placed[("private-ip", True)])
    ]
    pool += [planter.pii_decoy(i) for i in range(TARGETS["pii"] - placed[("pii", True)])]
    c.rng.shuffle(pool)
    return pool


TEMPLATE_ONLY = {
    "kubernetes-secret-data",
    "docker-config-auth",
    "kubeconfig-client-key-data",
    "kubeconfig-token",
    "gcp-service-account-key",
    "xml-password",
}


def _doc_items(doc: Doc) -> list[Item]:
    return [Item(p.kind, p.type, p.value, p.is_decoy) for p in doc.placed]


def _counts(items: list[Item]) -> dict[tuple[str, bool], int]:
    counts: dict[tuple[str, bool], int] = {
        (kind, decoy): 0 for kind in TARGETS for decoy in (False, True)
    }
    for item in items:
        counts[(item.kind, item.is_decoy)] += 1
    return counts


def _services(c: Corpus, pool: list[Plant]) -> None:
    """Service directories, each with the files a service has, until the pool is placed."""
    rng = c.rng
    for n in range(10_000):
        if not pool:
            return
        service = SERVICES[n % len(SERVICES)] + (
            f"-{n // len(SERVICES) + 1}" if n >= len(SERVICES) else ""
        )
        language = LANGUAGES[n % len(LANGUAGES)]
        kinds = [language, "env"] + [k for k, p in OPTIONAL.items() if rng.random() < p]
        kinds += rng.sample(EXTRAS, 3)
        if n % 3 == 0 and "ipynb" not in kinds:
            kinds.append("ipynb")  # the data teams' notebooks sit beside the services
        for kind in kinds:
            relative, writer = t.WRITERS[kind]
            relative = SOURCE_PATHS.get(kind, relative).format(svc=service.replace("-", ""))
            syntax = t.SYNTAX.get(kind, kind)
            plants = _draw(
                pool,
                syntax,
                rng.randint(4, 8) if kind in (language, "ipynb") else rng.randint(2, 5),
                kind,
            )
            if not plants:
                continue
            encoding = "latin-1" if kind == "properties" and n % 8 == 1 else "utf-8"
            folder = (
                "infra/k8s"
                if kind in ("deployment", "configmap")
                else "infra/helm"
                if kind == "helm"
                else "services"
            )
            writer(c.doc(f"{folder}/{service}/{relative}", encoding), rng, plants, service)
        c.docs += ordinary_files(service, language, rng)
        for plant in [p for p in pool if p.shape == "pem"][:1]:
            pool.remove(plant)
            t.write_pem(
                c.doc(
                    f"services/{service}/certs/{'tls' if plant.items[0].is_decoy else 'server'}.pem"
                ),
                plant,
            )
    raise RuntimeError("the plant pool never emptied")


def _draw(pool: list[Plant], fmt: str, n: int, file_kind: str) -> list[Plant]:
    """Up to `n` plants from the front of `pool` that a `file_kind` file in `fmt` syntax
    can hold, removed from it."""
    drawn: list[Plant] = []
    for plant in list(pool):
        if len(drawn) == n:
            break
        if fits(fmt, plant, file_kind):
            pool.remove(plant)
            drawn.append(plant)
    return drawn


def build_corpus(root: Path, seed: int = 0) -> list[Label]:
    """Write the labelled monorepo under `root` and return its labels (paths relative to
    `root`); the same seed writes the same files."""
    c = Corpus(seed)
    fixed.kubernetes_secrets(c)
    fixed.docker_configs(c)
    fixed.kubeconfigs(c)
    fixed.service_accounts(c)
    fixed.xml_configs(c)
    fixed.frontend(c)
    fixed.fixtures(c)
    refs = fixed.references(c)
    pool = _general_pool(c, [p for group in refs.values() for p in group])
    fixed.dotfiles(c, pool)
    fixed.ci(c, pool, refs)
    fixed.legacy(c, pool)
    for stack in ("prod", "staging"):
        plants = _draw(pool, "json", 6, "tfstate")
        m.terraform_state(c.doc(f"infra/terraform/{stack}/terraform.tfstate"), c.rng, plants, stack)
    _services(c, pool)
    for doc in c.docs:
        path = root / doc.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(doc.text().encode(doc.encoding))
    return c.labels()


def _git(root: Path, *args: str, when: int = 0) -> str:
    """Run git in `root` with a fixed identity and date, so commit ids follow the seed."""
    date = f"{1_700_000_000 + when * 86_400} +0000"
    env = {
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "PATH": "/usr/bin:/bin",
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    result = subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, env=env
    )
    return result.stdout.strip()


def _commit(root: Path, message: str, when: int, paths: list[str]) -> str:
    """Commit `paths` (and whatever is already staged) at day `when`; the new commit id."""
    for start in range(0, len(paths), 200):
        _git(root, "add", "--", *paths[start : start + 200])
    _git(root, "commit", "-q", "--no-gpg-sign", "-m", message, when=when)
    return _git(root, "rev-parse", "HEAD")


def build_corpus_repo(root: Path, seed: int = 0) -> list[Label]:
    """The corpus committed over several commits, with secrets that were committed and
    later deleted: a whole `.env.production` deleted three commits after it was added,
    and lines appended to a config file and taken out again. Returns every label with
    the commit that added its line; the deleted ones are in history only."""
    labels = build_corpus(root, seed)
    _git(root, "init", "-q", "-b", "main")
    paths = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts
    )
    batches = [paths[i::4] for i in range(4)]
    leaked = Corpus(seed + 1)
    plants = [
        leaked.planter.secret(kind)
        for kind in (
            "aws-secret-access-key",
            "stripe-secret-key",
            "postgres-url",
            "slack-webhook-url",
            "openai-api-key",
            "github-pat",
        )
    ]
    env = leaked.doc("deploy/cutover/.env.production")
    t.write_env(env, leaked.rng, plants, "cutover")
    appended_to = next(path for path in batches[0] if path.endswith("/.env"))
    original = (root / appended_to).read_bytes()
    commits = dict.fromkeys(batches[0], _commit(root, "import the monorepo (1/4)", 1, batches[0]))
    (root / env.path).parent.mkdir(parents=True, exist_ok=True)
    (root / env.path).write_text(env.text())
    leak = _commit(root, "add production env for the cutover", 2, [env.path])
    rotated = leaked.planter.secret("gitlab-pat")
    line_no = len(original.decode("utf-8", "replace").split("\n"))
    (root / appended_to).write_bytes(
        original
        + f"# temporary, until the migration is done\nGITLAB_TOKEN={rotated.text}\n".encode()
    )
    appended = _commit(root, "temporary token for the migration", 3, [appended_to])
    commits.update(
        dict.fromkeys(batches[1], _commit(root, "import the monorepo (2/4)", 4, batches[1]))
    )
    _git(root, "rm", "-q", "--", env.path)
    _commit(root, "remove the cutover env file", 5, [])  # three commits after it came
    commits.update(
        dict.fromkeys(batches[2], _commit(root, "import the monorepo (3/4)", 6, batches[2]))
    )
    (root / appended_to).write_bytes(original)
    commits.update(
        dict.fromkeys(
            batches[3], _commit(root, "import the monorepo (4/4)", 7, batches[3] + [appended_to])
        )
    )
    history = [replace(label, commit=commits[label.path]) for label in labels]
    history += [replace(label, commit=leak) for label in leaked.labels()]
    token = rotated.items[0].value
    history.append(
        Label(appended_to, line_no + 1, "secret", rotated.items[0].type, token, commit=appended)
    )
    return history
