"""Provider secret rules: tokens whose own format (a prefix, a length, a checksum) says
what they are, and the few keys that only their key name identifies.

Formats come from the providers' documentation and gitleaks' default rules; the
regexes are written for RE2 and end at a character that cannot continue the token,
so a longer string that merely contains one is not reported.
"""

from __future__ import annotations

from steward.scan.models import Rule
from steward.scan.secrets_checks import (
    discord_bot_token_decodes,
    github_token_checksum_ok,
    jwt_decodes,
    keyed_value_is_real,
    private_key_has_body,
)
from steward.scan.secrets_format import END, keyed, secret_rule
from steward.scan.secrets_saas import SAAS_RULES

CLOUD_RULES = (
    secret_rule(
        "aws-access-key-id",
        "AWS access key id",
        r"\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b",
        ("akia", "asia", "abia", "acca", "a3t"),
    ),
    keyed(
        "aws-secret-access-key",
        "AWS secret access key",
        r"secret[_.-]?access[_.-]?key|aws[_.-]?secret(?:[_.-]?key)?",
        r"[A-Za-z0-9/+]{40}",
        ("secret", "secretaccesskey"),
    ),
    secret_rule(
        "gcp-api-key",
        "Google Cloud API key",
        rf"\b(AIza[0-9A-Za-z_-]{{35}}){END}",
        ("aiza",),
    ),
    secret_rule(
        "google-oauth-secret",
        "Google OAuth client secret, access token or refresh token",
        rf"\b(GOCSPX-[A-Za-z0-9_-]{{28}}|ya29\.[A-Za-z0-9_-]{{30,}}|1//0[A-Za-z0-9_-]{{40,}}){END}",
        ("gocspx-", "ya29.", "1//0"),
    ),
    secret_rule(
        "azure-sas-token",
        "Azure shared access signature (the sig= of a SAS URL or token)",
        r"[?&]sig=([A-Za-z0-9%+/=]{40,})",
        ("sig=",),
    ),
    secret_rule(
        "azure-storage-account-key",
        "Azure storage account key or shared access key in a connection string",
        r"(?i:AccountKey|SharedAccessKey|PrimaryKey|SecondaryKey)[ \t]*=[ \t]*"
        r"([A-Za-z0-9+/]{40,86}={0,2})",
        ("accountkey", "sharedaccesskey", "primarykey", "secondarykey"),
    ),
    secret_rule(
        "azure-ad-client-secret",
        "Azure AD (Entra ID) application client secret",
        r"(?m)(?:^|[\\'\"`\t >=:(,])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})"
        r"(?:[\\'\"`\s<),]|$)",
        ("q~",),
    ),
    secret_rule(
        "digitalocean-token",
        "DigitalOcean personal access, OAuth or refresh token",
        rf"\b(do[opr]_v1_[a-f0-9]{{64}}){END}",
        ("dop_v1_", "doo_v1_", "dor_v1_"),
    ),
    secret_rule(
        "heroku-api-key", "Heroku API key", rf"\b(HRKU-[A-Za-z0-9_-]{{60}}){END}", ("hrku-",)
    ),
    keyed(
        "heroku-api-key-legacy",
        "Heroku API key (UUID form, named by its key)",
        r"heroku[\w.-]{0,20}(?:key|token)",
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        ("heroku",),
    ),
    secret_rule(
        "alibaba-access-key-id",
        "Alibaba Cloud AccessKey id",
        rf"\b(LTAI[A-Za-z0-9]{{12,20}}){END}",
        ("ltai",),
    ),
    keyed(
        "alibaba-access-key-secret",
        "Alibaba Cloud AccessKey secret",
        r"(?:alibaba|aliyun|alicloud)[\w.-]{0,20}secret",
        r"[A-Za-z0-9]{30}",
        ("alibaba", "aliyun", "alicloud"),
    ),
    keyed(
        "ibm-cloud-api-key",
        "IBM Cloud API key",
        r"ibm[\w.-]{0,20}(?:api[_.-]?key|apikey)",
        r"[A-Za-z0-9_-]{44}",
        ("ibm",),
    ),
)

