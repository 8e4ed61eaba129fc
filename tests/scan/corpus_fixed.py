"""The corpus' fixed files: the manifests, credential files and fixtures every monorepo
of this kind holds once (Kubernetes Secrets, kubeconfigs, service-account keys, CI
workflows, dotfiles, CSV fixtures), and the `Corpus` being written."""

from __future__ import annotations

import random
from dataclasses import replace

from tests.scan import corpus_keys as keys
from tests.scan import corpus_manifests as m
from tests.scan import corpus_templates as t
from tests.scan import corpus_values as v
from tests.scan.corpus_files import Doc, fits
from tests.scan.corpus_model import Item, Label, Plant
from tests.scan.corpus_plants import Planter, how_many


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
            Label(d.path, p.line, p.kind, p.type, p.value, p.is_decoy, opens=p.opens)
            for d in self.docs
            for p in d.placed
        ]


def kubernetes_secrets(c: Corpus) -> None:
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


def docker_configs(c: Corpus) -> None:
    """Docker `config.json` files with registry logins (`auth` is base64 of user:password)."""
    rng = c.rng
    auths = []
    for registry in ["https://index.docker.io/v1/", "ghcr.io", "registry.gitlab.com", "quay.io"]:
        auth = v.b64(
            f"{rng.choice(['acmebot', 'deploy', 'ci-pusher'])}:{v.url_password(rng)}".encode()
        )
        auths.append(Plant(registry, auth, (Item("secret", "docker-config-auth", auth),)))
    m.docker_config(c.doc("deploy/docker/config.json"), rng, auths[:2])
    m.docker_config(c.doc("tools/ci/.docker/config.json"), rng, auths[2:])


def kubeconfigs(c: Corpus) -> None:
    """Kubeconfigs: a private cluster address, certificates (public), a client key and a
    token (a service-account JWT or a bootstrap token)."""
    rng = c.rng
    for i, cluster in enumerate(["prod-eu", "prod-us", "staging", "data"]):
        server = bare_server(c.planter.host() if i % 2 else c.planter.address())
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


def service_accounts(c: Corpus) -> None:
    """GCP service-account key files; their `client_email` is a machine's, not a person's."""
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


def xml_configs(c: Corpus) -> None:
    """Passwords in XML: Maven `<password>` elements, log4j's and Tomcat's attributes."""
    passwords = [v.password(c.rng) for _ in range(how_many("xml-password"))]
    xml = [
        Plant(f"repo-{i}", pw, (Item("secret", "xml-password", pw),))
        for i, pw in enumerate(passwords)
    ]
    m.maven_settings(c.doc("build/maven/settings.xml"), xml[:2])
    smtp = bare_server(c.planter.host())
    m.log4j(c.doc("services/ledger/src/main/resources/log4j2.xml"), smtp, xml[2])
    m.tomcat_server(c.doc("legacy/erp-bridge/conf/server.xml"), xml[3:])


def frontend(c: Corpus) -> None:
    """npm packages: an author (a person, or an example address) and lock files whose
    integrity hashes are high-entropy and harmless."""
    for i, name in enumerate(["web", "admin-ui", "sdk"]):
        author = c.planter.personal("email") if i % 2 == 0 else c.planter.example_email_decoy()
        m.package_json(c.doc(f"frontend/{name}/package.json"), c.rng, name, author)
        integrity = [c.planter.integrity_decoy() for _ in range(6)]
        m.package_lock(c.doc(f"frontend/{name}/package-lock.json"), c.rng, name, integrity)


WORKFLOWS = ("ci", "deploy", "release")
CHARTS = ("billing", "gateway", "search")


def references(c: Corpus) -> dict[str, list[Plant]]:
    """The deploy-time references the workflows and Helm templates will hold, drawn
    before the pool so the pool's decoys make up the rest."""
    refs = {name: [c.planter.reference_decoy("actions") for _ in range(3)] for name in WORKFLOWS}
    for chart in CHARTS:
        refs[chart] = [c.planter.reference_decoy(style) for style in ("helm", "helm-b64")]
    return refs


def ci(c: Corpus, pool: list[Plant], refs: dict[str, list[Plant]]) -> None:
    """Workflows reading `${{ secrets.X }}`, two with a value pasted in; Helm templates."""
    for name in WORKFLOWS:
        plants = list(refs[name])
        if name != "ci":
            plants.insert(1, take(pool, "yaml", "secret", positive=True))
        m.workflow(c.doc(f".github/workflows/{name}.yml"), c.rng, plants)
    for chart in CHARTS:
        m.helm_template(c.doc(f"charts/{chart}/templates/deployment.yaml"), refs[chart])


def of_type(pool: list[Plant], secret_type: str) -> Plant:
    """A positive of `secret_type` from the pool, removed."""
    for i, plant in enumerate(pool):
        item = plant.items[0]
        if item.type == secret_type and not item.is_decoy:
            return pool.pop(i)
    raise LookupError(f"no {secret_type} left")


def dotfiles(c: Corpus, pool: list[Plant]) -> None:
    """Credential files copied into the repository from someone's home directory or a CI
    image: where tokens most often leak whole."""
    home = "tools/dev-env/home"
    m.npmrc(c.doc(f"{home}/.npmrc"), of_type(pool, "npm-token"))
    m.pypirc(c.doc(f"{home}/.pypirc"), of_type(pool, "pypi-token"))
    key_id, secret = of_type(pool, "aws-access-key-id"), of_type(pool, "aws-secret-access-key")
    m.aws_credentials(c.doc(f"{home}/.aws/credentials"), key_id, secret)
    m.git_credentials(c.doc(f"{home}/.git-credentials"), of_type(pool, "github-pat"))
    m.netrc(c.doc(f"{home}/.netrc"), of_type(pool, "gitlab-pat"))


def legacy(c: Corpus, pool: list[Plant]) -> None:
    """A legacy Java service whose .properties files are Latin-1, as Java long wrote them:
    scanners that read only UTF-8 skip them."""
    for name in ("application.properties", "messages_fr.properties"):
        plants = [take(pool, "properties", "secret", positive=i < 2) for i in range(3)]
        document = c.doc(f"legacy/erp-bridge/src/main/resources/{name}", "latin-1")
        t.write_properties(document, c.rng, plants, "erp-bridge")


def fixtures(c: Corpus) -> None:
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


def take(pool: list[Plant], fmt: str, kind: str, *, positive: bool = False) -> Plant:
    """The first plant of `kind` (a positive one, if asked) in `pool` that a file of `fmt`
    can hold, removed."""
    for i, plant in enumerate(pool):
        item = plant.items[0]
        if fits(fmt, plant) and item.kind == kind and not (positive and item.is_decoy):
            return pool.pop(i)
    raise LookupError(f"nothing left for {fmt}")


def bare_server(plant: Plant) -> Plant:
    """A host or address plant as a bare server name (no scheme, port or path)."""
    value = plant.items[0].value
    bare = value.split("/")[0].rsplit(":", 1)[0] if value.count(":") == 1 or "/" in value else value
    return Plant(plant.name, bare, (replace(plant.items[0], value=bare),))
