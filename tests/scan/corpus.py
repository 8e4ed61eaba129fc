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

import random
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from steward.scan.models import Kind, ScanOptions
from tests.scan import corpus_keys as keys
from tests.scan import corpus_manifests as m
from tests.scan import corpus_people as people
from tests.scan import corpus_templates as t
from tests.scan import corpus_values as v
from tests.scan.corpus_files import Doc, fits
from tests.scan.corpus_model import Item, Plant
from tests.scan.corpus_ordinary import ordinary_files
from tests.scan.corpus_plants import Planter, how_many, secret_types

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


class Corpus:
    """The monorepo being written: its documents, and the pool of plants still to place."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.planter = Planter(self.rng)
        self.docs: list[Doc] = []

    def doc(self, path: str, encoding: str = "utf-8") -> Doc:
        document = Doc(path, encoding)
        self.docs.append(document)
        return document

    def labels(self) -> list[Label]:
        return [
            Label(d.path, p.line, p.kind, p.type, p.value, p.is_decoy, opens=p.opens)  # type: ignore[arg-type]
            for d in self.docs
            for p in d.placed
        ]


def _kubernetes_secrets(c: Corpus) -> None:
    """Secret manifests: base64 credentials under `data`, references under `stringData`."""
    rng = c.rng
    data = []
    names = ["db-password", "api-token", "client-secret", "password", "redis-password"]
    for name in names[: how_many("kubernetes-secret-data")]:
        encoded = v.b64(v.password(rng).encode())
        data.append(Plant(name, encoded, (Item("secret", "kubernetes-secret-data", encoded),)))
    for i, service in enumerate(["billing", "identity", "ledger"]):
        decoys = [c.planter.reference_decoy(style) for style in ("envsubst", "helm")]
        m.kubernetes_secret(
            c.doc(f"infra/k8s/{service}/secret.yaml"), rng, data[i * 2 : i * 2 + 2], decoys, service
        )


def _docker_configs(c: Corpus) -> None:
    rng = c.rng
    auths = []
    for registry in ["https://index.docker.io/v1/", "ghcr.io", "registry.gitlab.com", "quay.io"]:
        auth = v.b64(
            f"{rng.choice(['acmebot', 'deploy', 'ci-pusher'])}:{v.url_password(rng)}".encode()
        )
        auths.append(Plant(registry, auth, (Item("secret", "docker-config-auth", auth),)))
    m.docker_config(c.doc("deploy/docker/config.json"), rng, auths[:2])
    m.docker_config(c.doc("tools/ci/.docker/config.json"), rng, auths[2:])


def _kubeconfigs(c: Corpus) -> None:
    rng = c.rng
    for i, cluster in enumerate(["prod-eu", "prod-us", "staging", "data"]):
        server = _bare_server(c.planter.host() if i % 2 else c.planter.address())
        certs = []
        for name in ("ca", "client"):
            encoded = v.b64((keys.certificate_pem(rng, f"{cluster}-{name}") + "\n").encode())
            certs.append(Plant(name, encoded, (Item("secret", "certificate", encoded, True),)))
        key_data = v.b64((keys.ec_pem(rng) + "\n").encode())
        key = Plant("key", key_data, (Item("secret", "kubeconfig-client-key-data", key_data),))
        if i % 2:
            token_text = keys.jwt(rng, "kubernetes/serviceaccount")
        else:
            token_text = (
                f"{v.chars(rng, v.LOWER + v.DIGITS, 6)}.{v.chars(rng, v.LOWER + v.DIGITS, 16)}"
            )
        token = Plant("token", token_text, (Item("secret", "kubeconfig-token", token_text),))
        path = f"deploy/kubeconfig-{cluster}.yaml" if i < 3 else "ops/.kube/config"
        m.kubeconfig(c.doc(path), cluster, server, (certs[0], certs[1]), key, token)


def _service_accounts(c: Corpus) -> None:
    rng = c.rng
    for project in ["acme-analytics", "acme-billing-prod", "acme-ml", "acme-ci"]:
        key_text = keys.pkcs8_pem(rng)
        key = Plant("private_key", key_text, (Item("secret", "gcp-service-account-key", key_text),))
        address = (
            f"{rng.choice(['etl', 'deployer', 'bq-reader'])}@{project}.iam.gserviceaccount.com"
        )
        email = Plant(
            "client_email", address, (Item("pii", "service-account-email", address, True),)
        )
        m.service_account(c.doc(f"secrets/gcp/{project}.json"), rng, project, key, email)


def _xml_configs(c: Corpus) -> None:
    passwords = [v.password(c.rng) for _ in range(how_many("xml-password"))]
    xml = [
        Plant(f"repo-{i}", pw, (Item("secret", "xml-password", pw),))
        for i, pw in enumerate(passwords)
    ]
    m.maven_settings(c.doc("build/maven/settings.xml"), xml[:2])
    smtp = _bare_server(c.planter.host())
    m.log4j(c.doc("services/ledger/src/main/resources/log4j2.xml"), smtp, xml[2])
    m.tomcat_server(c.doc("legacy/erp-bridge/conf/server.xml"), xml[3:])


def _frontend(c: Corpus) -> None:
    """npm packages: an author (a person, or an example address) and lock files whose
    integrity hashes are high-entropy and harmless."""
    for i, name in enumerate(["web", "admin-ui", "sdk"]):
        author = c.planter.personal("email") if i % 2 == 0 else c.planter.pii_decoy(0)
        m.package_json(c.doc(f"frontend/{name}/package.json"), c.rng, name, author)
        integrity = [c.planter.secret_decoy(13) for _ in range(6)]
        m.package_lock(c.doc(f"frontend/{name}/package-lock.json"), c.rng, name, integrity)


WORKFLOWS = ("ci", "deploy", "release")
CHARTS = ("billing", "gateway", "search")


def _references(c: Corpus) -> dict[str, list[Plant]]:
    """The deploy-time references the workflows and Helm templates will hold, drawn
    before the pool so the pool's decoys make up the rest."""
    refs = {name: [c.planter.reference_decoy("actions") for _ in range(3)] for name in WORKFLOWS}
    for chart in CHARTS:
        refs[chart] = [c.planter.reference_decoy(style) for style in ("helm", "helm-b64")]
    return refs


