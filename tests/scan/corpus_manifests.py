"""Files whose secrets only they hold, laid out as their tools write them: Kubernetes
Secrets, docker `config.json`, kubeconfigs, GCP service-account keys, Maven/log4j/Tomcat
XML, npm package and lock files, GitHub Actions workflows and Helm templates."""

from __future__ import annotations

import json
import random

from tests.scan import corpus_values as v
from tests.scan.corpus_files import Doc, fill, place, render, spell
from tests.scan.corpus_model import Plant


def kubernetes_secret(
    doc: Doc, rng: random.Random, data: list[Plant], decoys: list[Plant], service: str
) -> None:
    """A Kubernetes Secret: base64 `data` (real credentials) and templated `stringData`."""
    doc.add(
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        f"  name: {service}-credentials",
        f"  namespace: {service}",
        "type: Opaque",
        "data:",
    )
    for plant in data:
        doc.put(f"  {plant.name}: {plant.text}", plant)
    doc.add("stringData:")
    for name, plant in zip(("smtp-password", "webhook-token"), decoys, strict=False):
        doc.put(f"  {name}: {json.dumps(plant.text)}", plant, "json")


def docker_config(doc: Doc, rng: random.Random, auths: list[Plant]) -> None:
    doc.add("{", '  "auths": {')
    for i, plant in enumerate(auths):
        registry = plant.name
        doc.add(f'    "{registry}": {{')
        doc.put(f'      "auth": "{plant.text}"', plant)
        doc.add("    }" + ("," if i < len(auths) - 1 else ""))
    doc.add("  },", '  "credsStore": "desktop"', "}")


def kubeconfig(
    doc: Doc, cluster: str, server: Plant, certs: tuple[Plant, Plant], key: Plant, token: Plant
) -> None:
    """A kubeconfig: a cluster with its CA, a user with a client certificate and key,
    and a bot user with a bearer token."""
    ca, client_cert = certs
    doc.add("apiVersion: v1", "kind: Config", "clusters:", "- cluster:")
    doc.put(f"    certificate-authority-data: {ca.text}", ca)
    doc.put(f"    server: https://{server.text}:6443", server)
    doc.add(
        f"  name: {cluster}",
        "contexts:",
        "- context:",
        f"    cluster: {cluster}",
        "    user: deployer",
        f"  name: {cluster}",
        f"current-context: {cluster}",
        "users:",
        "- name: deployer",
        "  user:",
    )
    doc.put(f"    client-certificate-data: {client_cert.text}", client_cert)
    doc.put(f"    client-key-data: {key.text}", key)
    doc.add("- name: ci-bot", "  user:")
    doc.put(f"    token: {token.text}", token)


def service_account(doc: Doc, rng: random.Random, project: str, key: Plant, email: Plant) -> None:
    """A GCP service-account key file as `gcloud iam service-accounts keys create` writes it."""
    doc.add(
        "{",
        '  "type": "service_account",',
        f'  "project_id": "{project}",',
        f'  "private_key_id": "{v.chars(rng, v.HEX, 40)}",',
    )
    doc.put(f'  "private_key": {json.dumps(key.text + chr(10))},', key, "json")
    doc.put(f'  "client_email": "{email.text}",', email)
    doc.add(
        f'  "client_id": "{rng.randrange(10**20, 10**21)}",',
        '  "auth_uri": "https://accounts.google.com/o/oauth2/auth",',
        '  "token_uri": "https://oauth2.googleapis.com/token",',
        '  "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",',
        '  "universe_domain": "googleapis.com"',
        "}",
    )


def maven_settings(doc: Doc, servers: list[Plant]) -> None:
    doc.add(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">',
        "  <servers>",
    )
    for plant in servers:
        doc.add(
            "    <server>", f"      <id>{plant.name}</id>", "      <username>deployer</username>"
        )
        doc.put(f"      <password>{spell(plant.text, 'xml')}</password>", plant, "xml")
        doc.add("    </server>")
    doc.add("  </servers>", "</settings>")


def log4j(doc: Doc, smtp_host: Plant, secret: Plant) -> None:
    doc.add(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Configuration status="WARN">',
        "  <Appenders>",
        '    <Console name="Console" target="SYSTEM_OUT">',
        '      <PatternLayout pattern="%d %p %c{1.} %m%n"/>',
        "    </Console>",
    )
    doc.put(
        f'    <SMTP name="Mail" subject="[ledger] error" smtpHost="{smtp_host.text}" smtpPort="25"',
        smtp_host,
    )
    doc.put(
        f'          smtpUsername="alerts" smtpPassword="{spell(secret.text, "xml")}"/>',
        secret,
        "xml",
    )
    doc.add(
        "  </Appenders>",
        "  <Loggers>",
        '    <Root level="info">',
        '      <AppenderRef ref="Console"/>',
        '      <AppenderRef ref="Mail" level="error"/>',
        "    </Root>",
        "  </Loggers>",
        "</Configuration>",
    )


def tomcat_server(doc: Doc, secrets: list[Plant]) -> None:
    doc.add(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Server port="8005" shutdown="SHUTDOWN">',
        '  <Service name="Catalina">',
    )
    for plant in secrets:
        doc.put(
            f'    <Connector port="8443" SSLEnabled="true" keystoreFile="conf/keystore.jks" '
            f'keystorePass="{spell(plant.text, "xml")}" />',
            plant,
            "xml",
        )
    doc.add("  </Service>", "</Server>")


