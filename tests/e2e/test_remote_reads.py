"""The catalog, policy, quality and audit reads with `--url`/`--token` answer from a live
server what the same commands read from its store locally."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from steward.app import Steward
from steward.config import Settings
from tests.e2e.conftest import STEWARD, Server
from tests.quality.conftest import checks_text, make_shop

POLICY = """\
roles:
  analyst: {groups: [analysts]}
grants:
  - roles: [analyst]
    select: ["lake.shop.*"]
masks:
  - columns: ["lake.shop.customers.name"]
    mask: redact
"""


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STEWARD, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow  # about twenty `steward` processes and a live server
@pytest.mark.timeout(600)
def test_reads_against_a_server_match_the_local_store(server: Server, tmp_path: Path) -> None:
    home = Path(server.env["STEWARD_HOME"])
    steward = Steward(Settings(home=home, database_url=server.env.get("STEWARD_DATABASE_URL")))
    make_shop(steward)
    steward.close()
    checks = tmp_path / "checks.yaml"
    checks.write_text(checks_text("lake.shop.orders", "lake.shop.customers"), encoding="utf-8")
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    for setup in (
        ("catalog", "sync", "lake"),
        ("quality", "run", str(checks)),
        ("policy", "apply", str(tmp_path / "policy.yaml")),
    ):
        done = _cli(server.env, *setup)
        assert done.returncode in (0, 1), done.stderr  # `quality run` exits 1: planted defects

    # The remote side has no local store at all: every answer must come from the server.
    elsewhere = {**server.env, "STEWARD_HOME": str(tmp_path / "no-store-here")}
    elsewhere.pop("STEWARD_DATABASE_URL", None)
    reads = [
        ("catalog", "show", "lake.shop.orders", "--json"),
        ("search", "orders", "--json"),
        ("policy", "explain", "lake.shop.customers", "--user", "ana", "--groups", "analysts"),
        ("audit", "log", "--action", "policy.*", "--format", "json"),
        ("audit", "verify", "--json"),
    ]
    for read in reads:
        local = _cli(server.env, *read)
        remote = _cli(elsewhere, *read, "--url", server.url, "--token", server.token)
        assert local.returncode == 0, (read, local.stderr)
        assert remote.returncode == 0, (read, remote.stderr)
        if read[:2] == ("audit", "verify"):
            # The server signs checkpoints in the background, so one may come between the
            # two walks: the chain itself must read the same.
            mine, theirs = json.loads(local.stdout), json.loads(remote.stdout)
            for moving in ("checkpoints", "message"):
                mine.pop(moving), theirs.pop(moving)
            assert theirs == mine, read
        else:
            assert remote.stdout == local.stdout, read
        assert "store:" not in remote.stderr  # no store was opened for a remote read

    page = json.loads(_cli(server.env, "catalog", "show", "lake.shop.orders", "--json").stdout)
    statuses = {q["check"]: q["status"] for q in page["quality"]}
    assert statuses["not_null(order_id)"] == "fail"
    assert statuses["row_count"] == "pass"
    shown = _cli(elsewhere, "catalog", "show", "lake.shop.orders", "--url", server.url,
                 "--token", server.token)  # fmt: skip
    quality = shown.stdout.split("quality (latest results)")[1]
    assert "fail" in quality  # the table is narrow off a terminal: names may wrap
    assert "pass" in quality

    refused = _cli(elsewhere, "audit", "log", "--url", server.url, "--token", "stw_nope_nope")
    assert refused.returncode == 5
    assert "401" in refused.stderr
    assert "Traceback" not in refused.stderr
