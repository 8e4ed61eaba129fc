"""Context secrets: what only the surroundings make secret, found in every syntax a
repository writes them in, and the templates, placeholders and references that
stand in for them not reported."""

from __future__ import annotations

import json

import pytest

from tests.scan.secret_factory import Maker, b64, rule_ids, secrets_in

M = Maker(seed=7)
PW = M.password()  # e.g. "Quartz42!#x9Kq": letters, digits and punctuation
PLAIN = M.alnum(10)
PUNCTUATED = M.alnum(5) + "!" + M.alnum(5)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("config/db.yaml", f"database:\n  password: {PW}\n"),
        ("config/db.yaml", f"database:\n  password: '{PW}'\n"),
        ("config/app.json", f'{{"db": {{"user": "etl", "password": "{PW}"}}}}'),
        ("conf/app.ini", f"[db]\npassword = {PW}\n"),
        ("conf/application.properties", f"spring.datasource.password={PW}\n"),
        ("src/etl/db.py", f'DB_PASSWORD = "{PW}"\n'),
        ("src/etl/db.py", f'conn = connect(host="db", password="{PW}")\n'),
        ("src/etl/Db.java", f'String dbPassword = "{PW}";\n'),
        ("src/etl/db.go", f'dbPassword := "{PW}"\n'),
        ("web/app.js", f"const config = {{ apiSecret: '{M.alnum(32)}' }};\n"),
        ("conf/server.xml", f'<Resource name="jdbc/etl" password="{PW}" />\n'),
        ("conf/settings.xml", f"<server><password>{PW}</password></server>\n"),
        ("scripts/run.sh", f"etl-cli sync --password={PW}\n"),
        ("scripts/run.sh", f"etl-cli sync --password {PW}\n"),
        ("deploy/values.yaml", f"auth:\n  client_secret: {M.alnum(40)}\n"),
        ("deploy/values.yaml", f"api_key: {M.hex(32)}\n"),
        ("config/app.toml", f'access_token = "{M.alnum(40)}"\n'),
        ("src/app.rb", f"config.api_key = '{M.alnum(32)}'\n"),
        ("src/app.php", f"$config['db_password'] => '{PW}',\n"),
        (
            "notebooks/load.ipynb",
            json.dumps({"cells": [{"source": [f'password = "{PW}"\n', "run()\n"]}]}),
        ),
        (
            "notebooks/load.ipynb",
            json.dumps({"cells": [{"source": [json.dumps({"password": PW}) + "\n"]}]}),
        ),
        ("conf/NuGet.config", f'<add key="ClearTextPassword" value="{PW}" />\n'),
    ],
)
def test_password_assignment_found_in_every_syntax(path: str, text: str) -> None:
    found = secrets_in(text, path)
    assert len(found) == 1, (text, [f.rule_id for f in found])
    assert PW not in found[0].redacted


@pytest.mark.parametrize(
    "value",
    [
        "${DB_PASSWORD}",
        "$DB_PASSWORD",
        "{{ .Values.db.password }}",
        "${{ secrets.DB_PASSWORD }}",
        "{{ db_password }}",
        "%(db_password)s",
        "<%= ENV['DB_PASSWORD'] %>",
        "<password>",
        "changeme",
        "CHANGE_ME",
        "your-password-here",
        "********",
        "xxxxxxxx",
        "REDACTED",
        "example-password",
        "dummy-secret",
        "!vault |",
        "ENC[AES256_GCM,data:Tr7o=,iv:1=,tag:2=,type:str]",
        "op://vault/db/password",
        "/run/secrets/db_password",
        "true",
        "null",
        "$2b$12$" + "KIXQJQx4d2pWZ1Gq8c5rEuq3nX3tb8Rz9yZr5d1cLqJ0cDq6J8F1a",
    ],
)
def test_password_placeholders_templates_and_hashes_are_decoys(value: str) -> None:
    for path, text in [
        ("config/db.yaml", f"password: {value}\n"),
        ("config/app.json", json.dumps({"password": value})),
        ("src/db.py", f'DB_PASSWORD = "{value}"\n'),
        ("conf/app.ini", f"password = {value}\n"),
    ]:
        assert rule_ids(text, path) == [], text


