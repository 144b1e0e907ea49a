# token-authority in a container.
#   docker build -t token-authority .
#   docker run -d --name token-authority -p 9443:9443 -v token-authority-data:/data token-authority
# /data is the volume: database, token key, JWT keys, TLS pair. The migrations are compiled into the
# binary. scripts/image-proof proves the runtime stage without Docker (README, "Container image"); it
# greps a few lines whole: the `RUN swift build` line, the runtime `apt-get install` line, the `groupadd`
# line, the COPYs, WORKDIR, USER, HEALTHCHECK, STOPSIGNAL, ENTRYPOINT and CMD (Tests/EndToEndTests/ImageTests.swift).

# ---- build: the release binary, Swift standard library and Foundation linked statically
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Package.resolved is optional (a fresh clone has none): the glob keeps COPY from failing without it.
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY Sources Sources
# SwiftPM wants every target's folder, the test targets' too, to load the manifest.
COPY Tests Tests
RUN swift build -c release --product token-authority --static-swift-stdlib
# Without the DWARF debug sections (183 MB -> 115 MB); the symbol table stays, so backtraces keep their names.
RUN install -D -m 0755 "$(swift build -c release --show-bin-path)/token-authority" /out/token-authority && strip --strip-debug /out/token-authority

# ---- runtime: slim Debian, the binary and exactly what `ldd` says it needs beyond libc (image-proof checks)
FROM debian:bookworm-slim
# libstdc++6 and libgcc-s1 are in slim Debian already; listed so the image does not lean on that.
RUN apt-get update && apt-get install -y --no-install-recommends libgcc-s1 libsqlite3-0 libstdc++6 && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid/gid, so bind-mounted host folders can be chowned to it and runAsNonRoot can check it.
# The working directory is root's and read-only to the server; its data/ (the shipped deployment.toml's
# relative paths) is a link to the volume, which the user owns (a new named volume copies that ownership).
RUN groupadd --gid 10001 token-authority && useradd --uid 10001 --gid token-authority --home-dir /srv/token-authority --no-create-home --shell /usr/sbin/nologin token-authority && install -d -m 0755 -o root -g root /srv/token-authority && install -d -m 0700 -o token-authority -g token-authority /data && ln -s /data /srv/token-authority/data
COPY --from=build /out/token-authority /usr/local/bin/token-authority
COPY deployment.toml /srv/token-authority/deployment.toml
WORKDIR /srv/token-authority
USER 10001:10001
VOLUME /data
EXPOSE 9443
# GET /health on 127.0.0.1 at ./deployment.toml's port, HTTPS unverified or plain HTTP as [server.tls] says.
# A configuration elsewhere: --health-cmd 'token-authority health --config /config/deployment.toml'.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["token-authority", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["token-authority"]
CMD ["serve"]
