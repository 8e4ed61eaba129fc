"""Internal host names: where configs, manifests, notebooks and code write them, and the
look-alikes (files, code, packages, emails, placeholders, well-known names) they are not."""

from __future__ import annotations

import json

import pytest

from steward.errors import InvalidInput
from steward.scan.models import ScanOptions
from tests.scan.scanned import reported, where


def hosts(text: str, *, path: str = "config.yaml", options: ScanOptions | None = None) -> list:
    if options is None:
        return reported(text, kind="internal-host", path=path)
    return reported(text, kind="internal-host", path=path, options=options)


@pytest.mark.parametrize(
    ("path", "text", "name"),
    [
        ("app.yaml", "database:\n  host: pg-primary.corp.acme.io\n  port: 5432\n", "pg-primary"),
        ("app.json", '{"broker": "kafka-2.corp.acme.io:9092"}', "kafka-2"),
        ("app.ini", "[ldap]\nserver = LDAP01.CORP.ACME.IO\n", "LDAP01"),
        (".env", "API_URL=https://billing.corp.acme.io/v2\n", "billing"),
        ("pom.xml", "<url>jdbc:postgresql://dw.corp.acme.io:5432/dw</url>", "dw.corp"),
        ("deploy.sh", "ssh deploy@bastion.corp.acme.io 'systemctl restart app'", "bastion"),
        ("README.md", "The wiki lives at wiki.corp.acme.io, ask in #infra.", "wiki.corp"),
        ("hosts.ini", "[files]\nFileServer01.corp.acme.io\n", "FileServer01"),
    ],
)
def test_host_under_an_internal_domain_is_reported(path: str, text: str, name: str) -> None:
    assert hosts(text, path=path) == [("internal-host", *where(text, name))]


def test_internal_domains_are_the_operators() -> None:
    text = "host: grafana.ops.example.net"
    assert hosts(text) == []
    options = ScanOptions(internal_domains=("ops.example.net",))
    assert hosts(text, options=options) == [("internal-host", *where(text, "grafana"))]


def test_the_internal_domain_itself_and_lookalike_domains_are_not_hosts() -> None:
    text = "site: corp.acme.io\nother: db.notcorp.acme.io.evil.com\nmore: corp.acme.iox"
    assert hosts(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("DB_HOST=billing-db.prod.internal", "billing-db.prod.internal"),
        ("url: postgresql://app:${PW}@orders.db.internal:5432/orders", "orders.db.internal"),
        ("remote: git@gitlab.corp:platform/deploy.git", "gitlab.corp"),
        ("<server>nas.home.arpa</server>", "nas.home.arpa"),
        ("printer = office-printer.local", "office-printer.local"),
        ("airplay: Johns-MacBook-Pro.local", "Johns-MacBook-Pro.local"),
        ("proxy: http://squid.lan:3128", "squid.lan"),
        ("The metrics go to ip-10-0-1-23.ec2.internal.", "ip-10-0-1-23.ec2.internal"),
        ("share: \\\\fileserver.intranet\\finance", "fileserver.intranet"),
        ("node: instance-1.us-central1-a.c.acme-prod.internal", "instance-1"),
    ],
)
def test_special_use_names_are_reported(text: str, name: str) -> None:
    assert hosts(text) == [("internal-host-special-use", *where(text, name))]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("REDIS_URL=redis://redis-master.cache.svc.cluster.local:6379/0", "redis-master"),
        ("endpoint: http://grafana.monitoring.svc:3000", "grafana.monitoring.svc"),
        ("- --peer=etcd-0.etcd-headless.infra.svc.cluster.local:2380", "etcd-0"),
        ("ENV API_URL=http://inventory.svc.cluster.local/api", "inventory"),
    ],
)
def test_cluster_service_names_are_reported(text: str, name: str) -> None:
    assert hosts(text) == [("internal-host-cluster", *where(text, name))]