@pytest.mark.parametrize(
    "line",
    [
        'password = os.environ["DB_PASSWORD"]',
        "password = os.getenv('DB_PASSWORD')",
        "password = settings.DB_PASSWORD",
        "const token = process.env.API_TOKEN;",
        "password = get_password()",
        "self.password = password",
        "api_key = config.api_key",
        "token: ${{ secrets.GITHUB_TOKEN }}",
        'password_file: "/etc/etl/password.txt"',
        "token_url: https://auth.example.com/oauth/token",
        "secretName: etl-db-credentials",
        "max_tokens: 4096",
        "tokenizer: bert-base-uncased",
        "author: Jane Analyst",
        "bypass_cache: true",
        "password_min_length: 12",
        "public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb0Yb9w user@host",
        f"checksum_sha256: {M.hex(64)}",
        f"commit_token_sha: {M.hex(40)}",
        "image: registry/etl@sha256:" + M.hex(64),
        'integrity: "sha512-' + M.alnum(86) + '=="',
        "secret_description: " + b64("This is only the description of a secret, not one"),
        "csrf_token: {{ csrf_token }}",
        "encryptedData:\n  password: AgB" + M.alnum(400) + "==",
    ],
)
def test_references_and_non_secret_keys_are_decoys(line: str) -> None:
    assert rule_ids(line, "config/app.yaml") == [], line


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://etl:{PW.replace('#', '1').replace(':', '2').replace('@', '3')}@db:5432/x",
        f"mysql+pymysql://app:{PLAIN}@10.0.0.5/app",
        f"redis://:{PLAIN}@cache:6379/0",
        f"amqps://svc:{PLAIN}@mq.internal:5671/",
        f"mongodb+srv://ops:{PLAIN}@cluster0.mongodb.net/db",
        f"jdbc:postgresql://etl:{PLAIN}@db:5432/warehouse",
        f"ftp://deploy:{PLAIN}@files.corp:21/",
        f"sftp://deploy:{PLAIN}@files.corp/",
        f"smtp://alerts:{PLAIN}@smtp.mailhost.io:587",
        f"ldaps://cn=svc:{PLAIN}@ldap.corp:636",
        f"https://ci:{PLAIN}@artifacts.company.io/simple/",
    ],
)
def test_password_in_url_found_once(url: str) -> None:
    for text in (f'url = "{url}"', f"DATABASE_URL={url}", json.dumps({"dsn": url})):
        assert rule_ids(text, "config/app.yaml") == ["connection-url-password"], text


@pytest.mark.parametrize(
    "url",
    [
        "https://user:password@example.com",
        "https://user:pass@host/path",
        "postgres://postgres:postgres@localhost:5432/test",
        "amqp://guest:guest@localhost:5672/",
        "https://x-access-token:$GITHUB_TOKEN@github.com/org/repo.git",
        "postgresql://app@db/app",
        "git+ssh://git@github.com/org/repo.git",
    ],
)
def test_url_placeholders_defaults_and_no_passwords_are_decoys(url: str) -> None:
    assert rule_ids(f"url: {url}", "config/app.yaml") == []


def test_github_token_in_url_is_reported_by_the_github_rule_only() -> None:
    token = M.github()
    assert rule_ids(f"url = https://x-access-token:{token}@github.com/o/r.git") == ["github-token"]


@pytest.mark.parametrize(
    "text",
    [
        f"Server=tcp:sql.corp,1433;Database=dw;User ID=etl;Password={PUNCTUATED};Encrypt=True;",
        f"Driver={{ODBC Driver 18}};Server=sql;Uid=etl;Pwd={PUNCTUATED};",
        f"jdbc:sqlserver://sql:1433;databaseName=dw;user=etl;password={PUNCTUATED};",
        f"jdbc:mysql://db:3306/dw?user=etl&password={PUNCTUATED}&useSSL=true",
    ],
)
def test_password_in_connection_string_found_once(text: str) -> None:
    assert len(rule_ids(text, "conf/app.config")) == 1, text


def test_connection_string_placeholders_are_decoys() -> None:
    assert rule_ids("Server=sql;User ID=etl;Password=${SQL_PASSWORD};") == []
    assert rule_ids("Server=sql;User ID=etl;Password=<password>;") == []