def _ci(c: Corpus, pool: list[Plant], refs: dict[str, list[Plant]]) -> None:
    """Workflows reading `${{ secrets.X }}`, two with a value pasted in; Helm templates."""
    for name in WORKFLOWS:
        plants = list(refs[name])
        if name != "ci":
            plants.insert(1, _take(pool, "yaml", kind="secret"))
        m.workflow(c.doc(f".github/workflows/{name}.yml"), c.rng, plants)
    for chart in CHARTS:
        m.helm_template(c.doc(f"charts/{chart}/templates/deployment.yaml"), refs[chart])


def _of_type(pool: list[Plant], secret_type: str) -> Plant:
    """A positive of `secret_type` from the pool, removed."""
    for i, plant in enumerate(pool):
        item = plant.items[0]
        if item.type == secret_type and not item.is_decoy:
            return pool.pop(i)
    raise LookupError(f"no {secret_type} left")


def _dotfiles(c: Corpus, pool: list[Plant]) -> None:
    """Credential files copied into the repository from someone's home directory or a CI
    image: where tokens most often leak whole."""
    home = "tools/dev-env/home"
    m.npmrc(c.doc(f"{home}/.npmrc"), _of_type(pool, "npm-token"))
    m.pypirc(c.doc(f"{home}/.pypirc"), _of_type(pool, "pypi-token"))
    key_id, secret = _of_type(pool, "aws-access-key-id"), _of_type(pool, "aws-secret-access-key")
    m.aws_credentials(c.doc(f"{home}/.aws/credentials"), key_id, secret)
    m.git_credentials(c.doc(f"{home}/.git-credentials"), _of_type(pool, "github-pat"))
    m.netrc(c.doc(f"{home}/.netrc"), _of_type(pool, "gitlab-pat"))


def _legacy(c: Corpus, pool: list[Plant]) -> None:
    """A legacy Java service whose .properties files are Latin-1, as Java long wrote them:
    scanners that read only UTF-8 skip them."""
    for name in ("application.properties", "messages_fr.properties"):
        plants = [_take(pool, "properties", kind="secret") for _ in range(3)]
        document = c.doc(f"legacy/erp-bridge/src/main/resources/{name}", "latin-1")
        t.write_properties(document, c.rng, plants, "erp-bridge")


def _fixtures(c: Corpus) -> None:
    """CSV fixtures of personal data, one value per row, with look-alikes among them."""
    tables = {
        "customers": ("email", "email", [0, 1, 2]),
        "contacts": ("phone", "phone", [7, 8]),
        "payments": ("payment-card", "card_number", [3, 4]),
        "payouts": ("iban", "iban", [5]),
        "employees": ("us-ssn", "national_id", [6]),
    }
    for table, (pii_type, column, decoy_kinds) in tables.items():
        plants = [c.planter.personal(pii_type) for _ in range(8)]
        if table == "employees":
            plants += [c.planter.personal(rng_type) for rng_type in ("uk-nino", "es-dni") * 2]
        plants += [c.planter.pii_decoy(k) for k in decoy_kinds * 4][:8]
        c.rng.shuffle(plants)
        t.write_csv(c.doc(f"data/fixtures/{table}.csv"), c.rng, plants, column)


def _take(pool: list[Plant], fmt: str, kind: str | None = None) -> Plant:
    """The first plant in `pool` a file of `fmt` can hold (of `kind`, if given), removed."""
    for i, plant in enumerate(pool):
        if fits(fmt, plant) and (kind is None or plant.items[0].kind == kind):
            return pool.pop(i)
    raise LookupError(f"nothing left for {fmt}")


def _bare_server(plant: Plant) -> Plant:
    """A host or address plant as a bare server name (no scheme, port or path)."""
    value = plant.items[0].value
    bare = value.split("/")[0].rsplit(":", 1)[0] if value.count(":") == 1 or "/" in value else value
    return Plant(plant.name, bare, (replace(plant.items[0], value=bare),))


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
    pool += [planter.pem_decoy(i) for i in range(20)]
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
    return [Item(p.kind, p.type, p.value, p.is_decoy) for p in doc.placed]  # type: ignore[arg-type]


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
    _kubernetes_secrets(c)
    _docker_configs(c)
    _kubeconfigs(c)
    _service_accounts(c)
    _xml_configs(c)
    _frontend(c)
    _fixtures(c)
    refs = _references(c)
    pool = _general_pool(c, [p for group in refs.values() for p in group])
    _dotfiles(c, pool)
    _ci(c, pool, refs)
    _legacy(c, pool)
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
    later deleted: a whole `.env.production` removed three commits after it was added,
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
    commits.update(
        dict.fromkeys(batches[2], _commit(root, "import the monorepo (3/4)", 5, batches[2]))
    )
    _git(root, "rm", "-q", "--", env.path)
    _commit(root, "remove the cutover env file", 6, [])
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
