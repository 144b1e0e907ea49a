# token-authority in a container. Build: docker build -t token-authority .
# Run:   docker run -p 9443:9443 -v token-authority-data:/srv/token-authority/data token-authority
# The migrations are compiled into the binary; data/ (database and key file) is the volume.
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
COPY migrations migrations
RUN swift build -c release --product token-authority --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/token-authority" /usr/local/bin/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /srv/token-authority --create-home token-authority
COPY --from=build /usr/local/bin/token-authority /usr/local/bin/token-authority
COPY deployment.toml /srv/token-authority/deployment.toml
WORKDIR /srv/token-authority
USER token-authority
VOLUME /srv/token-authority/data
EXPOSE 9443
STOPSIGNAL SIGTERM
ENTRYPOINT ["token-authority"]
CMD ["serve"]