def test_authorization_headers_found() -> None:
    token = M.alnum(40)
    basic = b64("etl-bot:" + PW)
    cases = [
        f"Authorization: Bearer {token}",
        f'headers = {{"Authorization": "Bearer {token}"}}',
        f"curl -H 'Authorization: Token {token}' https://api.example.com",
        f"Authorization: Basic {basic}",
        f'"headers": {{"Authorization": "Basic {basic}"}}',
    ]
    for text in cases:
        assert rule_ids(text, "scripts/call.sh") == ["authorization-header"], text


def test_authorization_header_decoys() -> None:
    cases = [
        'headers = {"Authorization": f"Bearer {token}"}',
        "Authorization: Bearer ${API_TOKEN}",
        "Authorization: Bearer <token>",
        "Authorization: Bearer YOUR_API_TOKEN",
        "Authorization: Basic " + b64("just-a-user"),
        "Authorization: Basic " + b64("user:password"),
        'curl -H "Authorization: Bearer $TOKEN" https://api',
    ]
    for text in cases:
        assert rule_ids(text, "scripts/call.sh") == [], text


def test_jwt_bearer_is_reported_by_the_jwt_rule_only() -> None:
    assert rule_ids(f"Authorization: Bearer {M.jwt()}") == ["jwt"]


def test_curl_user_and_mysql_password_found_and_variables_are_not() -> None:
    assert rule_ids(f"curl -u etl:{PW} https://api") == ["curl-user-password"]
    assert rule_ids(f"curl --user 'etl:{PW}' https://api") == ["curl-user-password"]
    assert rule_ids("curl -u etl:$API_PASSWORD https://api") == []
    assert rule_ids('curl -u "$USER:$PASS" https://api') == []
    assert rule_ids(f"mysql -h db -u root -p{PLAIN} dw") == ["mysql-password-argument"]
    assert rule_ids("mysql -h db -u root -p$MYSQL_PWD dw") == []


def test_dotenv_secrets_found_and_placeholders_are_not() -> None:
    text = "\n".join(
        [
            "APP_ENV=production",
            f"DB_PASSWORD={PW}",
            f"export STRIPE_WEBHOOK_TOKEN={M.alnum(32)}",
            "REDIS_HOST=cache",
            "API_TOKEN=",
            "SMTP_PASSWORD=changeme",
            "SECRET_TOKEN_FILE=/run/secrets/token",
            f"# OLD_PASSWORD={PLAIN} is rotated",
        ]
    )
    found = secrets_in(text, ".env")
    assert [(f.rule_id, f.line) for f in found] == [("dotenv-secret", 2), ("dotenv-secret", 3)]
    assert rule_ids(text, "deploy/.env.production") == ["dotenv-secret"] * 2


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("etl/settings.py", "SECRET_KEY = 'django-insecure-{v}'"),
        ("etl/app.py", "app.secret_key = '{v}'"),
        ("etl/app.py", "app.config['SECRET_KEY'] = '{v}'"),
        ("config/secrets.yml", "production:\n  secret_key_base: {v}"),
        (".env", "APP_KEY=base64:{b}"),
        (".env", "APP_SECRET={v}"),
        (".env.local", "NEXTAUTH_SECRET={v}"),
    ],
)
def test_framework_secret_keys_found_once(path: str, text: str) -> None:
    value = M.alnum(24) + "!x$" + M.alnum(20)
    filled = text.format(v=value, b=b64(M.alnum(32)))
    assert rule_ids(filled, path) == ["framework-secret-key"], filled


def test_framework_secret_key_placeholders_are_decoys() -> None:
    assert rule_ids("SECRET_KEY = os.environ['SECRET_KEY']", "settings.py") == []
    assert rule_ids("SECRET_KEY = 'change-me-in-production-please'", "settings.py") == []
    assert rule_ids("APP_KEY=", ".env") == []
    assert rule_ids("secret_key_base: <%= ENV['SECRET_KEY_BASE'] %>", "secrets.yml") == []


def test_kubernetes_secret_data_found_by_key_or_by_what_it_decodes_to() -> None:
    manifest = "\n".join(
        [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            "  name: etl-db",
            "type: Opaque",
            "data:",
            f"  username: {b64('etl')}",
            f"  password: {b64(PW)}",
            f"  DATABASE_URL: {b64(f'postgresql://etl:{PLAIN}@db:5432/dw')}",
            f"  host: {b64('postgres.data.svc.cluster.local')}",
            f"  tls.crt: {b64('-----BEGIN CERTIFICATE-----')}",
            "stringData:",
            f"  api-token: {M.alnum(40)}",
        ]
    )
    found = secrets_in(manifest, "deploy/secret.yaml")
    assert [(f.rule_id, f.line) for f in found] == [
        ("generic-secret-assignment", 8),
        ("kubernetes-secret-data", 9),
        ("generic-secret-assignment", 13),
    ]


