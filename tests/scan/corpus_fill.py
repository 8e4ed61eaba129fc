"""Ordinary lines of each kind of file, placed between the plants so that most of every
file is what such files hold."""

from __future__ import annotations

YAML_FILL = [
    "  log_level: info",
    "  timeout_seconds: 30",
    "  retries: 3",
    "  region: eu-west-1",
    "  pool_size: 20",
    "  enable_tracing: true",
    "  cache_ttl: 300",
    "  metrics_port: 9102",
    "  # rotate quarterly, see docs/runbooks/rotation.md",
    "  batch_size: 500",
    "  feature_flags: [checkout_v2, async_refunds]",
    "  max_body_bytes: 1048576",
]
ENV_FILL = [
    "LOG_LEVEL=info",
    "PORT=8080",
    "WORKERS=4",
    "TZ=UTC",
    "FEATURE_ASYNC_REFUNDS=true",
    "# local overrides go in .env.local",
    "CACHE_TTL=300",
    "REQUEST_TIMEOUT=30",
    "NODE_ENV=production",
    "PYTHONUNBUFFERED=1",
]
PY_FILL = [
    "DEBUG = False",
    'ALLOWED_HOSTS = ["localhost"]',
    'TIME_ZONE = "UTC"',
    "USE_TZ = True",
    "PAGE_SIZE = 50",
    "# keep in sync with the Helm chart",
    "RETRY_BACKOFF = (1, 2, 4, 8)",
    'LOGGING_LEVEL = "INFO"',
    "CACHE_TTL_SECONDS = 300",
]
JS_FILL = [
    "  port: 8080,",
    '  logLevel: "info",',
    "  retries: 3,",
    "  // see README for overrides",
    "  timeoutMs: 30000,",
    '  featureFlags: ["checkoutV2"],',
    '  region: "eu-west-1",',
]
JAVA_FILL = [
    "    private static final int POOL_SIZE = 20;",
    "    private static final Duration TIMEOUT = Duration.ofSeconds(30);",
    "    // values overridden by the environment in production",
    '    private static final String REGION = "eu-west-1";',
]
GO_FILL = [
    '\tdefaultPort = "8080"',
    '\tlogLevel = "info"',
    "\t// overridden by flags",
    '\tregion = "eu-west-1"',
]
SCALA_FILL = [
    "  val poolSize = 20",
    '  val region = "eu-west-1"',
    "  // spark settings live in spark-defaults.conf",
    "  val batchInterval = 30",
]
SH_FILL = [
    "set -euo pipefail",
    'echo "deploying $SERVICE"',
    'cd "$(dirname "$0")/.."',
    "# idempotent: safe to re-run",
    "export AWS_REGION=eu-west-1",
    "make build",
]
INI_FILL = [
    "timeout = 30",
    "retries = 3",
    "log_level = INFO",
    "; values for the staging stack",
    "pool_size = 10",
]
PROPERTIES_FILL = [
    "server.port=8080",
    "spring.jpa.hibernate.ddl-auto=validate",
    "logging.level.root=INFO",
    "# overridden per environment",
    "spring.datasource.hikari.maximum-pool-size=20",
    "management.endpoints.web.exposure.include=health,info",
]
TF_FILL = [
    '  region = "eu-west-1"',
    '  instance_class = "db.r6g.large"',
    "  # managed by the platform team",
    "  multi_az = true",
    "  backup_retention_period = 7",
]
LOG_FILL = [
    "INFO  http request method=GET path=/health status=200 duration_ms=3",
    "INFO  worker started pid=4213",
    "WARN  slow query duration_ms=1240 table=orders",
    "INFO  http request method=POST path=/v1/refunds status=201 duration_ms=48",
    "DEBUG cache miss key=report:daily",
    "INFO  scheduler tick jobs=12",
]
MD_FILL = [
    "",
    "The service reads its settings from the environment; see the table below.",
    "Ask in #platform-help before changing shared values.",
    "",
    "Run `make dev` to start it locally.",
]
SQL_FILL = [
    "CREATE INDEX IF NOT EXISTS orders_created_at ON orders (created_at);",
    "-- seed data for the staging database",
    "UPDATE app_settings SET value = '30' WHERE name = 'timeout';",
    "ANALYZE orders;",
]
XML_FILL = [
    '    <add key="Region" value="eu-west-1" />',
    '    <add key="PageSize" value="50" />',
    "    <!-- production values come from Key Vault -->",
    '    <add key="Retries" value="3" />',
]
COMPOSE_FILL = ["      LOG_LEVEL: info", "      TZ: UTC", '      WORKERS: "4"']
