# temporal-dsql-server: a temporal-server built outside Docker, packaged the way Temporal's own current server
# images are: the build copies prebuilt binaries for the target architecture instead of compiling, so this one
# file packages upstream temporal-server built from Go modules (`make image`) and the DSQL fork built from a
# checkout (scripts/build-temporal-dsql.sh, amd64 or arm64). Debian bookworm; binaries in /usr/local/bin;
# user `temporal` (uid 1000); schema files under /etc/temporal/schema.
#
# Build context (staged by scripts/build-images.sh):
#   <arch>/temporal-server, <arch>/temporal-sql-tool[, <arch>/temporal-dsql-tool]   (arch: amd64, arm64)
#   schema/                                                                          (the server's schema tree)
#
#   DOCKER_BUILDKIT=1 docker build --platform linux/arm64 -f docker/server.Dockerfile -t temporal-dsql-server CONTEXT
#
# BASE_IMAGE defaults to Debian's official slim image at a pinned release; where no registry answers, tests and
# `make image` pass a local bookworm image made by scripts/build-base-image.sh.

ARG BASE_IMAGE=debian:bookworm-20260202-slim

FROM ${BASE_IMAGE}
ARG TARGETARCH
# Unpinned on purpose: certificates and zone data should be the newest of the base's Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 1000 temporal \
    && useradd --uid 1000 --gid temporal --no-create-home --home-dir /etc/temporal --shell /usr/sbin/nologin temporal
COPY ${TARGETARCH}/ /usr/local/bin/
COPY schema /etc/temporal/schema
LABEL org.opencontainers.image.title="temporal-dsql-server" \
      org.opencontainers.image.description="temporal-server (upstream or the Aurora DSQL fork), prebuilt binaries on Debian"
USER 1000:1000
WORKDIR /etc/temporal
ENTRYPOINT ["temporal-server"]
