# Steward's container image: `docker build -t steward .` then
# `docker run -p 5000:5000 -v steward:/var/lib/steward steward` (embedded SQLite store), or
# with `-e STEWARD_DATABASE_URL=postgresql+psycopg://...` for PostgreSQL. docs/deploy.md.

# Build the wheel in its own stage, so the image holds no build tools or sources.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="steward" \
      org.opencontainers.image.description="Data governance and lineage: catalog, lineage, access control, audit" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STEWARD_HOME=/var/lib/steward \
    STEWARD_HOST=0.0.0.0 \
    STEWARD_PORT=5000
COPY --from=build /wheels /wheels
# The wheel's extras: PostgreSQL for the store, Trino for Trino catalog sources. DL3013
# asks to pin versions: the one package installed is the wheel just built, and its
# dependencies are pinned by the lower bounds in pyproject.toml like any pip install.
# hadolint ignore=DL3013
RUN WHEEL="$(ls /wheels/*.whl)" \
    && pip install --no-cache-dir "${WHEEL}[postgres,trino]" \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /var/lib/steward --create-home steward
USER 10001
WORKDIR /var/lib/steward
VOLUME ["/var/lib/steward"]
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['STEWARD_PORT']}/health/ready\", timeout=4)"]
ENTRYPOINT ["steward"]
CMD ["serve"]
