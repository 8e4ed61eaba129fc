"""What the corpus plants, before it is placed in a file: labelled items and the
assignment (name, text) that carries them.

A `Plant` is one thing a file holds on one line (or one block, for PEM keys): a
variable `name` and the `text` assigned to it. Its `items` are the labelled values
inside the text: a connection URL carries a password and, often, an internal host.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from steward.scan.models import Kind
from tests.scan import corpus_values as v

# The shape says where a plant can go: an assignment goes in any config or source file,
# a PEM block where multi-line text fits, a header where HTTP requests are written.
Shape = str  # "assign" | "pem" | "header"


@dataclass(frozen=True)
class Item:
    """One labelled value: a secret, a host, an address or personal data, or a decoy."""

    kind: Kind
    type: str
    value: str
    is_decoy: bool = False


@dataclass(frozen=True)
class Plant:
    """`name = text` in whatever syntax the file has; `items` are the values in `text`."""

    name: str
    text: str
    items: tuple[Item, ...]
    shape: Shape = "assign"


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
    "rsa-private-key": v.rsa_pem,
    "ec-private-key": v.ec_pem,
    "pkcs8-private-key": v.pkcs8_pem,
    "openssh-private-key": v.openssh_pem,
    "pgp-private-key": v.pgp_pem,
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


class Planter:
    """Draws plants from one seeded generator and counts the hosts and addresses that
    connection URLs already carry, so the standalone ones make up the rest."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counts: dict[str, int] = {"internal-host": 0, "private-ip": 0}

    def host_items(self) -> tuple[str, tuple[Item, ...]]:
        """A server for a URL: an internal host, a private address, or a compose service."""
        roll = self.rng.random()
        if roll < 0.45:
            host = v.internal_host(self.rng)
            self.counts["internal-host"] += 1
            return host, (Item("internal-host", "internal-host", host),)
        if roll < 0.75:
            address = v.private_ip(self.rng).split("/")[0]
            address = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
            self.counts["private-ip"] += 1
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
            value = v.jwt(rng, rng.choice(["https://auth.acme.io", "billing", "ci"]))
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
        if "/" in address:
            name = rng.choice(["ALLOWED_CIDR", "VPC_CIDR", "POD_CIDR", "TRUSTED_PROXIES"])
        else:
            name = rng.choice(
                [
                    "BIND_ADDRESS",
                    "DB_HOST",
                    "PEER_ADDR",
                    "DNS_SERVER",
                    "NFS_SERVER",
                    "METRICS_ENDPOINT",
                ]
            )
        text = address
        if ":" in address and address.count(":") == 1 and rng.random() < 0.5:
            text = f"http://{address}/metrics"
        return Plant(name, text, (Item("private-ip", "private-ip", address),))

    def personal(self, pii_type: str) -> Plant:
        """One piece of personal data with a field name that says what it is."""
        value = v.PII_VALUES[pii_type](self.rng)
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

    # -- decoys: near misses a scanner must leave alone ------------------------------------
    def secret_decoy(self, n: int) -> Plant:
        """The `n`-th secret decoy, cycling through every kind of near miss."""
        rng = self.rng
        makers: list[Callable[[], tuple[str, str, str]]] = [
            lambda: (
                "github-token-bad-checksum",
                "GITHUB_TOKEN",
                v.bad_checksum(v.SECRET_VALUES["github-pat"](rng)),
            ),
            lambda: (
                "npm-token-bad-checksum",
                "NPM_TOKEN",
                v.bad_checksum(v.SECRET_VALUES["npm-token"](rng)),
            ),
            lambda: ("jwt-io-sample", "EXAMPLE_JWT", v.JWT_IO_SAMPLE),
            lambda: (
                "stripe-test-key",
                "STRIPE_SECRET_KEY",
                "sk_test_" + v.chars(rng, v.ALNUM, 99),
            ),
            lambda: (
                "stripe-publishable-key",
                "STRIPE_PUBLISHABLE_KEY",
                rng.choice(["pk_live_", "pk_test_"]) + v.chars(rng, v.ALNUM, 99),
            ),
            lambda: ("aws-example-key-id", "AWS_ACCESS_KEY_ID", v.AWS_EXAMPLE_KEY_ID),
            lambda: ("aws-example-secret", "AWS_SECRET_ACCESS_KEY", v.AWS_EXAMPLE_SECRET),
            lambda: (
                "placeholder",
                rng.choice(["DB_PASSWORD", "ADMIN_PASSWORD", "API_KEY"]),
                rng.choice(
                    [
                        "changeme",
                        "<password>",
                        "your-api-key-here",
                        "REPLACE_ME",
                        "xxxxxxxxxxxxxxxx",
                        "********",
                        "TODO",
                        "not-a-real-secret",
                    ]
                ),
            ),
            lambda: (
                "env-reference",
                rng.choice(["DB_PASSWORD", "API_TOKEN", "SECRET_KEY"]),
                rng.choice(
                    [
                        "${DB_PASSWORD}",
                        "${API_TOKEN:?required}",
                        "$(cat /run/secrets/api_token)",
                        "%(SECRET_KEY)s",
                        "${env:SECRET_KEY}",
                    ]
                ),
            ),
            lambda: (
                "template-reference",
                rng.choice(["password", "token", "apiKey"]),
                rng.choice(
                    [
                        "{{ .Values.db.password }}",
                        "${{ secrets.DEPLOY_TOKEN }}",
                        "{{ vault_db_password }}",
                        "{{ lookup('env', 'API_KEY') }}",
                        "${{ secrets.NPM_TOKEN }}",
                    ]
                ),
            ),
            lambda: ("git-sha", rng.choice(["GIT_COMMIT", "REVISION", "BASE_SHA"]), v.git_sha(rng)),
            lambda: (
                "sha256-digest",
                rng.choice(["CHECKSUM_SHA256", "ARCHIVE_SHA256"]),
                v.sha256_hex(rng),
            ),
            lambda: (
                "image-digest",
                "IMAGE",
                f"ghcr.io/acme/{rng.choice(['billing', 'api', 'etl'])}@sha256:{v.sha256_hex(rng)}",
            ),
            lambda: ("npm-integrity", "INTEGRITY", v.npm_integrity(rng)),
            lambda: (
                "base64-text",
                rng.choice(["BANNER_B64", "MOTD", "WELCOME_MESSAGE"]),
                v.base64_text(rng),
            ),
            lambda: (
                "uuid",
                rng.choice(["TENANT_ID", "CLIENT_ID", "REQUEST_ID", "SUBSCRIPTION_ID"]),
                v.uuid_text(rng),
            ),
            lambda: ("slack-example-webhook", "SLACK_WEBHOOK_URL", v.SLACK_EXAMPLE_WEBHOOK),
            lambda: (
                "truncated-example",
                rng.choice(["OPENAI_API_KEY", "GITHUB_TOKEN", "API_KEY"]),
                rng.choice(["sk-proj-...", "ghp_...", "sk_live_...", "AKIA..."]),
            ),
            lambda: (
                "bcrypt-hash",
                "ADMIN_PASSWORD_HASH",
                "$2b$12$" + v.chars(rng, v.ALNUM + "./", 53),
            ),
            lambda: ("twilio-account-sid", "TWILIO_ACCOUNT_SID", "AC" + v.chars(rng, v.HEX, 32)),
            lambda: (
                "google-oauth-client-id",
                "GOOGLE_CLIENT_ID",
                f"{rng.randrange(10**11, 10**12)}-{v.chars(rng, v.LOWER + v.DIGITS, 32)}"
                ".apps.googleusercontent.com",
            ),
            lambda: ("password-file-reference", "DB_PASSWORD_FILE", "/run/secrets/db_password"),
            lambda: (
                "url-without-password",
                "DATABASE_URL",
                rng.choice(
                    [
                        "postgresql://app:${DB_PASSWORD}@db:5432/app",
                        "redis://localhost:6379/0",
                        "postgresql://app@localhost/app",
                        "amqp://guest:{{ .Values.rabbitmq.password }}@broker:5672/",
                    ]
                ),
            ),
            lambda: (
                "aws-arn",
                "DEPLOY_ROLE_ARN",
                f"arn:aws:iam::123456789012:role/{rng.choice(['deploy', 'ci', 'etl'])}",
            ),
        ]
        kind, name, value = makers[n % len(makers)]()
        return Plant(name, value, (Item("secret", kind, value, True),))

    def reference_decoy(self, style: str) -> Plant:
        """A value filled in at deploy time: a Helm value, a GitHub Actions secret, or an
        environment variable `envsubst` replaces."""
        rng = self.rng
        name = rng.choice(
            ["DB_PASSWORD", "API_TOKEN", "CLIENT_SECRET", "SMTP_PASSWORD", "NPM_TOKEN"]
        )
        path = ".".join(part for part in name.lower().split("_"))
        value = {
            "helm": f"{{{{ .Values.{path} }}}}",
            "helm-b64": f"{{{{ .Values.{path} | b64enc }}}}",
            "actions": f"${{{{ secrets.{name} }}}}",
            "envsubst": f"${{{name}}}",
        }[style]
        return Plant(name, value, (Item("secret", "template-reference", value, True),))

    def pem_decoy(self, n: int) -> Plant:
        """A certificate or public key: PEM-shaped, public by design."""
        rng = self.rng
        if n % 2:
            pem = v.certificate_pem(rng, rng.choice(["api.acme.io", "www.acme.io", "Acme Root CA"]))
            return Plant("TLS_CERT", pem, (Item("secret", "certificate", pem, True),), "pem")
        pem = v.public_key_pem(rng)
        return Plant("JWT_PUBLIC_KEY", pem, (Item("secret", "public-key", pem, True),), "pem")

    def host_decoy(self, n: int) -> Plant:
        """A host name that is public, a documentation name, or only looks internal."""
        rng = self.rng
        style = n % 6
        value = [
            lambda: v.public_host(rng),
            lambda: rng.choice(
                [
                    "db.example.com",
                    "api.example.org",
                    "mail.example.net",
                    "service.test",
                    "broker.invalid",
                    "app.localhost",
                ]
            ),
            lambda: rng.choice(
                [
                    "settings.local.py",
                    "config.local.yaml",
                    "docker-compose.local.yml",
                    "appsettings.Development.local.json",
                ]
            ),
            lambda: rng.choice(
                ["com.acme.internal.billing", "io.acme.corp.audit", "org.acme.svc.cluster"]
            ),
            lambda: rng.choice(["host.docker.internal", "metadata.google.internal", "localhost"]),
            lambda: v.public_host(rng),
        ][style]()
        names = [
            ("UPSTREAM_URL", "MIRROR", "HOMEPAGE", "REGISTRY"),
            ("EXAMPLE_HOST", "TEST_HOST"),
            ("SETTINGS_FILE", "OVERRIDES_FILE"),
            ("LOGGER_NAME", "BASE_PACKAGE"),
            ("DOCKER_HOST_ALIAS", "METADATA_HOST"),
            ("UPSTREAM_URL", "MIRROR", "HOMEPAGE", "REGISTRY"),
        ][style]
        name = rng.choice(names)
        text = value
        if style in (0, 1, 5) and rng.random() < 0.6:
            text = f"https://{value}/"
        return Plant(name, text, (Item("internal-host", "public-or-example-host", value, True),))

    def address_decoy(self, n: int) -> Plant:
        """An address that is public, documentation-only, loopback, or a version string."""
        rng = self.rng
        kind, value = [
            lambda: ("documentation-ip", v.documentation_ip(rng)),
            lambda: ("public-neighbour-ip", v.public_neighbour_ip(rng)),
            lambda: ("version-string", v.version_string(rng)),
            lambda: ("loopback-or-any", rng.choice(["127.0.0.1", "0.0.0.0", "::1", "127.0.0.53"])),
            lambda: ("documentation-ip", v.documentation_ip(rng)),
            lambda: ("public-neighbour-ip", v.public_neighbour_ip(rng)),
        ][n % 6]()
        names = {"version-string": ("APP_VERSION", "DRIVER_VERSION", "FIRMWARE")}.get(
            kind, ("BIND_ADDRESS", "UPSTREAM_DNS", "EXAMPLE_PEER", "EGRESS_IP")
        )
        return Plant(rng.choice(names), value, (Item("private-ip", kind, value, True),))

    def pii_decoy(self, n: int) -> Plant:
        """Something shaped like personal data that is not: example addresses, test cards..."""
        rng = self.rng
        kind, name, value = [
            lambda: (
                "example-email",
                "CONTACT",
                rng.choice(v.FIRST)
                + "@"
                + rng.choice(["example.com", "example.org", "test.example"]),
            ),
            lambda: (
                "noreply-email",
                "MAIL_FROM",
                rng.choice(
                    [
                        "noreply@github.com",
                        "no-reply@acme.io",
                        "49699333+dependabot[bot]@users.noreply.github.com",
                    ]
                ),
            ),
            lambda: (
                "allowed-domain-email",
                "OWNER_EMAIL",
                f"{rng.choice(v.FIRST)}.{rng.choice(v.LAST)}@{v.ALLOWED_EMAIL_DOMAIN}",
            ),
            lambda: ("test-card", "TEST_CARD", rng.choice(v.STRIPE_TEST_CARDS)),
            lambda: ("luhn-failing-card", "CARD_NUMBER", v.luhn_failing_card(rng)),
            lambda: ("iban-bad-checksum", "PAYOUT_IBAN", v.iban(rng, valid=False)),
            lambda: ("invalid-ssn", "SSN", v.invalid_ssn(rng)),
            lambda: ("fictional-phone", "SUPPORT_PHONE", v.fictional_phone(rng)),
            lambda: (
                "date-or-id",
                rng.choice(["ORDER_ID", "RELEASE_DATE", "BUILD_NUMBER"]),
                rng.choice(
                    [
                        f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                        str(rng.randrange(10**9, 10**10)),
                        "-".join(str(rng.randrange(10**k, 10 ** (k + 1))) for k in (2, 1, 3, 1)),
                    ]
                ),
            ),
            lambda: (
                "npm-scope",
                "PACKAGE",
                f"@acme/{rng.choice(['ui', 'sdk', 'config'])}@"
                f"{rng.randrange(1, 9)}.{rng.randrange(20)}.{rng.randrange(20)}",
            ),
            lambda: (
                "git-ssh-remote",
                "REPO",
                f"git@github.com:acme/{rng.choice(['billing', 'infra', 'web'])}.git",
            ),
        ][n % 11]()
        return Plant(name, value, (Item("pii", kind, value, True),))