def test_kubernetes_docker_registry_secret_found() -> None:
    config = json.dumps({"auths": {"registry.corp": {"auth": b64("ci:" + PW)}}})
    manifest = "kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n"
    manifest += f"  .dockerconfigjson: {b64(config)}\n"
    assert rule_ids(manifest, "deploy/pull-secret.yaml") == ["kubernetes-secret-data"]


def test_kubernetes_data_placeholders_and_prose_are_decoys() -> None:
    manifest = "\n".join(
        [
            "kind: Secret",
            "data:",
            f"  password: {b64('changeme')}",
            f"  token: {b64('REDACTED')}",
            f"  notes: {b64('This value is documentation only and holds nothing secret')}",
            "  password2: {{ .Values.password | b64enc }}",
        ]
    )
    assert rule_ids(manifest, "deploy/secret.yaml") == []


def test_docker_config_auth_and_kubeconfig_key_found() -> None:
    docker = json.dumps({"auths": {"registry.corp": {"auth": b64("ci:" + PW)}}}, indent=2)
    assert rule_ids(docker, ".docker/config.json") == ["docker-config-auth"]
    assert rule_ids(json.dumps({"auths": {"r": {"auth": b64("ci:")}}})) == []
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + M.pem_body() + "\n-----END RSA PRIVATE KEY-----"
    kubeconfig = "\n".join(
        [
            "users:",
            "- name: admin",
            "  user:",
            f"    client-certificate-data: {b64('-----BEGIN CERTIFICATE-----' + M.alnum(60))}",
            f"    client-key-data: {b64(pem)}",
            f"    token: {M.alnum(48)}",
        ]
    )
    found = secrets_in(kubeconfig, "kubeconfig.yaml")
    assert [(f.rule_id, f.line) for f in found] == [
        ("kubeconfig-client-key", 5),
        ("generic-secret-assignment", 6),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----",
        "-----BEGIN DSA PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    ],
)
def test_private_keys_found_as_blocks_and_json_escaped(header: str) -> None:
    footer = header.replace("BEGIN", "END")
    block = f"{header}\n{M.pem_body()}\n{M.pem_body()}\n{footer}\n"
    assert rule_ids(block, "deploy/key.pem") == ["private-key"]
    escaped = json.dumps({"type": "service_account", "private_key": block})
    assert rule_ids(escaped, "gcp/sa.json") == ["private-key"]


def test_putty_key_found() -> None:
    header = "PuTTY-User-Key-File-" + "3: ssh-ed25519"
    assert rule_ids(f"{header}\nEncryption: none") == ["putty-private-key"]


def test_public_keys_certificates_and_marker_constants_are_decoys() -> None:
    cases = [
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY--",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----",
        "-----BEGIN RSA PUBLIC KEY-----",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@host",
        'PEM_HEADER = "-----BEGIN RSA PRIVATE KEY-----"',
        'if line.startswith("-----BEGIN PRIVATE KEY-----"):',
        json.dumps(
            {"private_key": "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n"}
        ),
    ]
    for text in cases:
        assert rule_ids(text, "src/keys.py") == [], text


@pytest.mark.parametrize(
    "password", ["p@ss:w0rd!#", "Pa55(word)[1]", "x;y&z,Q9{!w", "N0t$ecret%d-ok"]
)
def test_passwords_with_any_punctuation_found_when_quoted(password: str) -> None:
    for path, text in [
        ("config/app.json", json.dumps({"password": password})),
        ("src/db.py", f"DB_PASSWORD = '{password}'"),
        ("conf/server.xml", f'<Resource password="{password}" />'),
        ("notebooks/a.ipynb", json.dumps({"source": [f'password = "{password}"\n']})),
        (".env", f'DB_PASSWORD="{password}"'),
    ]:
        found = secrets_in(text, path)
        assert len(found) == 1, text
        assert found[0].redacted.startswith(password[:2])


