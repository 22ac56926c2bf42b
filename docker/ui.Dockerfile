# temporal-dsql-ui: the Temporal Web UI server (github.com/temporalio/ui-server/v2, which embeds the built UI),
# prebuilt outside Docker like the server image, with the module's own config/ files. It reads the same
# variables as the temporalio/ui image (TEMPORAL_ADDRESS, TEMPORAL_CORS_ORIGINS, TEMPORAL_UI_PORT, ...) through
# config/docker.yaml.
#
# Build context (staged by scripts/build-images.sh --ui-server ... --ui-config ...):
#   <arch>/ui-server   config/base.yaml, config/docker.yaml

ARG BASE_IMAGE=debian:bookworm-20260202-slim

FROM ${BASE_IMAGE}
ARG TARGETARCH
COPY ${TARGETARCH}/ui-server /usr/local/bin/ui-server
COPY config /etc/temporal-ui/config
LABEL org.opencontainers.image.title="temporal-dsql-ui" \
      org.opencontainers.image.description="Temporal Web UI server, prebuilt binary on Debian"
USER 1000:1000
WORKDIR /etc/temporal-ui
EXPOSE 8080
ENTRYPOINT ["ui-server", "--root", "/etc/temporal-ui", "--env", "docker", "start"]
