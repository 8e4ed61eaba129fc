"""Near misses the corpus plants beside every positive: values shaped like secrets,
hosts, addresses or personal data that a scanner must leave alone (issue 15's list:
checksum-invalid fixtures, documented examples, test keys, placeholders and templating,
hashes and digests, public keys and certificates, documentation ranges, look-alikes
failing their checksums)."""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.scan import corpus_keys as keys
from tests.scan import corpus_people as people
from tests.scan import corpus_values as v
from tests.scan.corpus_model import Item, Plant


class Decoys:
    """Decoy plants, drawn from `rng`; `n` cycles through each family of near misses."""

    rng: random.Random

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

    def integrity_decoy(self) -> Plant:
        """An npm lock file's `integrity` hash."""
        value = v.npm_integrity(self.rng)
        return Plant("integrity", value, (Item("secret", "npm-integrity", value, True),))

    def example_email_decoy(self) -> Plant:
        """An address at a domain reserved for examples."""
        rng = self.rng
        value = rng.choice(people.FIRST) + "@" + rng.choice(["example.com", "example.org"])
        return Plant("CONTACT", value, (Item("pii", "example-email", value, True),))

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
            pem = keys.certificate_pem(
                rng, rng.choice(["api.acme.io", "www.acme.io", "Acme Root CA"])
            )
            return Plant("TLS_CERT", pem, (Item("secret", "certificate", pem, True),), "pem")
        pem = keys.public_key_pem(rng)
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
        kind = [
            "public-host",
            "example-host",
            "file-name",
            "java-package",
            "well-known-name",
            "public-host",
        ][style]
        return Plant(name, text, (Item("internal-host", kind, value, True),))

    def address_decoy(self, n: int) -> Plant:
        """An address that is public, documentation-only, loopback, or a version string."""
        rng = self.rng
        makers: list[Callable[[], tuple[str, str]]] = [
            lambda: ("documentation-ip", v.documentation_ip(rng)),
            lambda: ("public-neighbour-ip", v.public_neighbour_ip(rng)),
            lambda: ("version-string", v.version_string(rng)),
            lambda: ("loopback-or-any", rng.choice(["127.0.0.1", "0.0.0.0", "::1", "127.0.0.53"])),
            lambda: ("documentation-ip", v.documentation_ip(rng)),
            lambda: ("public-neighbour-ip", v.public_neighbour_ip(rng)),
        ]
        kind, value = makers[n % len(makers)]()
        names = {"version-string": ("APP_VERSION", "DRIVER_VERSION", "FIRMWARE")}.get(
            kind, ("BIND_ADDRESS", "UPSTREAM_DNS", "EXAMPLE_PEER", "EGRESS_IP")
        )
        return Plant(rng.choice(names), value, (Item("private-ip", kind, value, True),))

    def pii_decoy(self, n: int) -> Plant:
        """Something shaped like personal data that is not: example addresses, test cards..."""
        rng = self.rng
        pii_makers: list[Callable[[], tuple[str, str, str]]] = [
            lambda: (
                "example-email",
                "CONTACT",
                rng.choice(people.FIRST)
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
                f"{rng.choice(people.FIRST)}.{rng.choice(people.LAST)}@{v.ALLOWED_EMAIL_DOMAIN}",
            ),
            lambda: ("test-card", "TEST_CARD", rng.choice(v.STRIPE_TEST_CARDS)),
            lambda: ("luhn-failing-card", "CARD_NUMBER", people.luhn_failing_card(rng)),
            lambda: ("iban-bad-checksum", "PAYOUT_IBAN", people.iban(rng, valid=False)),
            lambda: ("invalid-ssn", "SSN", people.invalid_ssn(rng)),
            lambda: ("fictional-phone", "SUPPORT_PHONE", people.fictional_phone(rng)),
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
        ]
        kind, name, value = pii_makers[n % len(pii_makers)]()
        return Plant(name, value, (Item("pii", kind, value, True),))