def test_django_secret_key_alphabet_is_not_mistaken_for_templating() -> None:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"
    for n in range(20):
        key = "".join(Maker(seed=n).chars(alphabet, 50))
        assert rule_ids(f"SECRET_KEY = '{key}'", "etl/settings.py") == ["framework-secret-key"], key


def test_auth_keys_hold_credentials_but_auth_settings_are_not_secrets() -> None:
    npmrc = "//registry.npmjs.org/:_auth=" + b64("ci:" + PW)
    assert rule_ids(npmrc, ".npmrc") == ["generic-secret-assignment"]
    settings = "\n".join(
        ["auth: oauth2", "auth_type: basic", "author: Jane Analyst", "auth: true", "oauth: {}"]
    )
    assert rule_ids(settings, "config/app.yaml") == []


def test_one_line_private_key_cut_short_by_a_placeholder_is_a_decoy() -> None:
    assert rule_ids('"private_key": "-----BEGIN PRIVATE KEY-----\\n..."', "docs/sa.md") == []
    real = '"private_key": "-----BEGIN PRIVATE KEY-----\\n' + M.pem_body() + '\\n"'
    assert rule_ids(real, "gcp/sa.json") == ["private-key"]


def test_documentation_phrases_in_value_position_are_not_secrets() -> None:
    assert rule_ids('"auth": "base64(user:password)"', "docs/registry.md") == []
    assert rule_ids("token = make_token(user, scope)", "src/tokens.py") == []


@pytest.mark.parametrize(
    ("path", "text", "rule_id"),
    [
        ("src/client.py", 'requests.get(url, auth=("svc", "{pw}"))', "basic-auth-argument"),
        ("src/client.py", 'session.auth = HTTPBasicAuth("svc", "{pw}")', "basic-auth-argument"),
        ("db/roles.sql", "CREATE USER etl WITH LOGIN PASSWORD '{pw}';", "sql-password"),
        ("db/roles.sql", "CREATE USER 'etl'@'%' IDENTIFIED BY '{pw}';", "sql-password"),
        ("src/Db.java", 'ds.setPassword("{pw}");', "setter-secret"),
        ("wp-config.php", "define('DB_PASSWORD', '{pw}');", "php-define-secret"),
        ("wp-config.php", "define( 'AUTH_KEY', '{token}' );", "php-define-secret"),
        (".pgpass", "db.corp:5432:dw:etl:{pw}", "pgpass-password"),
        (".netrc", "machine api.corp login etl password {pw}", "netrc-password"),
        ("airflow.env.sh", "export AIRFLOW__CORE__FERNET_KEY={token}", "generic-secret-assignment"),
        ("compose.yaml", "      - POSTGRES_PASSWORD={pw}", "generic-secret-assignment"),
    ],
)
def test_passwords_in_code_sql_and_credential_files_found(
    path: str, text: str, rule_id: str
) -> None:
    filled = text.format(pw=PW, token=M.alnum(43) + "=")
    assert rule_ids(filled, path) == [rule_id], filled


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("src/client.py", "requests.get(url, auth=(user, password))"),
        ("src/client.py", 'requests.get(url, auth=("svc", os.environ["PW"]))'),
        ("db/roles.sql", "CREATE USER etl WITH PASSWORD '${ETL_PASSWORD}';"),
        ("db/roles.sql", "ALTER USER etl IDENTIFIED BY 'changeme';"),
        ("src/Db.java", 'ds.setPassword(System.getenv("DB_PASSWORD"));'),
        ("wp-config.php", "define('DB_PASSWORD', getenv('DB_PASSWORD'));"),
        ("wp-config.php", "define('DB_NAME', 'wordpress_prod');"),
        ("wp-config.php", "define('AUTH_KEY', 'put your unique phrase here');"),
        (".pgpass", "db.corp:5432:dw:etl:*"),
        (".netrc", "machine api.corp login etl password $NETRC_PASSWORD"),
        # GitHub's fixed password when the token is the login (the token rule finds that).
        (".netrc", "machine github.com login x-access-token password x-oauth-basic"),
        ("config/app.yaml", "password: test1234"),
        ("config/app.yaml", "password: admin2024"),
        ("config/app.yaml", "password: password123456789"),
    ],
)
def test_passwords_in_code_sql_and_credential_files_decoys(path: str, text: str) -> None:
    assert rule_ids(text, path) == [], text


