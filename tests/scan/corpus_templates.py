"""The files of the corpus monorepo: one writer per kind of file, each laying out what
such a file ordinarily holds and putting the plants it is given among those lines."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

from tests.scan.corpus_files import Doc, fill, place, render
from tests.scan.corpus_fill import (
    COMPOSE_FILL,
    ENV_FILL,
    GO_FILL,
    INI_FILL,
    JAVA_FILL,
    JS_FILL,
    LOG_FILL,
    MD_FILL,
    PROPERTIES_FILL,
    PY_FILL,
    SCALA_FILL,
    SH_FILL,
    SQL_FILL,
    TF_FILL,
    XML_FILL,
    YAML_FILL,
)
from tests.scan.corpus_model import Plant

Writer = Callable[[Doc, random.Random, list[Plant], str], None]

PROSE = {
    "internal-host": "- The {what} is `{text}`; it is reachable from the VPN only.",
    "private-ip": "- {what}: `{text}` (inside the VPC, see the network diagram).",
    "pii": "- {what}: {text}",
}


def stamp(rng: random.Random) -> str:
    day = f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    return f"{day}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"


def _among(
    doc: Doc, rng: random.Random, plants: list[Plant], fmt: str, pool: list[str], indent: str = ""
) -> None:
    for plant in plants:
        fill(doc, rng, pool)
        place(doc, fmt, plant, indent)
    fill(doc, rng, pool)


def write_yaml(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        f"# {service} service configuration",
        "service:",
        f"  name: {service}",
        "  port: 8080",
        "settings:",
    )
    _among(doc, rng, plants, "yaml", YAML_FILL, "  ")


def write_env(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(f"# {service}: environment for the staging stack", f"SERVICE_NAME={service}")
    _among(doc, rng, plants, "env", ENV_FILL)


def write_py(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        f'"""Settings for the {service} service."""',
        "",
        "import os",
        "import requests",
        "",
        "session = requests.Session()",
        "",
    )
    _among(doc, rng, plants, "py", PY_FILL)


def write_ts(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        f"// {service} runtime configuration", "export const config = {", f'  service: "{service}",'
    )
    _among(doc, rng, plants, "ts", JS_FILL, "  ")
    doc.add("};", "", "export default config;")


def write_js(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add("'use strict';", "", "module.exports = {", f'  service: "{service}",')
    _among(doc, rng, plants, "js", JS_FILL, "  ")
    doc.add("};")


def write_java(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    cls = service.title().replace("-", "")
    doc.add(
        f"package io.acme.{service.replace('-', '')};",
        "",
        "import java.net.HttpURLConnection;",
        "import java.time.Duration;",
        "",
        f"public final class {cls}Config {{",
    )
    headers = [p for p in plants if p.shape == "header"]
    _among(doc, rng, [p for p in plants if p.shape != "header"], "java", JAVA_FILL)
    if headers:
        doc.add("", "    static void authorize(HttpURLConnection conn) {")
        for plant in headers:
            place(doc, "java", plant)
        doc.add("    }")
    doc.add("}")


def write_go(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(f"package {service.replace('-', '')}", "", 'import "net/http"', "", "const (")
    headers = [p for p in plants if p.shape == "header"]
    _among(doc, rng, [p for p in plants if p.shape != "header"], "go", GO_FILL)
    doc.add(")")
    if headers:
        doc.add("", "func authorize(req *http.Request) {")
        for plant in headers:
            place(doc, "go", plant)
        doc.add("}")


def write_scala(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(f"package io.acme.{service.replace('-', '')}", "", "object JobConfig {")
    _among(doc, rng, plants, "scala", SCALA_FILL)
    doc.add("}")


def write_sh(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        "#!/usr/bin/env bash",
        f"# Deploy {service} to the staging cluster.",
        "set -euo pipefail",
        f'SERVICE="{service}"',
    )
    _among(doc, rng, plants, "sh", SH_FILL)
    doc.add(f'helm upgrade --install "$SERVICE" "./charts/{service}"')


def write_ini(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(f"; {service} settings", "[app]", f"name = {service}")
    _among(doc, rng, plants[: len(plants) // 2], "ini", INI_FILL)
    doc.add("", "[integrations]")
    _among(doc, rng, plants[len(plants) // 2 :], "ini", INI_FILL)


def write_properties(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    note = (
        "Paramètres de l'application, modifiés par l'équipe données"
        if doc.encoding != "utf-8"
        else "application settings"
    )
    doc.add(f"# {service}: {note}", f"spring.application.name={service}")
    _among(doc, rng, plants, "properties", PROPERTIES_FILL)


def write_tf(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        "terraform {",
        '  required_version = ">= 1.6"',
        "}",
        "",
        f'module "{service}" {{',
        '  source = "../modules/service"',
        f'  name   = "{service}"',
    )
    _among(doc, rng, plants, "tf", TF_FILL, "  ")
    doc.add("}")


def write_xml(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        '<?xml version="1.0" encoding="utf-8"?>',
        "<configuration>",
        "  <appSettings>",
        f'    <add key="ServiceName" value="{service}" />',
    )
    _among(doc, rng, plants, "xml", XML_FILL, "    ")
    doc.add("  </appSettings>", "</configuration>")


def write_json(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        "{",
        f'  "service": "{service}",',
        '  "logging": { "level": "Information" },',
        '  "settings": {',
    )
    _among(
        doc,
        rng,
        plants,
        "json",
        ['    "retries": 3,', '    "timeoutSeconds": 30,', '    "region": "eu-west-1",'],
        "    ",
    )
    doc.add('    "pageSize": 50', "  }", "}")


def write_md(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        f"# {service}",
        "",
        f"The {service} service. Owned by the platform team.",
        "",
        "## Configuration",
        "",
        "| variable | value |",
        "|---|---|",
    )
    rows = [p for p in plants if p.shape != "header" and p.items[0].kind == "secret"]
    for plant in rows:
        place(doc, "md", plant)
    doc.add("")
    fill(doc, rng, MD_FILL)
    prose = [p for p in plants if p.shape != "header" and p.items[0].kind != "secret"]
    if prose:
        doc.add("", "## Where things are", "")
    for plant in prose:
        what = plant.name.lower().replace("_", " ")
        doc.put(PROSE[plant.items[0].kind].format(what=what, text=plant.text), plant)
    for plant in plants:
        if plant.shape == "header":
            doc.add("", "Check it answers:", "", "```sh")
            place(doc, "md", plant)
            doc.add("```")
    doc.add("", "## Runbook", "", "Restart with `kubectl rollout restart deploy/" + service + "`.")


def write_log(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    for plant in plants:
        for _ in range(rng.randint(2, 5)):
            doc.add(f"{stamp(rng)} {rng.choice(LOG_FILL)}")
        text, escape = render("log", plant)
        doc.put(f"{stamp(rng)} DEBUG [{service}] {text}", plant, escape)
    doc.add(f"{stamp(rng)} INFO  shutdown complete")


def write_sql(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(f"-- {service}: settings seeded into staging", "BEGIN;")
    _among(doc, rng, plants, "sql", SQL_FILL)
    doc.add("COMMIT;")


def write_dockerfile(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        "FROM python:3.12-slim",
        f'LABEL org.opencontainers.image.title="{service}"',
        "WORKDIR /app",
        "COPY requirements.txt .",
        "RUN pip install --no-cache-dir -r requirements.txt",
    )
    for plant in plants:
        place(doc, "dockerfile", plant)
    doc.add(
        "COPY . /app",
        "RUN useradd -m app",
        "USER app",
        "EXPOSE 8080",
        'CMD ["python", "-m", "app"]',
    )


def write_compose(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        "services:",
        f"  {service}:",
        f"    image: ghcr.io/acme/{service}:latest",
        "    ports:",
        '      - "8080:8080"',
        "    environment:",
    )
    _among(doc, rng, plants, "compose", COMPOSE_FILL, "      ")
    doc.add(
        "  db:",
        "    image: postgres:16",
        "    volumes:",
        "      - pgdata:/var/lib/postgresql/data",
        "volumes:",
        "  pgdata: {}",
    )


def write_http(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    for plant in plants:
        doc.add(
            f"### {service}: list reports",
            "GET https://api.acme.io/v1/reports?limit=10",
            "Accept: application/json",
        )
        place(doc, "http", plant)
        doc.add("")


def write_notebook(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    """A Jupyter notebook written line by line as nbformat 4 indents it: each cell's source
    lines are JSON strings, so code in them is JSON-escaped; personal data shows up in a
    printed data frame's output, and some tokens in the output of a `!env` cell."""
    code = [p for p in plants if p.items[0].kind != "pii"]
    printed = [p for p in code[::3] if p.shape == "assign" and p.items[0].kind == "secret"]
    code = [p for p in code if all(p is not q for q in printed)]  # equal decoys may repeat
    shown = [p for p in plants if p.items[0].kind == "pii"]
    doc.add(
        "{",
        ' "cells": [',
        "  {",
        '   "cell_type": "markdown",',
        '   "metadata": {},',
        '   "source": [',
        f'    "# {service}: exploration\\n",',
        '    "Pulls last week\'s data and plots it."',
        "   ]",
        "  },",
    )
    doc.add(
        "  {",
        '   "cell_type": "code",',
        '   "execution_count": 1,',
        '   "metadata": {},',
        '   "outputs": [',
        "    {",
        '     "name": "stdout",',
        '     "output_type": "stream",',
        '     "text": [',
    )
    for i, plant in enumerate(shown):
        row = f"{i:>3}  {plant.text:<34} {rng.choice(['premium', 'basic', 'trial'])}\n"
        doc.put(f"      {json.dumps(row)},", plant, "json")
    doc.add(
        '      "rows: ' + str(len(shown)) + '\\n"',
        "     ]",
        "    }",
        "   ],",
        '   "source": [',
        '    "import os\\n",',
        '    "import pandas as pd\\n",',
    )
    for plant in code:
        if plant.shape == "header":
            line = json.dumps(f'HEADERS = {{"Authorization": {json.dumps(plant.text)}}}\n')
        else:
            line = json.dumps(f"{plant.name} = {json.dumps(plant.text)}\n")
        doc.put(f"    {line},", plant, "json2")
    doc.add(
        '    "df = pd.read_parquet(\\"s3://acme-analytics/weekly/\\")\\n",',
        '    "df.head()"',
        "   ]",
        "  },",
        "  {",
        '   "cell_type": "code",',
        '   "execution_count": 2,',
        '   "metadata": {},',
        '   "outputs": [',
        "    {",
        '     "name": "stdout",',
        '     "output_type": "stream",',
        '     "text": [',
    )
    for plant in printed:
        doc.put(f"      {json.dumps(f'{plant.name}={plant.text}' + chr(10))},", plant, "json")
    doc.add(
        '      "PYTHONUNBUFFERED=1\\n"',
        "     ]",
        "    }",
        "   ],",
        '   "source": [',
        "    \"!env | grep -iE 'token|key|secret|url'\"",
        "   ]",
        "  }",
        " ],",
        ' "metadata": {',
        '  "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}',
        " },",
        ' "nbformat": 4,',
        ' "nbformat_minor": 5',
        "}",
    )