def test_kubernetes_manifest_reports_each_service_once() -> None:
    manifest = """\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: api
          env:
            - name: DATABASE_HOST
              value: postgres.payments.svc.cluster.local
            - name: KUBE_API
              value: https://kubernetes.default.svc
            - name: SEARCH
              value: "opensearch.search.svc:9200"
"""
    assert hosts(manifest) == [
        ("internal-host-cluster", *where(manifest, "postgres.payments")),
        ("internal-host-cluster", *where(manifest, "opensearch.search.svc")),
    ]


def test_notebook_json_escaped_source_is_read() -> None:
    cell = {"cell_type": "code", "source": ['engine = connect("mysql://ro@reports.corp:3306")\n']}
    text = json.dumps({"cells": [cell]}, indent=1)
    assert hosts(text, path="analysis.ipynb") == [
        ("internal-host-special-use", *where(text, "reports.corp"))
    ]


@pytest.mark.parametrize(
    "text",
    [
        "cp settings.local.py settings.py",  # a file name
        "source .env.local",
        "cp config.local config",
        "include docker-compose.local.yml",
        "env_file: app.local",  # a key naming a file
        "cat /etc/app/db.local",  # a path
        "if self.internal:",  # code attributes
        "local = threading.local()",
        "return request.local",
        "data = myObject.internal",
        "tables = {governed.internal[name]: plan for name in names}",  # a subscript
        "import com.acme.internal;",  # a Java package
        "from billing.internal import ledger",  # a Python module
        "contact: alice@corp.internal",  # an email (personal data, not a host)
        "the word .internal alone",
        "db.internal.example.com",  # under a public domain
        "service.internals.ready",
        "tag: 1.2.local",  # a version
        "  - v1.2.internal",
        "my-svc.my-namespace.svc.cluster.local",  # Kubernetes docs' placeholder
        "http://your-db.internal:5432",
        "url: http://myapp.local:3000",
        "UserService.svc",  # a WCF endpoint file
        "db_primary.internal",  # underscores are not in host names
    ],
)
def test_lookalikes_are_not_hosts(text: str) -> None:
    assert hosts(text) == []


@pytest.mark.parametrize(
    "name",
    [
        "metadata.google.internal",
        "host.docker.internal",
        "host.containers.internal",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "localhost.localdomain",
        "us-east-2.compute.internal",  # a cloud's zone, not a machine
        "ec2.internal",
    ],
)
def test_well_known_names_every_installation_shares_are_not_reported(name: str) -> None:
    assert hosts(f"url: http://{name}/computeMetadata/v1") == []


def test_every_host_on_a_line_is_reported() -> None:
    text = "seeds: cass-1.db.internal,cass-2.db.internal"
    assert hosts(text) == [
        ("internal-host-special-use", *where(text, "cass-1")),
        ("internal-host-special-use", *where(text, "cass-2")),
    ]


def test_a_malformed_internal_domain_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="not a domain name"):
        hosts("x", options=ScanOptions(internal_domains=("corp..acme",)))


@pytest.mark.parametrize(
    ("text", "reported_name"),
    [
        ("if not route.local and ready:", None),  # an attribute amid code
        ("if kind == cfg.internal:", None),
        ("filepath (str, py.path.local or pathlib.Path)", None),
        ("host: printer.local", "printer.local"),  # the same shape as a value
        ("url = 'http://wiki.lan/x'", "wiki.lan"),
        ("- nas.lan", "nas.lan"),
        ("10.0.0.5  vault.internal", "vault.internal"),  # an /etc/hosts line
        ("Connect to printer.local first", "printer.local"),
    ],
)
def test_a_lone_word_before_the_suffix_is_not_a_host_amid_code(
    text: str, reported_name: str | None
) -> None:
    found = hosts(text)
    if reported_name is None:
        assert found == []
    else:
        assert found == [("internal-host-special-use", *where(text, reported_name))]
