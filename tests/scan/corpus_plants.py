"""The positives the corpus plants: 78 types of secret (five of each, four of six),
internal hosts, private addresses and personal data, each as a `Plant` with the
variable name a real file would give it."""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.scan import corpus_keys as keys
from tests.scan import corpus_people as people
from tests.scan import corpus_values as v
from tests.scan.corpus_decoys import Decoys
from tests.scan.corpus_model import Item, Plant

SECRET_NAMES: dict[str, tuple[str, ...]] = {
    "aws-access-key-id": ("AWS_ACCESS_KEY_ID", "S3_ACCESS_KEY", "AWS_KEY_ID"),
    "aws-secret-access-key": ("AWS_SECRET_ACCESS_KEY", "S3_SECRET_KEY", "AWS_SECRET"),
    "aws-temporary-access-key-id": ("AWS_ACCESS_KEY_ID", "STS_ACCESS_KEY_ID"),
    "gcp-api-key": ("GOOGLE_API_KEY", "MAPS_API_KEY", "FIREBASE_API_KEY"),
    "azure-ad-client-secret": ("AZURE_CLIENT_SECRET", "AAD_CLIENT_SECRET"),
    "digitalocean-token": ("DIGITALOCEAN_TOKEN", "DO_API_TOKEN"),
    "github-pat": ("GITHUB_TOKEN", "GH_TOKEN", "RELEASE_TOKEN"),
    "github-oauth-token": ("GITHUB_OAUTH_TOKEN", "GH_OAUTH"),
    "github-app-token": ("GITHUB_APP_TOKEN", "INSTALLATION_TOKEN"),
    "github-fine-grained-pat": ("GITHUB_PAT", "GH_PAT"),
    "gitlab-pat": ("GITLAB_TOKEN", "GL_TOKEN", "CI_PUSH_TOKEN"),
    "gitlab-runner-token": ("RUNNER_TOKEN", "GITLAB_RUNNER_TOKEN"),
    "slack-bot-token": ("SLACK_BOT_TOKEN", "SLACK_TOKEN"),
    "slack-user-token": ("SLACK_USER_TOKEN", "SLACK_LEGACY_TOKEN"),
    "slack-app-token": ("SLACK_APP_TOKEN", "SOCKET_MODE_TOKEN"),
    "slack-webhook-url": ("SLACK_WEBHOOK_URL", "ALERTS_WEBHOOK", "SLACK_HOOK"),
    "discord-bot-token": ("DISCORD_BOT_TOKEN", "DISCORD_TOKEN"),
    "discord-webhook-url": ("DISCORD_WEBHOOK_URL", "DISCORD_HOOK"),
    "telegram-bot-token": ("TELEGRAM_BOT_TOKEN", "TG_TOKEN"),
    "stripe-secret-key": ("STRIPE_SECRET_KEY", "STRIPE_API_KEY"),
    "stripe-restricted-key": ("STRIPE_RESTRICTED_KEY", "STRIPE_READ_KEY"),
    "stripe-webhook-secret": ("STRIPE_WEBHOOK_SECRET", "STRIPE_SIGNING_SECRET"),
    "square-access-token": ("SQUARE_ACCESS_TOKEN", "SQUARE_TOKEN"),
    "square-oauth-secret": ("SQUARE_OAUTH_SECRET", "SQUARE_APP_SECRET"),
    "paypal-braintree-access-token": ("BRAINTREE_ACCESS_TOKEN", "PAYPAL_ACCESS_TOKEN"),
    "npm-token": ("NPM_TOKEN", "NODE_AUTH_TOKEN"),
    "pypi-token": ("PYPI_TOKEN", "TWINE_PASSWORD"),
    "dockerhub-pat": ("DOCKERHUB_TOKEN", "DOCKER_PASSWORD"),
    "openai-api-key": ("OPENAI_API_KEY", "OPENAI_KEY"),
    "anthropic-api-key": ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY"),
    "huggingface-token": ("HF_TOKEN", "HUGGINGFACE_TOKEN"),
    "databricks-token": ("DATABRICKS_TOKEN", "DATABRICKS_PAT"),
    "datadog-api-key": ("DD_API_KEY", "DATADOG_API_KEY"),
    "datadog-app-key": ("DD_APP_KEY", "DATADOG_APP_KEY"),
    "sentry-auth-token": ("SENTRY_AUTH_TOKEN", "SENTRY_TOKEN"),
    "vault-token": ("VAULT_TOKEN", "VAULT_ROOT_TOKEN"),
    "grafana-service-account-token": ("GRAFANA_TOKEN", "GRAFANA_SA_TOKEN"),
    "grafana-cloud-token": ("GRAFANA_CLOUD_TOKEN", "GRAFANA_CLOUD_API_KEY"),
    "shopify-access-token": ("SHOPIFY_ACCESS_TOKEN", "SHOPIFY_ADMIN_TOKEN"),
    "shopify-shared-secret": ("SHOPIFY_SHARED_SECRET", "SHOPIFY_API_SECRET"),
    "sendgrid-api-key": ("SENDGRID_API_KEY", "MAIL_API_KEY"),
    "twilio-api-key": ("TWILIO_API_KEY", "TWILIO_KEY_SID"),
    "twilio-auth-token": ("TWILIO_AUTH_TOKEN", "TWILIO_TOKEN"),
    "mailgun-api-key": ("MAILGUN_API_KEY", "MAILGUN_KEY"),
    "atlassian-api-token": ("JIRA_API_TOKEN", "CONFLUENCE_TOKEN", "ATLASSIAN_TOKEN"),
    "pulumi-token": ("PULUMI_ACCESS_TOKEN",),
    "linear-api-key": ("LINEAR_API_KEY", "LINEAR_TOKEN"),
    "terraform-cloud-token": ("TFC_TOKEN", "TF_API_TOKEN"),
    "age-secret-key": ("SOPS_AGE_KEY", "AGE_KEY"),
    "django-secret-key": ("SECRET_KEY", "DJANGO_SECRET_KEY"),
    "flask-secret-key": ("SECRET_KEY", "FLASK_SECRET_KEY"),
    "rails-secret-key-base": ("SECRET_KEY_BASE", "RAILS_SECRET_KEY_BASE"),
    "laravel-app-key": ("APP_KEY",),
    "generic-api-key": (
        "API_KEY",
        "PARTNER_API_KEY",
        "GEOCODER_API_KEY",
        "CLIENT_SECRET",
        "ACCESS_TOKEN",
    ),
    "password-assignment": (
        "DB_PASSWORD",
        "ADMIN_PASSWORD",
        "SMTP_PASSWORD",
        "LDAP_BIND_PASSWORD",
        "KEYSTORE_PASSWORD",
    ),
    "jwt": ("SERVICE_JWT", "API_TOKEN", "AUTH_TOKEN"),
    "azure-storage-account-key": ("AZURE_STORAGE_CONNECTION_STRING",),
}