def write_csv(doc: Doc, rng: random.Random, plants: list[Plant], column: str) -> None:
    """A fixture table, one row per plant, its value in the table's `column`."""
    doc.add(f"id,{column},plan,country,created_at")
    for i, plant in enumerate(plants, 1):
        created = f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        plan, country = rng.choice(["basic", "premium"]), rng.choice(["US", "GB", "DE", "ES", "FR"])
        doc.put(f'{1000 + i},"{plant.text}",{plan},{country},{created}', plant)
        if rng.random() < 0.3:
            doc.add(f"{5000 + i},,basic,{country},{created}")


def write_deployment(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    """A Deployment whose container env holds values pasted in, beside a secretKeyRef."""
    doc.add(
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        f"  name: {service}",
        "spec:",
        "  replicas: 2",
        "  template:",
        "    spec:",
        "      containers:",
        f"        - name: {service}",
        f"          image: ghcr.io/acme/{service}:1.4.2",
        "          env:",
    )
    for plant in plants:
        doc.add(f"            - name: {plant.name.upper()}")
        doc.put(f"              value: {json.dumps(plant.text)}", plant, "json")
    doc.add(
        "            - name: DB_PASSWORD",
        "              valueFrom:",
        "                secretKeyRef:",
        f"                  name: {service}-credentials",
        "                  key: password",
    )


def write_configmap(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add("apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {service}-config", "data:")
    _among(doc, rng, plants, "compose", ['  LOG_LEVEL: "info"', '  WORKERS: "4"'], "  ")


def write_helm_values(doc: Doc, rng: random.Random, plants: list[Plant], service: str) -> None:
    doc.add(
        f"# Default values for {service}.",
        "replicaCount: 2",
        "image:",
        f"  repository: ghcr.io/acme/{service}",
        '  tag: "1.4.2"',
        "config:",
    )
    _among(doc, rng, plants, "yaml", YAML_FILL, "  ")


def write_pem(doc: Doc, plant: Plant) -> None:
    """A key or certificate file on its own (`server.pem`, `id_ed25519`)."""
    doc.put(plant.text, plant)


WRITERS: dict[str, tuple[str, Writer]] = {
    "yaml": ("config/application.yaml", write_yaml),
    "env": (".env", write_env),
    "py": ("app/settings.py", write_py),
    "ts": ("src/config.ts", write_ts),
    "js": ("config/index.js", write_js),
    "java": ("src/main/java/Config.java", write_java),
    "go": ("internal/config/config.go", write_go),
    "scala": ("src/main/scala/JobConfig.scala", write_scala),
    "sh": ("scripts/deploy.sh", write_sh),
    "ini": ("config/app.ini", write_ini),
    "properties": ("src/main/resources/application.properties", write_properties),
    "tf": ("terraform/main.tf", write_tf),
    "xml": ("Web.config", write_xml),
    "json": ("appsettings.json", write_json),
    "md": ("README.md", write_md),
    "log": ("logs/app.log", write_log),
    "sql": ("db/seed.sql", write_sql),
    "dockerfile": ("Dockerfile", write_dockerfile),
    "compose": ("docker-compose.yml", write_compose),
    "http": ("requests.http", write_http),
    "ipynb": ("notebooks/exploration.ipynb", write_notebook),
    "deployment": ("deployment.yaml", write_deployment),
    "configmap": ("configmap.yaml", write_configmap),
    "helm": ("values.yaml", write_helm_values),
}
# The syntax a file kind writes plants in (for `fits`).
SYNTAX = {"deployment": "json", "configmap": "compose", "helm": "yaml"}
