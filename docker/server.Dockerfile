# syntax=docker/dockerfile:1
#
# temporal-dsql: the DSQL fork's temporal-server built from a local checkout, laid out like Temporal's official
# temporalio/server image (Alpine; binaries in /usr/local/bin; user `temporal`, uid 1000). It is the base of
# docker/Dockerfile. The build context is the fork's checkout; scripts/build-temporal-dsql.sh runs:
#
#   docker buildx build --platform linux/arm64 -f docker/server.Dockerfile -t temporal-dsql:latest ../temporal-dsql
#
# Go cross-compiles on the build machine's own platform (no emulation); only the small final stage runs as the
# target platform. Ships temporal-server, temporal-sql-tool, the fork's DSQL tool when it has one
# (cmd/tools/dsql), and the schema files under /etc/temporal/schema.

ARG GO_VERSION=1.26
ARG ALPINE_VERSION=3.22

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    export GOOS="$TARGETOS" GOARCH="$TARGETARCH" \
    && go build -trimpath -o /out/temporal-server ./cmd/server \
    && go build -trimpath -o /out/temporal-sql-tool ./cmd/tools/sql \
    && if [ -d cmd/tools/dsql ]; then go build -trimpath -o /out/temporal-dsql-tool ./cmd/tools/dsql; fi

FROM alpine:${ALPINE_VERSION}
# Unpinned on purpose: certificates and zone data should be the newest of this Alpine release.
# hadolint ignore=DL3018
RUN apk add --no-cache ca-certificates tzdata \
    && addgroup -g 1000 temporal \
    && adduser -u 1000 -G temporal -D temporal
COPY --from=build /out/ /usr/local/bin/
COPY --from=build /src/schema /etc/temporal/schema
LABEL org.opencontainers.image.title="temporal-dsql" \
      org.opencontainers.image.description="temporal-server built from the Aurora DSQL fork"
USER 1000:1000
WORKDIR /etc/temporal
ENTRYPOINT ["temporal-server"]