# Types the general plan places in any file; the others have templates of their own.
PEM_TYPES: dict[str, Callable[[random.Random], str]] = {
    "rsa-private-key": keys.rsa_pem,
    "ec-private-key": keys.ec_pem,
    "pkcs8-private-key": keys.pkcs8_pem,
    "openssh-private-key": keys.openssh_pem,
    "pgp-private-key": keys.pgp_pem,
}
URL_TYPES = (
    "postgres-url",
    "mysql-url",
    "redis-url",
    "amqp-url",
    "mongodb-url",
    "smtp-url",
    "jdbc-password",
    "odbc-password",
)
HEADER_TYPES = ("authorization-bearer", "authorization-basic")
# Types only special templates hold (k8s Secret, docker config.json, kubeconfig, GCP SA JSON, XML).
TEMPLATE_TYPES = (
    "kubernetes-secret-data",
    "docker-config-auth",
    "kubeconfig-client-key-data",
    "kubeconfig-token",
    "gcp-service-account-key",
    "xml-password",
)
FOUR_OF = {
    "gcp-service-account-key",
    "kubeconfig-client-key-data",
    "kubeconfig-token",
    "docker-config-auth",
    "pgp-private-key",
    "age-secret-key",
}


def secret_types() -> list[str]:
    """The 78 secret types the corpus plants."""
    return [*v.SECRET_VALUES, "jwt", *PEM_TYPES, *URL_TYPES, *HEADER_TYPES, *TEMPLATE_TYPES]


def how_many(secret_type: str) -> int:
    """Five of each type, four of six: 384 secrets of 78 types."""
    return 4 if secret_type in FOUR_OF else 5