FORGE_RULES = (
    secret_rule(
        "github-token",
        "GitHub token (personal, OAuth, user-to-server, server-to-server, refresh)",
        r"\b(gh[pousr]_[A-Za-z0-9]{36})\b",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        github_token_checksum_ok,
    ),
    secret_rule(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        rf"\b(github_pat_[A-Za-z0-9]{{22}}_[A-Za-z0-9]{{59}}){END}",
        ("github_pat_",),
    ),
    secret_rule(
        "gitlab-token",
        "GitLab token (personal, project, group, deploy, runner, feed, OAuth, SCIM, agent)",
        r"\b((?:glpat|gldt|glrt|glft|glsoat|glffct|glimt|glagent|gloas|glcbt)-"
        r"[0-9A-Za-z_-]{20,}(?:\.[0-9a-z]{9})?)" + END,
        (
            *("glpat-", "gldt-", "glrt-", "glft-", "glsoat-", "glffct-", "glimt-"),
            *("glagent-", "gloas-", "glcbt-"),
        ),
    ),
    secret_rule(
        "gitlab-pipeline-trigger-token",
        "GitLab pipeline trigger token",
        rf"\b(glptt-[0-9a-f]{{40}}){END}",
        ("glptt-",),
    ),
    secret_rule(
        "gitlab-runner-registration-token",
        "GitLab runner registration token",
        rf"\b(GR1348941[0-9A-Za-z_-]{{20}}){END}",
        ("gr1348941",),
    ),
    secret_rule(
        "atlassian-token",
        "Atlassian API token, Bitbucket app password or access token",
        rf"\b(AT(?:ATT|BB|CTT)[A-Za-z0-9_=-]{{24,}}){END}",
        ("atatt", "atbb", "atctt"),
    ),
    keyed(
        "atlassian-api-token-legacy",
        "Atlassian (Jira, Confluence) API token named by its key",
        r"(?:atlassian|jira|confluence)[\w.-]{0,20}(?:token|api[_.-]?key)",
        r"[A-Za-z0-9]{24}",
        ("atlassian", "jira", "confluence"),
    ),
    keyed(
        "gitea-token",
        "Gitea or Forgejo access token",
        r"(?:gitea|forgejo)[\w.-]{0,20}(?:token|key)",
        r"[a-f0-9]{40}",
        ("gitea", "forgejo"),
    ),
)

CHAT_AND_PAYMENT_RULES = (
    secret_rule(
        "slack-token",
        "Slack bot, user, app or configuration token",
        r"\b((?:xox[abeoprs]-(?:[0-9]+-)+[A-Za-z0-9-]{8,}|xox[ar]-[A-Za-z0-9]{8,48}"
        r"|xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{100,}"
        r"|xapp-[0-9]-[A-Z0-9]{6,14}-[0-9]{8,14}-[a-f0-9]{40,80}))" + END,
        ("xoxb-", "xoxp-", "xoxa-", "xoxe", "xoxo-", "xoxr-", "xoxs-", "xapp-"),
    ),
    secret_rule(
        "slack-webhook-url",
        "Slack incoming webhook or workflow URL",
        r"(hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{30,})",
        ("hooks.slack.com",),
    ),
    secret_rule(
        "discord-bot-token",
        "Discord bot token",
        rf"\b([MNO][A-Za-z0-9_-]{{23,27}}\.[A-Za-z0-9_-]{{6}}\.[A-Za-z0-9_-]{{27,40}}){END}",
        ("discord", "bot", "token", ".run("),
        discord_bot_token_decodes,
    ),
    secret_rule(
        "discord-webhook-url",
        "Discord webhook URL",
        r"(discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,70})",
        ("discord",),
    ),
    secret_rule(
        "telegram-bot-token",
        "Telegram bot token",
        rf"\b([0-9]{{5,16}}:A[A-Za-z0-9_-]{{34}}){END}",
        (":a",),
    ),
    secret_rule(
        "microsoft-teams-webhook",
        "Microsoft Teams incoming webhook or workflow URL",
        r"(\.webhook\.office\.com/webhookb2/[A-Za-z0-9@/-]{60,}"
        r"|outlook\.office(?:365)?\.com/webhook/[A-Za-z0-9@/-]{60,}"
        r"|\.logic\.azure\.com(?::443)?/workflows/[a-f0-9]{32}/triggers/[^\s\"'<>]{20,})",
        ("webhook.office.com", "outlook.office", "logic.azure.com"),
    ),
    secret_rule(
        "stripe-secret-key",
        "Stripe live secret or restricted key",
        rf"\b((?:sk|rk)_live_[A-Za-z0-9]{{20,}}){END}",
        ("sk_live_", "rk_live_"),
    ),
    secret_rule(
        "stripe-webhook-secret",
        "Stripe webhook signing secret",
        rf"\b(whsec_[A-Za-z0-9+/]{{32,64}}){END}",
        ("whsec_",),
    ),
    secret_rule(
        "square-token",
        "Square access token or OAuth secret",
        rf"\b((?:EAAA[A-Za-z0-9_-]{{60}}|sq0atp-[A-Za-z0-9_-]{{22}}|sq0csp-[A-Za-z0-9_-]{{43}})){END}",
        ("eaaa", "sq0atp-", "sq0csp-"),
    ),
    secret_rule(
        "braintree-access-token",
        "PayPal Braintree production access token",
        rf"\b(access_token\$production\$[0-9a-z]{{16}}\$[0-9a-f]{{32}}){END}",
        ("access_token$production$",),
    ),
    secret_rule(
        "twilio-api-key",
        "Twilio API key (SK...)",
        r"\b(SK[0-9a-f]{32})\b",
        ("sk",),
    ),
    keyed(
        "twilio-auth-token",
        "Twilio auth token",
        r"twilio[\w.-]{0,20}(?:auth[_.-]?token|secret|token)",
        r"[0-9a-f]{32}",
        ("twilio",),
    ),
    secret_rule(
        "twilio-credentials-pair",
        'Twilio auth token written beside its account SID (`Client("AC...", "...")`)',
        r"\bAC[0-9a-f]{32}\b[^\n]{0,60}?\b([0-9a-f]{32})\b",
        ("ac",),
        keyed_value_is_real,
    ),
    secret_rule(
        "sendgrid-api-key",
        "SendGrid API key",
        rf"\b(SG\.[A-Za-z0-9_-]{{22}}\.[A-Za-z0-9_-]{{43}}){END}",
        ("sg.",),
    ),
    secret_rule(
        "mailgun-api-key",
        "Mailgun private API key",
        r"\b(key-[0-9a-f]{32})\b",
        ("key-",),
    ),
    keyed(
        "mailgun-signing-key",
        "Mailgun API or webhook signing key",
        r"mailgun[\w.-]{0,20}",
        r"[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}",
        ("mailgun",),
    ),
    secret_rule(
        "mailchimp-api-key",
        "Mailchimp API key",
        r"\b([0-9a-f]{32}-us[0-9]{1,2})\b",
        ("-us",),
    ),
)