@pytest.mark.parametrize(
    ("text", "rule_id"),
    [
        ('<property name="password" value="{pw}"/>', "xml-secret-setting"),
        ('<add key="ApiKey" value="{token}" />', "xml-secret-setting"),
        ('<entry key="db.password">{pw}</entry>', "xml-secret-entry"),
        ('<Parameter name="ClientSecret">{token}</Parameter>', "xml-secret-entry"),
    ],
)
def test_xml_settings_named_by_attribute_found(text: str, rule_id: str) -> None:
    filled = text.format(pw=PW, token=M.alnum(32))
    assert rule_ids(filled, "conf/app.xml") == [rule_id], filled


@pytest.mark.parametrize(
    "value",
    [
        "ghp_" + "R4nd0mB0dy" * 3,  # 30 characters where GitHub has 36
        "AKIA" + "Z3MHALQ4W7XPN2R",  # 15 where AWS has 16
        "sk_live_" + "short",
        "xoxb-not-a-slack-token-at-all",
        "glpat-" + "tooShort1",
        "hf_" + "Q9" * 5,
    ],
)
def test_malformed_provider_tokens_are_not_reported_by_the_generic_rules(value: str) -> None:
    for text in (
        f"token: {value}",
        json.dumps({"api_key": value}),
        f"Authorization: Bearer {value}",
    ):
        assert rule_ids(text, "config/app.yaml") == [], text


@pytest.mark.parametrize(
    ("path", "text", "rule_id"),
    [
        ("conf/app.ini", "[db]\npassword = {amp}", "generic-secret-assignment"),
        (
            "compose.yaml",
            "    environment:\n      - SMTP_PASSWORD={amp}",
            "generic-secret-assignment",
        ),
        ("conf/app.properties", "svc.jwt_secret={token}", "framework-secret-key"),
        ("conf/app.xml", "<jwt_secret>{token}</jwt_secret>", "xml-secret-element"),
        ("ci/vars.yaml", "azure_devops_pat: {pat}", "generic-secret-assignment"),
    ],
)
def test_unquoted_ampersands_dotted_framework_keys_and_pats_found(
    path: str, text: str, rule_id: str
) -> None:
    pat = M.chars("abcdefghijklmnopqrstuvwxyz234567", 52)
    amp = M.alnum(4) + "&" + M.alnum(6) + "^" + M.alnum(3)
    filled = text.format(token=M.alnum(48), pat=pat, amp=amp)
    assert rule_ids(filled, path) == [rule_id], filled


@pytest.mark.parametrize(
    "line",
    [
        "    :param client_secret: Client Secret, which you get from registration.",
        "    PRIVATE_KEY_CLS = RSAPrivateKeyWithSerialization",
        "    token_cls = JWTBearerToken",
        "    secret_key = ConfigValue(credentials.secret_key,",
        "    secret_key = upload_credentials['SecretAccessKey']",
        '    downgrade_token="%s_downgrades" % name,',
        "--config PasswordVerifier=" + b64("MyVerifierString").rstrip("="),
        '"KmsKeyArn": "arn:aws:kms:us-west-2:123456789012:key/0a1b2c3d"',
        '"AuthKey": "0x123456789abcdef0"',
        '"Token": "abcd1234-efgh-5678"',
        "AccessKeyId=ABCDE12345670EXAMPLE, SecretAccessKey=DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9X=",
    ],
)
def test_code_names_resource_names_and_documentation_samples_are_decoys(line: str) -> None:
    assert rule_ids(line, "src/module.py") == [], line


def test_base64_keys_starting_with_a_slash_are_not_paths() -> None:
    key = "/" + M.alnum(30) + "/" + M.alnum(11) + "="
    assert rule_ids(f"encryption_key = {key}", "conf/app.ini") == ["generic-secret-assignment"]
    assert rule_ids("encryption_key_path = /etc/keys/etl.key", "conf/app.ini") == []
    assert rule_ids("encryption_key = /etc/keys/etl", "conf/app.ini") == []


@pytest.mark.parametrize(
    "line",
    [
        '"STATIC_TOKEN": _AsyncStaticFieldProviderBuilder,',
        'secret_key = ConfigAttribute[t.Union[str, bytes, None]]("SECRET_KEY")',
    ],
)
def test_type_and_class_names_are_not_secrets(line: str) -> None:
    assert rule_ids(line, "src/module.py") == [], line
