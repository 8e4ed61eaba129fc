"""Provider rules for AI, observability, SaaS and data-platform services' tokens."""

from __future__ import annotations

from steward.scan.secrets_format import END, keyed, secret_rule

SAAS_RULES = (
    secret_rule(
        "openai-api-key",
        "OpenAI API key (project, service account, admin or legacy)",
        r"\b(sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}"
        r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))" + END,
        ("sk-proj-", "sk-svcacct-", "sk-admin-", "t3blbkfj"),
    ),
    secret_rule(
        "anthropic-api-key",
        "Anthropic API or admin key",
        rf"\b(sk-ant-(?:api|admin|oat)[0-9]{{2}}-[A-Za-z0-9_-]{{32,}}){END}",
        ("sk-ant-",),
    ),
    secret_rule(
        "huggingface-token",
        "Hugging Face access or organisation token",
        rf"\b((?:hf|api_org)_[A-Za-z0-9]{{30,40}}){END}",
        ("hf_", "api_org_"),
    ),
    secret_rule(
        "databricks-token",
        "Databricks personal access token",
        rf"\b(dapi[a-f0-9]{{32}}(?:-[0-9])?){END}",
        ("dapi",),
    ),
    secret_rule(
        "dbt-cloud-token",
        "dbt Cloud service or personal token",
        rf"\b(dbt[cu]_[A-Za-z0-9_-]{{30,80}}){END}",
        ("dbtc_", "dbtu_"),
    ),
    keyed(
        "datadog-key",
        "Datadog API or application key",
        r"(?:datadog|\bdd)[\w.-]{0,20}(?:api|app|application)[_.-]?key",
        r"[a-f0-9]{40}|[a-f0-9]{32}",
        ("datadog", "dd_", "dd-", "dd."),
    ),
    secret_rule(
        "new-relic-key",
        "New Relic user API, insert or license key",
        rf"\b(NRAK-[A-Z0-9]{{27}}|NRII-[A-Za-z0-9_-]{{32}}|[a-f0-9]{{36}}NRAL){END}",
        ("nrak-", "nrii-", "nral"),
    ),
    secret_rule(
        "sentry-token",
        "Sentry organisation or user auth token",
        rf"\b(sntrys_[A-Za-z0-9+/=_]{{40,}}|sntryu_[a-f0-9]{{64}}){END}",
        ("sntrys_", "sntryu_"),
    ),
    secret_rule(
        "sentry-dsn",
        "Sentry DSN (project key in a URL)",
        r"https?://([a-f0-9]{32})(?::[a-f0-9]{32})?@[A-Za-z0-9.-]*(?:sentry\.io|ingest\.[\w.-]+)/[0-9]+",
        ("sentry", "ingest"),
    ),
    secret_rule(
        "vault-token",
        "HashiCorp Vault service, batch or recovery token",
        rf"\b(hv[sbr]\.[A-Za-z0-9_-]{{24,}}){END}",
        ("hvs.", "hvb.", "hvr."),
    ),
    secret_rule(
        "terraform-cloud-token",
        "Terraform Cloud / Enterprise API token",
        rf"\b([A-Za-z0-9]{{14}}\.atlasv1\.[A-Za-z0-9_=-]{{60,70}}){END}",
        ("atlasv1",),
    ),
    secret_rule(
        "grafana-token",
        "Grafana service account, cloud or legacy API token",
        r"\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2}"
        r"|eyJrIjoi[A-Za-z0-9+/]{50,}={0,2})" + r"(?:[^A-Za-z0-9+/=_-]|$)",
        ("glsa_", "glc_", "eyjrijoi"),
    ),
    secret_rule(
        "shopify-token",
        "Shopify access token, custom or private app token, or shared secret",
        r"\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b",
        ("shpat_", "shpca_", "shppa_", "shpss_"),
    ),
    secret_rule(
        "linear-api-key",
        "Linear API key or OAuth token",
        rf"\b(lin_(?:api|oauth)_[A-Za-z0-9]{{40}}){END}",
        ("lin_api_", "lin_oauth_"),
    ),
    secret_rule(
        "notion-token",
        "Notion integration token",
        rf"\b(ntn_[0-9]{{11}}[A-Za-z0-9]{{35}}|secret_[A-Za-z0-9]{{43}}){END}",
        ("ntn_", "secret_"),
    ),
    keyed(
        "okta-api-token",
        "Okta API token",
        r"okta[\w.-]{0,20}(?:token|key|secret)",
        r"00[A-Za-z0-9_=-]{40}",
        ("okta",),
    ),
    secret_rule(
        "doppler-token",
        "Doppler personal, service, service-account, CLI, SCIM or audit token",
        rf"\b(dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9_.-]{{40,60}}){END}",
        ("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."),
    ),
    secret_rule("pulumi-token", "Pulumi access token", rf"\b(pul-[a-f0-9]{{40}}){END}", ("pul-",)),
    secret_rule(
        "1password-token",
        "1Password secret key or service account token",
        r"\b(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}"
        r"-[A-Z0-9]{5}|ops_eyJ[A-Za-z0-9+/]{250,}={0,3})",
        ("a3-", "ops_eyj"),
    ),
    secret_rule(
        "age-secret-key",
        "age encryption secret key",
        r"(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})",
        ("age-secret-key-1",),
    ),
    keyed(
        "confluent-api-secret",
        "Confluent Cloud API secret",
        r"(?:confluent|ccloud|kafka)[\w.-]{0,20}(?:api[_.-]?)?secret",
        r"[A-Za-z0-9+/]{64}",
        ("confluent", "ccloud", "kafka"),
    ),
    secret_rule(
        "ai-api-key",
        "Groq, Replicate, Perplexity, Pinecone or LangSmith API key",
        r"\b(gsk_[A-Za-z0-9]{52}|r8_[A-Za-z0-9]{37}|pplx-[A-Za-z0-9]{48}|pcsk_[A-Za-z0-9_]{40,}"
        r"|lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})" + END,
        ("gsk_", "r8_", "pplx-", "pcsk_", "lsv2_"),
    ),
    secret_rule(
        "data-platform-token",
        "Supabase, PlanetScale, Prefect, Airtable or Dynatrace token",
        r"\b(sbp_[a-f0-9]{40}|pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}|pnu_[A-Za-z0-9]{36}"
        r"|pat[A-Za-z0-9]{14}\.[a-f0-9]{64}|dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})" + END,
        ("sbp_", "pscale_", "pnu_", "pat", "dt0c01."),
    ),
    secret_rule(
        "devops-token",
        "Postman, Fly.io, SonarQube, CircleCI or Brevo (Sendinblue) token",
        r"\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34}|fo1_[A-Za-z0-9_-]{43}|sq[upa]_[a-f0-9]{40}"
        r"|CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}|xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})" + END,
        ("pmak-", "fo1_", "squ_", "sqp_", "sqa_", "ccipat_", "xkeysib-"),
    ),
    secret_rule(
        "social-api-token",
        "X (Twitter) app bearer token, Facebook access token, Mapbox secret token",
        r"\b(A{22}[A-Za-z0-9%]{80,}|EAA[BCDGIJ-Z][A-Za-z0-9]{80,}"
        r"|sk\.eyJ[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{20,})" + END,
        ("aaaaaaaaaaaaaaaaaaaaaa", "eaa", "sk.eyj"),
    ),
    keyed(
        "uuid-provider-token",
        "API token of a provider whose tokens are UUIDs (Snyk, Consul, Nomad)",
        r"(?:snyk|consul|nomad)[\w.-]{0,20}(?:token|key)",
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        ("snyk", "consul", "nomad"),
    ),
)
