import Foundation
import Testing
import TokenAuthorityTesting

// The container image (README, "Container image"): the Dockerfile's load-bearing lines as text
// (scripts/image-proof runs them), and `token-authority health`, its HEALTHCHECK.

@Suite("Container image and health", .serialized)
struct ImageTests {
    @Test("The Dockerfile's load-bearing lines")
    func dockerfile() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Dockerfile")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        for line in [
            "FROM swift:6.3-bookworm AS build",
            "RUN swift build -c release --product token-authority --static-swift-stdlib",
            "FROM debian:bookworm-slim",
            "COPY --from=build /out/token-authority /usr/local/bin/token-authority",
            "USER 10001:10001",
            "VOLUME /data",
            "EXPOSE 9443",
            "STOPSIGNAL SIGTERM",
            #"ENTRYPOINT ["token-authority"]"#,
            #"CMD ["serve"]"#,
        ] {
            #expect(lines.contains(line), "no line \(line)")
        }
        // The probe is the binary itself: no curl, no shell.
        let healthcheck = lines.filter { $0.hasPrefix("HEALTHCHECK ") }
        #expect(healthcheck.count == 1 && healthcheck[0].hasSuffix(#" CMD ["token-authority", "health"]"#), "\(healthcheck)")
        // The runtime stage's packages: what `ldd` says the binary needs beyond libc6, which image-proof checks.
        let runtime = lines.drop { !$0.hasPrefix("FROM debian:") }
        let install = try #require(runtime.first { $0.contains("apt-get install") })
        let packages = install.components(separatedBy: "--no-install-recommends ").last?.components(separatedBy: " && ").first
        #expect(packages == "libgcc-s1 libsqlite3-0 libstdc++6", "\(install)")
    }

    @Test("health exits 0 over HTTPS, reading the port and TLS from the configuration, or with --url")
    func healthOverHTTPS() async throws {
        try await Deployment.withServer(config: deploymentConfig(tls: true)) { server in
            // Given a running HTTPS server and a configuration naming its port, bound to every address
            let deployment = server.deployment
            let config = try probeConfig(deployment, port: server.port, tls: true)

            // When `health` runs with it, and with --url naming localhost
            let configured = try await health(deployment, ["--config", config])
            let byURL = try await health(deployment, ["--url", "https://localhost:\(server.port)/health"])

            // Then both exit 0 without verifying the self-signed certificate
            #expect(configured.status == 0 && configured.stdout.contains("https://127.0.0.1:\(server.port)/health: 200"), "\(configured)")
            #expect(byURL.status == 0, "\(byURL)")
            // And another status is a failure, in one line naming it
            let notFound = try await health(deployment, ["--url", "https://127.0.0.1:\(server.port)/nowhere"])
            #expect(notFound.status != 0)
            #expect(notFound.stderr.split(separator: "\n").count == 1 && notFound.stderr.contains("answered 404"), "\(notFound)")
        }
    }

    @Test("health exits 0 over plain HTTP, and fails in one line once nothing listens")
    func healthOverHTTP() async throws {
        try await Deployment.with(config: deploymentConfig(tls: false)) { deployment in
            // Given a running plain-HTTP server and a configuration naming its port
            let port = try await deployment.withServer { server in
                #expect(!server.usesTLS)
                let config = try probeConfig(deployment, port: server.port, tls: false)

                // When `health` runs, then it exits 0
                let result = try await health(deployment, ["--config", config])
                #expect(result.status == 0 && result.stdout.contains("http://127.0.0.1:\(server.port)/health: 200"), "\(result)")
                return server.port
            }

            // When the server has stopped, then `health` fails with one line saying so
            let refused = try await health(deployment, ["--config", "probe.toml", "--timeout", "2"])
            #expect(refused.status != 0)
            #expect(refused.stdout.isEmpty)
            #expect(
                refused.stderr == "token-authority health: http://127.0.0.1:\(port)/health: connection refused\n", "\(refused)")
        }
    }

    /// A deployment.toml for the probe: the server's port, every address, as the shipped file has it.
    private func probeConfig(_ deployment: Deployment, port: Int, tls: Bool) throws -> String {
        let text = "[server]\nhostname = \"0.0.0.0\"\nport = \(port)\n\n[server.tls]\nenabled = \(tls)\n"
        try text.write(toFile: deployment.directory.file("probe.toml"), atomically: true, encoding: .utf8)
        return "probe.toml"
    }

    /// `token-authority health ARGUMENTS` in the deployment's folder (without the harness's --config).
    private func health(_ deployment: Deployment, _ arguments: [String]) async throws -> CommandResult {
        try await deployment.runProgram(ServerProcess.executable, ["health"] + arguments, timeout: .seconds(30))
    }
}
