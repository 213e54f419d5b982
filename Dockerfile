# Multi-stage build: compile in the Rust image, run in a slim Debian image as
# a non-root user. No protoc is needed: build.rs parses the protos with protox.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY proto proto
COPY migrations migrations
COPY reference reference
COPY src src
RUN cargo build --release --locked --bin claimscrub

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin claimscrub
COPY --from=build /src/target/release/claimscrub /usr/local/bin/claimscrub
USER 10001
# MIMALLOC_PURGE_DELAY=0: mimalloc hands freed pages back at once; the
# catalog load's transient peak then does not stay resident (BENCHMARKS.md:
# 195 -> 149 MB idle with every official release, with the binary's no_thp).
ENV CLAIMSCRUB_LISTEN=0.0.0.0:50051 \
    CLAIMSCRUB_LOG_FORMAT=json \
    MIMALLOC_PURGE_DELAY=0
EXPOSE 50051
# Asks the server's own gRPC health service (grpc.health.v1.Health/Check).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["claimscrub", "health-check", "--address", "127.0.0.1:50051"]
ENTRYPOINT ["claimscrub"]
CMD ["serve"]
