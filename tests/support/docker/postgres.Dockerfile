# PostgreSQL 15 from Debian bookworm for the services stack's CI override (docker-compose.services-ci.yml):
# TLS on, the superuser's password from a Compose secret, initdb without a locale (server encoding SQL_ASCII,
# as the stock images give in a container without one). Built on the same local Debian base as the images.

ARG BASE_IMAGE=debian:bookworm-20260202-slim
FROM ${BASE_IMAGE}
# Unpinned on purpose: the newest PostgreSQL 15 of the base's Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["postgres-entrypoint"]