class Planter(Decoys):
    """Draws plants, positives and (from `Decoys`) near misses, from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def host_items(self) -> tuple[str, tuple[Item, ...]]:
        """A server for a URL: an internal host, a private address, or a compose service."""
        roll = self.rng.random()
        if roll < 0.45:
            host = v.internal_host(self.rng)
            return host, (Item("internal-host", "internal-host", host),)
        if roll < 0.75:
            address = v.private_ip(self.rng).split("/")[0]
            address = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
            shown = f"[{address}]" if ":" in address else address
            return shown, (Item("private-ip", "private-ip", address),)
        return self.rng.choice(["db", "postgres", "cache", "broker", "mongo"]), ()

    def secret(self, secret_type: str) -> Plant:
        """One positive secret of `secret_type`, in a general shape (assign, pem, header)."""
        rng = self.rng
        if secret_type in PEM_TYPES:
            pem = PEM_TYPES[secret_type](rng)
            name = rng.choice(["PRIVATE_KEY", "SIGNING_KEY", "TLS_KEY", "DEPLOY_KEY"])
            return Plant(name, pem, (Item("secret", secret_type, pem),), "pem")
        if secret_type in URL_TYPES:
            return self._url(secret_type)
        if secret_type in HEADER_TYPES:
            if secret_type == "authorization-bearer":
                token = v.chars(rng, v.ALNUM + "-_", 48)
                text = f"Bearer {token}"
            else:
                user = rng.choice(["svc-deploy", "ci", "etl", "admin"])
                token = v.b64(f"{user}:{v.password(rng)}".encode())
                text = f"Basic {token}"
            return Plant("Authorization", text, (Item("secret", secret_type, token),), "header")
        if secret_type == "jwt":
            value = keys.jwt(rng, rng.choice(["https://auth.acme.io", "billing", "ci"]))
        else:
            value = v.SECRET_VALUES[secret_type](rng)
        name = rng.choice(SECRET_NAMES[secret_type])
        text = value
        if secret_type == "azure-storage-account-key":
            account = rng.choice(["acmebilling", "acmedatalake", "acmelogs"])
            text = (
                f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={value};"
                "EndpointSuffix=core.windows.net"
            )
        return Plant(name, text, (Item("secret", secret_type, value),))

    def _url(self, secret_type: str) -> Plant:
        rng = self.rng
        pw = v.url_password(rng)
        user = rng.choice(["app", "billing_rw", "etl", "svc_reporting", "admin"])
        host, host_items = self.host_items()
        db = rng.choice(["billing", "orders", "analytics", "identity"])
        text, name = {
            "postgres-url": (f"postgresql://{user}:{pw}@{host}:5432/{db}", "DATABASE_URL"),
            "mysql-url": (f"mysql://{user}:{pw}@{host}:3306/{db}", "MYSQL_URL"),
            "redis-url": (f"redis://:{pw}@{host}:6379/0", "REDIS_URL"),
            "amqp-url": (f"amqp://{user}:{pw}@{host}:5672/{db}", "BROKER_URL"),
            "mongodb-url": (f"mongodb+srv://{user}:{pw}@{host}/{db}?retryWrites=true", "MONGO_URI"),
            "smtp-url": (f"smtp://{user}:{pw}@{host}:587", "EMAIL_URL"),
            "jdbc-password": (
                rng.choice(
                    [
                        f"jdbc:sqlserver://{host}:1433;databaseName={db};user={user};password={pw}",
                        f"jdbc:postgresql://{host}:5432/{db}?user={user}&password={pw}",
                    ]
                ),
                "JDBC_URL",
            ),
            "odbc-password": (
                rng.choice(
                    [
                        "Driver={ODBC Driver 18 for SQL Server};"
                        f"Server=tcp:{host},1433;Database={db};Uid={user};Pwd={pw};",
                        f"Server={host};Database={db};User Id={user};Password={pw};",
                    ]
                ),
                "DB_CONNECTION_STRING",
            ),
        }[secret_type]
        return Plant(name, text, (Item("secret", secret_type, pw), *host_items))

    def host(self) -> Plant:
        """A standalone internal host name, as a bare name, URL or host:port."""
        rng = self.rng
        host = v.internal_host(rng)
        name = rng.choice(
            [
                "DB_HOST",
                "API_BASE_URL",
                "KAFKA_BOOTSTRAP",
                "LDAP_URL",
                "GRAFANA_URL",
                "UPSTREAM",
                "ARTIFACT_REPO",
                "SMTP_HOST",
                "VAULT_ADDR",
                "ES_HOSTS",
            ]
        )
        text = rng.choice(
            [
                host,
                f"https://{host}/",
                f"{host}:{rng.choice([9092, 5432, 8200, 389])}",
                f"http://{host}:8080/api/v2",
            ]
        )
        return Plant(name, text, (Item("internal-host", "internal-host", host),))

    def address(self) -> Plant:
        """A standalone private address: bare, with a port, in a URL, or a CIDR."""
        rng = self.rng
        address = v.private_ip(rng)
        text = address
        if "/" in address:
            name = rng.choice(["ALLOWED_CIDR", "VPC_CIDR", "POD_CIDR", "TRUSTED_PROXIES"])
        elif address.count(":") == 1 and rng.random() < 0.5:
            name, text = "METRICS_ENDPOINT", f"http://{address}/metrics"
        elif address.count(":") == 1:
            name = rng.choice(["DB_HOST", "PEER_ADDR", "CACHE_ADDR", "BROKER_ADDR"])
        else:
            name = rng.choice(["BIND_ADDRESS", "DNS_SERVER", "NFS_SERVER", "GATEWAY_IP", "DB_HOST"])
        return Plant(name, text, (Item("private-ip", "private-ip", address),))

    def personal(self, pii_type: str) -> Plant:
        """One piece of personal data with a field name that says what it is."""
        value = people.PII_VALUES[pii_type](self.rng)
        names = {
            "email": ("OWNER_EMAIL", "ALERT_RECIPIENT", "CONTACT", "REPORT_TO"),
            "phone": ("ONCALL_PHONE", "SUPPORT_PHONE", "CONTACT_PHONE"),
            "payment-card": ("TEST_CARD", "CARD_NUMBER", "FALLBACK_CARD"),
            "iban": ("REFUND_IBAN", "PAYOUT_IBAN", "SETTLEMENT_ACCOUNT"),
            "us-ssn": ("CUSTOMER_SSN", "SSN"),
            "uk-nino": ("NI_NUMBER", "NINO"),
            "es-dni": ("DNI", "CUSTOMER_DNI"),
        }[pii_type]
        return Plant(self.rng.choice(names), value, (Item("pii", pii_type, value),))
