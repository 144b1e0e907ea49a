import ArgumentParser
import Foundation
import NIOCore
import TokenAuthorityServer

/// `token-authority health`: a liveness probe of the running server, the container image's
/// HEALTHCHECK (README, "Container image"). It asks `GET /health` on this machine and exits 0 only
/// for 200 with `"status":"ok"`; anything else is one line on stderr and a non-zero exit.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask the running server's GET /health: exit 0 when it answers 200 with \"status\":\"ok\".",
        discussion: """
            The target is 127.0.0.1 (or [server] hostname when it names one address) on [server] port, \
            over HTTPS without certificate verification when [server.tls] is enabled, plain HTTP otherwise.
            """)

    @OptionGroup var options: ConfigOption

    @Option(help: "The URL to ask instead, e.g. http://127.0.0.1:9443/health (an empty path means /health).")
    var url: String?

    @Option(help: "Seconds to wait for the whole answer, connection included.")
    var timeout: Double = 5

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be more than 0 and at most 3600 seconds") }
    }

    func run() async throws {
        let target: HealthProbe.Target
        do {
            target = try url.map(HealthProbe.Target.init(url:)) ?? configuredTarget()
        } catch let error as CommandError {
            printError("token-authority health: \(error)")
            throw ExitCode.failure
        }
        let reply: HealthProbe.Reply
        do {
            reply = try await HealthProbe.get(target, timeout: .nanoseconds(Int64(timeout * 1_000_000_000)))
        } catch {
            printError("token-authority health: \(target): \(HealthProbe.describe(error, timeout: timeout))")
            throw ExitCode.failure
        }
        let body = reply.body.count > 200 ? String(reply.body.prefix(200)) + "..." : reply.body
        guard reply.status == 200, reply.saysOK else {
            printError("token-authority health: \(target) answered \(reply.status) \(body)")
            throw ExitCode.failure
        }
        // Docker keeps a probe's output in `docker inspect`.
        print("\(target): \(reply.status) \(body)")
    }

    /// `[server]` of the configuration. Its warnings are `serve`'s to log, not every probe's.
    private func configuredTarget() throws -> HealthProbe.Target {
        let server = try options.loadWithWarnings().configuration.server
        guard server.port != 0 else { throw CommandError("[server] port is 0 (a port chosen at start): pass --url") }
        // A wildcard address is reached on the loopback; an address of its own, there.
        let host = ["", "0.0.0.0", "::", "[::]"].contains(server.hostname) ? "127.0.0.1" : server.hostname
        return HealthProbe.Target(tls: server.tls.enabled, host: host, port: server.port, path: "/health")
    }
}
