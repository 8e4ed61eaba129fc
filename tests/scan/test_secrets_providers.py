"""Provider tokens: each found once, in every file format a repository holds it in,
and each provider's near-miss decoys not reported."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from steward.scan.secrets import github_checksum
from tests.scan.secret_factory import ALNUM, BASE64, BECH32, HEX, URLSAFE, Maker, b64, rule_ids

M = Maker()
UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

# rule id, the key a config would store it under, a maker of a fresh value.
PROVIDER_TOKENS: list[tuple[str, str, Callable[[], str]]] = [
    ("aws-access-key-id", "aws_access_key_id", M.aws_key_id),
    ("gcp-api-key", "google_api_key", lambda: "AIza" + M.chars(URLSAFE, 35)),
    ("azure-ad-client-secret", "client_secret", lambda: M.alnum(3) + "8Q~" + M.chars(URLSAFE, 34)),
    ("digitalocean-token", "do_token", lambda: "dop_v1_" + M.hex(64)),
    ("heroku-api-key", "heroku_api_key", lambda: "HRKU-AA" + M.chars(URLSAFE, 58)),
    ("alibaba-access-key-id", "access_key_id", lambda: "LTAI" + M.alnum(20)),
    ("github-token", "github_token", M.github),
    ("github-token", "token", lambda: M.github("ghs_")),
    (
        "github-fine-grained-pat",
        "gh_pat",
        lambda: "github_pat_" + M.alnum(22) + "_" + M.alnum(59),
    ),
    ("gitlab-token", "gitlab_token", lambda: "glpat-" + M.chars(URLSAFE, 20)),
    ("gitlab-token", "deploy_token", lambda: "gldt-" + M.chars(URLSAFE, 20)),
    ("gitlab-token", "runner_token", lambda: "glrt-" + M.chars(URLSAFE, 20)),
    ("gitlab-pipeline-trigger-token", "trigger", lambda: "glptt-" + M.hex(40)),
    ("atlassian-token", "bitbucket_app_password", lambda: "ATBB" + M.alnum(32)),
    ("atlassian-token", "jira_api_token", lambda: "ATATT3xFfGF0" + M.chars(URLSAFE, 180)),
    (
        "slack-token",
        "slack_bot_token",
        lambda: f"xoxb-{M.chars('0123456789', 12)}-{M.chars('0123456789', 13)}-{M.alnum(24)}",
    ),
    (
        "slack-token",
        "slack_user_token",
        lambda: "xoxp-" + "-".join(M.chars("0123456789", 12) for _ in range(3)) + "-" + M.alnum(32),
    ),
    (
        "slack-webhook-url",
        "webhook",
        lambda: (
            f"https://hooks.slack.com/services/T{M.chars(UPPER_ALNUM, 8)}"
            f"/B{M.chars(UPPER_ALNUM, 10)}/{M.alnum(24)}"
        ),
    ),
    (
        "discord-bot-token",
        "discord_token",
        lambda: (
            b64(str(M.random.randint(10**17, 10**18))).rstrip("=")
            + "."
            + M.chars(URLSAFE, 6)
            + "."
            + M.chars(URLSAFE, 38)
        ),
    ),
    (
        "discord-webhook-url",
        "webhook_url",
        lambda: (
            "https://discord.com/api/webhooks/"
            + M.chars("0123456789", 18)
            + "/"
            + M.chars(URLSAFE, 68)
        ),
    ),
    (
        "telegram-bot-token",
        "bot_token",
        lambda: M.chars("0123456789", 10) + ":AA" + M.chars(URLSAFE, 33),
    ),
    (
        "microsoft-teams-webhook",
        "teams_webhook",
        lambda: (
            "https://contoso.webhook.office.com/webhookb2/"
            + f"{M.hex(8)}-{M.hex(4)}-{M.hex(4)}-{M.hex(4)}-{M.hex(12)}@"
            + f"{M.hex(8)}-{M.hex(4)}-{M.hex(4)}-{M.hex(4)}-{M.hex(12)}/IncomingWebhook/"
            + M.hex(32)
        ),
    ),
    ("stripe-secret-key", "stripe_key", lambda: "sk_live_" + M.alnum(24)),
    ("stripe-secret-key", "stripe_restricted", lambda: "rk_live_" + M.alnum(99)),
    ("stripe-webhook-secret", "webhook_secret", lambda: "whsec_" + M.alnum(32)),
    ("square-token", "square_token", lambda: "EAAA" + M.chars(URLSAFE, 60)),
    (
        "braintree-access-token",
        "braintree",
        lambda: (
            f"access_token$production${M.chars('0123456789abcdefghijklmnopqrstuvwxyz', 16)}"
            f"${M.hex(32)}"
        ),
    ),
    ("twilio-api-key", "twilio_api_key", lambda: "SK" + M.hex(32)),
    ("twilio-auth-token", "twilio_auth_token", lambda: M.hex(32)),
    (
        "sendgrid-api-key",
        "sendgrid_api_key",
        lambda: "SG." + M.chars(URLSAFE, 22) + "." + M.chars(URLSAFE, 43),
    ),
    ("mailgun-api-key", "mailgun_key", lambda: "key-" + M.hex(32)),
    ("mailchimp-api-key", "mailchimp_key", lambda: M.hex(32) + "-us14"),
    ("npm-token", "npm_token", lambda: M.github("npm_")),
    (
        "pypi-token",
        "pypi_token",
        lambda: "pypi-AgEIcHlwaS5vcmc" + M.chars(URLSAFE, 140),
    ),
    ("rubygems-api-key", "rubygems_api_key", lambda: "rubygems_" + M.hex(48)),
    (
        "nuget-api-key",
        "nuget_api_key",
        lambda: "oy2" + M.chars("abcdefghijklmnopqrstuvwxyz234567", 43),
    ),
    ("docker-hub-token", "docker_token", lambda: "dckr_pat_" + M.chars(URLSAFE, 27)),
    ("artifactory-token", "artifactory_api_key", lambda: "AKCp" + M.alnum(69)),
    ("crates-io-token", "cargo_token", lambda: "cio" + M.alnum(32)),
    (
        "openai-api-key",
        "openai_api_key",
        lambda: "sk-proj-" + M.chars(URLSAFE, 74) + "T3BlbkFJ" + M.chars(URLSAFE, 74),
    ),
    ("openai-api-key", "openai_key", lambda: "sk-" + M.alnum(20) + "T3BlbkFJ" + M.alnum(20)),
    (
        "anthropic-api-key",
        "anthropic_api_key",
        lambda: "sk-ant-api03-" + M.chars(URLSAFE, 93) + "AA",
    ),
    ("huggingface-token", "hf_token", lambda: "hf_" + M.chars(ALNUM, 34)),
    ("databricks-token", "databricks_token", lambda: "dapi" + M.hex(32)),
    ("dbt-cloud-token", "dbt_cloud_token", lambda: "dbtc_" + M.chars(URLSAFE, 50)),
    ("datadog-key", "datadog_api_key", lambda: M.hex(32)),
    ("datadog-key", "DD_APP_KEY", lambda: M.hex(40)),
    ("new-relic-key", "new_relic_api_key", lambda: "NRAK-" + M.chars(UPPER_ALNUM, 27)),
    ("sentry-token", "sentry_auth_token", lambda: "sntryu_" + M.hex(64)),
    ("sentry-dsn", "sentry_dsn", lambda: f"https://{M.hex(32)}@o12345.ingest.sentry.io/67890"),
    ("vault-token", "vault_token", lambda: "hvs." + M.chars(URLSAFE, 91)),
    ("vault-token", "vault_batch", lambda: "hvb." + M.chars(URLSAFE, 140)),
    (
        "terraform-cloud-token",
        "tfc_token",
        lambda: M.alnum(14) + ".atlasv1." + M.chars(URLSAFE, 67),
    ),
    ("grafana-token", "grafana_token", lambda: "glsa_" + M.alnum(32) + "_" + M.hex(8)),
    ("grafana-token", "grafana_cloud", lambda: "glc_" + M.chars(BASE64, 120)),
    ("shopify-token", "shopify_token", lambda: "shpat_" + M.hex(32)),
    ("linear-api-key", "linear_key", lambda: "lin_api_" + M.alnum(40)),
    ("notion-token", "notion_token", lambda: "ntn_" + M.chars("0123456789", 11) + M.alnum(35)),
    ("okta-api-token", "okta_api_token", lambda: "00" + M.chars(URLSAFE, 40)),
    ("doppler-token", "doppler_token", lambda: "dp.pt." + M.alnum(43)),
    ("pulumi-token", "pulumi_access_token", lambda: "pul-" + M.hex(40)),
    ("age-secret-key", "age_key", lambda: "AGE-SECRET-KEY-1" + M.chars(BECH32, 58).upper()),
    ("confluent-api-secret", "confluent_api_secret", lambda: M.chars(ALNUM + "+/", 64)),
    ("jwt", "id_token", M.jwt),
    (
        "discord-bot-token",
        "DISCORD_TOKEN",
        lambda: "M" + M.alnum(23) + "." + M.alnum(6) + "." + M.alnum(27),
    ),
    (
        "slack-token",
        "slack_legacy",
        lambda: "xoxb-" + M.chars("0123456789", 12) + "-" + M.alnum(24),
    ),
    (
        "telegram-bot-token",
        "tg_bot",
        lambda: M.chars("0123456789", 9) + ":A" + M.chars(URLSAFE, 34),
    ),
    ("sentry-token", "sentry_org_token", lambda: "sntrys_" + M.chars(BASE64, 120)),
    ("google-oauth-secret", "google_client_secret", lambda: "GOCSPX-" + M.chars(URLSAFE, 28)),
    ("google-oauth-secret", "access_token", lambda: "ya29." + M.chars(URLSAFE, 120)),
    (
        "azure-sas-token",
        "sas_url",
        lambda: (
            "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig="
            + M.alnum(40)
            + "%2B"
            + M.alnum(3)
            + "%3D"
        ),
    ),
    ("ai-api-key", "groq_api_key", lambda: "gsk_" + M.alnum(52)),
    ("ai-api-key", "replicate_token", lambda: "r8_" + M.alnum(37)),
    ("ai-api-key", "langsmith_key", lambda: f"lsv2_pt_{M.hex(32)}_{M.hex(10)}"),
    ("data-platform-token", "supabase_token", lambda: "sbp_" + M.hex(40)),
    ("data-platform-token", "prefect_api_key", lambda: "pnu_" + M.alnum(36)),
    ("devops-token", "postman_key", lambda: f"PMAK-{M.hex(24)}-{M.hex(34)}"),
    ("devops-token", "sonar_token", lambda: "squ_" + M.hex(40)),
    ("social-api-token", "twitter_bearer", lambda: "A" * 22 + M.alnum(90)),
    ("social-api-token", "mapbox_token", lambda: "sk.eyJ" + M.alnum(60) + "." + M.alnum(22)),
    (
        "uuid-provider-token",
        "SNYK_TOKEN",
        lambda: f"{M.hex(8)}-{M.hex(4)}-4{M.hex(3)}-a{M.hex(3)}-{M.hex(12)}",
    ),
    ("aws-secret-access-key", "aws_secret_access_key", M.aws_secret),
]

FORMATS = {
    "yaml": ("deploy/values.yaml", "service:\n  {key}: {value}\n  replicas: 2\n"),
    "yaml-quoted": ("deploy/values.yaml", 'service:\n  {key}: "{value}"\n'),
    "json": ("config/app.json", '{{\n  "name": "etl",\n  "{key}": "{value}"\n}}\n'),
    "ini": ("setup.cfg", "[service]\n{key} = {value}\n"),
    "env": ("deploy/app.env", "{KEY}={value}\n"),
    "python": ("src/app/settings.py", 'import os\n\n{KEY} = "{value}"\n'),
    "notebook": (
        "notebooks/explore.ipynb",
        '{{"cells": [{{"source": ["{key} = \\"{value}\\"\\n", "client.connect()"]}}]}}\n',
    ),
    "xml": ("conf/app.xml", '<service name="etl" {key}="{value}" />\n'),
}


def embed(fmt: str, key: str, value: str) -> tuple[str, str]:
    path, template = FORMATS[fmt]
    return path, template.format(key=key, KEY=key.upper(), value=value)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize(
    ("rule_id", "key", "make"), PROVIDER_TOKENS, ids=[f"{r}:{k}" for r, k, _ in PROVIDER_TOKENS]
)
def test_provider_token_found_once_in_every_format(
    rule_id: str, key: str, make: Callable[[], str], fmt: str
) -> None:
    value = make()
    path, text = embed(fmt, key, value)
    assert rule_ids(text, path) == [rule_id], text


@pytest.mark.parametrize(
    ("key", "value"),
    [
        # Checksum-invalid GitHub tokens and placeholders.
        ("github_token", "ghp_" + "A" * 36),
        ("github_token", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        # AWS's documented example pair.
        ("aws_access_key_id", "AKIAIOSFODNN7EXAMPLE"),
        ("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        # Stripe test and publishable keys.
        ("stripe_key", "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"),
        ("stripe_key", "pk_live_" + "51H8mRzKmHq2Vx0Tz9bY3c"),
        ("stripe_key", "pk_test_" + "TYooMQauvdEDq54NiTphI7jx"),
        ("stripe_restricted", "rk_test_" + "51H8mRzKmHq2Vx0Tz9bY3c"),
        # Slack's documented webhook.
        (
            "webhook",
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        ),
        ("slack_token", "xoxb-your-token-here"),
        # Placeholders in provider shapes.
        ("gitlab_token", "glpat-xxxxxxxxxxxxxxxxxxxx"),
        ("openai_api_key", "sk-proj-" + "x" * 60),
        ("hf_token", "hf_" + "x" * 34),
        ("databricks_token", "dapi" + "0" * 32),
        ("npm_token", "npm_" + "0" * 36),
        ("npm_token", "npm_" + "R4nd0mB0dyOfThirtyCharsXyZ0123" + "Q1w2E3"),  # bad checksum
        ("anthropic_api_key", "sk-ant-api03-your-key-here"),
        # Square's public application id, PayPal sandbox token.
        ("square_app_id", "sq0idp-" + "wGVapF8sNt9PLrdj5znuKA"),
        ("braintree", "access_token$sandbox$" + "3g3w8k5ty2x9zz3d$" + "0" * 32),
        # Mapbox public tokens; UUIDs under keys of providers whose keys are not UUIDs.
        ("mapbox_token", "pk.eyJ" + "1IjoiZXhhbXBsZSJ9" + ".Q9x7" + "Zk2" * 6),
        ("openai_api_key", "6f1c2e9a-1b3c-4d5e-8f9a-0b1c2d3e4f5a"),
    ],
)
def test_provider_decoys_are_not_reported(key: str, value: str) -> None:
    for fmt in ("yaml", "json", "python", "env"):
        path, text = embed(fmt, key, value)
        assert rule_ids(text, path) == [], text


def test_jwt_io_sample_and_undecodable_jwt_are_decoys() -> None:
    sample = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4g"
        "RG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    )
    assert rule_ids(f"token: {sample}") == []
    assert rule_ids(f"Authorization: Bearer {sample}") == []
    assert rule_ids("id_token: eyJnotbase64json!.eyJzdWIi.QQQQQQQQQQQQQQQQQQQQ") == []


def test_npm_token_checksum_is_githubs_scheme() -> None:
    """npm's published sample token (secretlint#200) checks out with GitHub's scheme."""
    body = "qkJaB6MffYVzZXWqmcoF49yrUxP3wf"
    assert github_checksum(body) == "0LsakP"


def test_twilio_auth_token_beside_its_account_sid_found() -> None:
    sid, token = "AC" + M.hex(32), M.hex(32)
    assert rule_ids(f'client = Client("{sid}", "{token}")', "src/sms.py") == [
        "twilio-credentials-pair"
    ]
    assert rule_ids(f'client = Client("{sid}", os.environ["TWILIO_TOKEN"])', "src/sms.py") == []


def test_discord_token_whose_first_part_is_not_an_id_is_a_decoy() -> None:
    not_an_id = b64("not-a-number-at-all").rstrip("=") + ".Cl2FMQ." + "Z" * 27
    assert rule_ids(f"value: {not_an_id}") == []


def test_hex_values_next_to_hash_words_are_not_provider_keys() -> None:
    digest = HEX[:16] * 2
    assert rule_ids(f"datadog_api_key_sha256: {digest}") == []
    assert rule_ids(f"twilio_auth_token_md5 = {digest}") == []


def test_every_secret_rule_is_picklable_compiles_and_has_keywords() -> None:
    """The engine runs rules in worker processes (pickled) and prefilters by keyword."""
    import pickle

    from steward.scan.engine import compile_rules
    from steward.scan.secrets import SECRET_RULES

    assert pickle.loads(pickle.dumps(SECRET_RULES)) == SECRET_RULES
    assert len(compile_rules(SECRET_RULES)) == len(SECRET_RULES)
    assert all(rule.keywords and rule.kind == "secret" for rule in SECRET_RULES)
    assert len({rule.id for rule in SECRET_RULES}) == len(SECRET_RULES)