REGISTRY_RULES = (
    secret_rule(
        "npm-token",
        "npm access token",
        rf"\b(npm_[A-Za-z0-9]{{36}}){END}",
        ("npm_",),
        github_token_checksum_ok,  # npm's format is GitHub's: 30 random + base62 CRC32
    ),
    secret_rule(
        "pypi-token",
        "PyPI (or TestPyPI) upload token",
        rf"\b(pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{{50,}}){END}",
        ("pypi-age",),
    ),
    secret_rule(
        "rubygems-api-key",
        "RubyGems API key",
        rf"\b(rubygems_[a-f0-9]{{48}}){END}",
        ("rubygems_",),
    ),
    secret_rule("nuget-api-key", "NuGet API key", r"\b(oy2[a-z0-9]{43})\b", ("oy2",)),
    secret_rule(
        "docker-hub-token",
        "Docker Hub personal or organisation access token",
        rf"\b(dckr_(?:pat|oat)_[A-Za-z0-9_-]{{27,40}}){END}",
        ("dckr_pat_", "dckr_oat_"),
    ),
    secret_rule(
        "artifactory-token",
        "JFrog Artifactory API key or reference token",
        r"\b(AKCp[A-Za-z0-9]{69}|cmVmdGtu[A-Za-z0-9]{56})\b",
        ("akcp", "cmvmdgtu"),
    ),
    secret_rule("crates-io-token", "crates.io API token", r"\b(cio[A-Za-z0-9]{32})\b", ("cio",)),
)

KEY_RULES = (
    secret_rule(
        "private-key",
        "Private key (PEM: RSA, EC, DSA, PKCS#8, encrypted; OpenSSH; PGP)",
        r"(-----BEGIN[ A-Z0-9]{0,30} PRIVATE KEY(?: BLOCK)?-----)",
        ("private key",),
        private_key_has_body,
    ),
    secret_rule(
        "putty-private-key",
        "PuTTY private key file",
        r"(PuTTY-User-Key-File-[23]: [a-z0-9-]+)",
        ("putty-user-key-file",),
    ),
    secret_rule(
        "jwt",
        "JSON Web Token",
        r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{16,})",
        ("eyj",),
        jwt_decodes,
    ),
)

PROVIDER_RULES: tuple[Rule, ...] = (
    CLOUD_RULES + FORGE_RULES + CHAT_AND_PAYMENT_RULES + REGISTRY_RULES + SAAS_RULES + KEY_RULES
)