def package_json(doc: Doc, rng: random.Random, name: str, author: Plant) -> None:
    doc.add(
        "{",
        f'  "name": "@acme/{name}",',
        f'  "version": "{rng.randrange(1, 4)}.{rng.randrange(20)}.0",',
        '  "private": true,',
    )
    doc.put(f'  "author": "{author.text}",', author)
    doc.add(
        '  "scripts": { "build": "tsc -p .", "test": "vitest run" },',
        '  "dependencies": { "express": "^4.19.2", "zod": "^3.23.8" }',
        "}",
    )


def package_lock(doc: Doc, rng: random.Random, name: str, integrities: list[Plant]) -> None:
    doc.add("{", f'  "name": "@acme/{name}",', '  "lockfileVersion": 3,', '  "packages": {')
    for i, plant in enumerate(integrities):
        dep = rng.choice(["express", "zod", "lodash", "debug", "ms", "qs", "send", "mime"]) + str(i)
        doc.add(
            f'    "node_modules/{dep}": {{',
            '      "version": "1.0.0",',
            f'      "resolved": "https://registry.npmjs.org/{dep}/-/{dep}-1.0.0.tgz",',
        )
        doc.put(f'      "integrity": "{plant.text}"', plant)
        doc.add("    }" + ("," if i < len(integrities) - 1 else ""))
    doc.add("  }", "}")


def workflow(doc: Doc, rng: random.Random, plants: list[Plant]) -> None:
    """A GitHub Actions workflow: mostly `${{ secrets.X }}`, some values pasted in."""
    doc.add(
        "name: deploy",
        "on:",
        "  push:",
        "    branches: [main]",
        "jobs:",
        "  deploy:",
        "    runs-on: ubuntu-latest",
        "    env:",
    )
    for plant in plants:
        fill(
            doc,
            rng,
            ["      AWS_REGION: eu-west-1", '      NODE_VERSION: "20"', '      CI: "true"'],
            0,
            1,
        )
        place(
            doc, "yaml", Plant(plant.name.upper(), plant.text, plant.items, plant.shape), "      "
        )
    doc.add("    steps:", "      - uses: actions/checkout@v4", "      - run: make deploy")


def helm_template(doc: Doc, plants: list[Plant]) -> None:
    """A Helm chart template: values come from `{{ .Values.x }}`, never literals."""
    doc.add(
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  name: {{ .Release.Name }}",
        "spec:",
        "  template:",
        "    spec:",
        "      containers:",
        "        - name: app",
        '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"',
        "          env:",
    )
    for plant in plants:
        doc.add(f"            - name: {plant.name.upper()}")
        doc.put(f'              value: "{plant.text}"', plant)


def terraform_state(doc: Doc, rng: random.Random, plants: list[Plant], stack: str) -> None:
    """A `terraform.tfstate`: resources whose attributes hold what Terraform read or
    generated in plain text (database passwords, access keys, endpoints)."""
    doc.add(
        "{",
        '  "version": 4,',
        '  "terraform_version": "1.9.5",',
        f'  "serial": {rng.randrange(10, 400)},',
        f'  "lineage": "{v.uuid_text(rng)}",',
        '  "outputs": {},',
        '  "resources": [',
    )
    for i, plant in enumerate(plants):
        kind = rng.choice(
            ["aws_db_instance", "aws_iam_access_key", "random_password", "aws_ssm_parameter"]
        )
        doc.add(
            "    {",
            '      "mode": "managed",',
            f'      "type": "{kind}",',
            f'      "name": "{stack}_{i}",',
            '      "provider": "provider[\\"registry.terraform.io/hashicorp/aws\\"]",',
            '      "instances": [',
            "        {",
            '          "schema_version": 0,',
            '          "attributes": {',
            f'            "id": "{stack}-{i}",',
        )
        if plant.shape == "assign":  # Terraform's attributes are snake_case
            text, escape = f'            "{plant.name.lower()}": {json.dumps(plant.text)}', "json"
        else:
            text, escape = render("json", plant, "            ")
        doc.put(text.rstrip(","), plant, escape)
        doc.add(
            "          }", "        }", "      ]", "    }" + ("," if i < len(plants) - 1 else "")
        )
    doc.add("  ],", '  "check_results": null', "}")


def npmrc(doc: Doc, token: Plant) -> None:
    """`.npmrc` with a registry auth token, as `npm login` writes it."""
    doc.add("registry=https://registry.npmjs.org/", "@acme:registry=https://npm.pkg.github.com/")
    doc.put(f"//registry.npmjs.org/:_authToken={token.text}", token)
    doc.add("save-exact=true")


def pypirc(doc: Doc, token: Plant) -> None:
    """`.pypirc` for twine, with an API token as the password."""
    doc.add("[distutils]", "index-servers =", "    pypi", "", "[pypi]", "username = __token__")
    doc.put(f"password = {token.text}", token)


def aws_credentials(doc: Doc, key_id: Plant, secret: Plant) -> None:
    """`~/.aws/credentials`, a profile with its key pair."""
    doc.add("[default]", "region = eu-west-1", "", "[deploy]")
    doc.put(f"aws_access_key_id = {key_id.text}", key_id)
    doc.put(f"aws_secret_access_key = {secret.text}", secret)


def git_credentials(doc: Doc, token: Plant) -> None:
    """`.git-credentials`, what git's `store` helper keeps: a URL with the token in it."""
    doc.put(f"https://x-access-token:{token.text}@github.com", token)


def netrc(doc: Doc, token: Plant) -> None:
    doc.add("machine api.github.com login ci-bot password x-oauth-basic")
    doc.put(f"machine gitlab.com login ci-bot password {token.text}", token)
