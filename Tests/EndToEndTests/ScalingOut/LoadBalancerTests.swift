import Foundation
import Testing
import TokenAuthorityTesting

/// README, "Scaling out": nginx (Debian's package) terminating TLS and sending requests
/// round-robin to two instances on one PostgreSQL database, with the seed's curl commands
/// run through it as written (but for the port).
extension MultiInstanceTests {
    @Test(
        "nginx round-robin over two instances: the seed's token curl twice gets one reused token, and its introspection curl finds it active",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx")))
    func seedCurlsThroughNginx() async throws {
        try await withInstances(2) { url, servers in
            let deployment = servers[0].deployment
            let nginx = try await Nginx.start(in: deployment, upstreams: servers.map(\.port))
            do {
                try await seedCurls(deployment, port: nginx.port, url: url, servers: servers)
                try await nginx.stop()
            } catch {
                try? await nginx.stop()
                throw error
            }
        }
    }

    private func seedCurls(_ deployment: Deployment, port: Int, url: String, servers: [ServerProcess]) async throws {
        // Given a client set up with the CLI, and the super admin admin/admin of the config
        let client = try await deployment.createClient()
        let basic = Data("\(client.id):\(client.secret)".utf8).base64EncodedString()
        func runSeed(_ seed: String, _ placeholders: [String: String]) async throws -> HTTPReply {
            var command = seed.replacingOccurrences(of: "https://localhost:9443", with: "https://localhost:\(port)")
            for (placeholder, value) in placeholders { command = command.replacingOccurrences(of: placeholder, with: value) }
            let result = try await deployment.curl(command)
            // curl's stderr, but for the request headers (the credentials), says what went wrong
            let verbose = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("> ") }.joined(separator: "\n")
            let reply = HTTPReply(curl: result)
            #expect(result.status == 0 && (reply.status != 0 || !command.contains(" -v ")), "curl exited \(result.status)\n\(verbose)")
            return reply
        }
        // When the seed's sample request runs twice through nginx, so once on each instance
        let first = try await runSeed(Seed004.sampleRequest, ["<base64encoded clientId:clientSecrect>": basic])
        let second = try await runSeed(Seed004.sampleRequest, ["<base64encoded clientId:clientSecrect>": basic])
        // Then both get 200 with the same token: the reuse rule holds across instances
        #expect(first.status == 200 && second.status == 200, "\(first) \(second)")
        #expect(first.members == ["access_token", "refresh_token", "scope", "token_type", "expires_in", "id_token"], "\(first)")
        let accessToken = try #require(first.accessToken)
        #expect(second.accessToken == accessToken)
        // And each instance served one of them (nginx's round robin), the second reusing the first's row
        #expect(servers.allSatisfy { log(of: $0).contains("/oauth2/token") }, "a request log without the token endpoint")
        let rows = try await TestPostgres.psql(url, "SELECT count(*) FROM access_tokens WHERE client_id = '\(client.id)'")
        #expect(rows == "1")

        // When the introspection curl runs on that token, its missing space restored, twice
        let introspection = Seed004.introspection.replacingOccurrences(of: "'https://", with: "' https://")
        for _ in 0..<2 {
            let answer = try await runSeed(introspection, ["<access token from 1st token API call>": accessToken])
            // Then the super admin learns from either instance that the token is active, and whose it is
            #expect(answer["active"]?.bool == true, "\(answer)")
            #expect(answer.string("username") == "admin" && answer.string("client_id") == client.id, "\(answer)")
        }
    }
}

/// nginx run from a folder of the deployment, as an unprivileged operator could: TLS on a
/// free port of 127.0.0.1 with a self-signed certificate, `proxy_pass` round-robin.
struct Nginx {
    let deployment: Deployment
    let prefix: String
    let port: Int

    static func start(in deployment: Deployment, upstreams: [Int]) async throws -> Nginx {
        let prefix = deployment.directory.file("nginx")
        try FileManager.default.createDirectory(atPath: prefix + "/logs", withIntermediateDirectories: true)
        try await deployment.makeCertificate("nginx/tls.crt", key: "nginx/tls.key")
        let port = try freeLoopbackPort()
        let servers = upstreams.map { "        server 127.0.0.1:\($0);" }.joined(separator: "\n")
        let config = """
            pid \(prefix)/nginx.pid;
            error_log \(prefix)/logs/error.log warn;
            worker_processes 1;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(prefix)/body;
                proxy_temp_path \(prefix)/proxy;
                upstream token_authority {
            \(servers)
                }
                server {
                    listen 127.0.0.1:\(port) ssl;
                    ssl_certificate \(prefix)/tls.crt;
                    ssl_certificate_key \(prefix)/tls.key;
                    location / {
                        proxy_pass http://token_authority;
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    }
                }
            }
            """
        try config.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
        let started = await runShell("/usr/sbin/nginx -p '\(prefix)' -c '\(prefix)/nginx.conf'")
        guard started.status == 0 else { throw HarnessError("nginx did not start: \(started.output)") }
        return Nginx(deployment: deployment, prefix: prefix, port: port)
    }

    func stop() async throws {
        let stopped = await runShell("/usr/sbin/nginx -p '\(prefix)' -c '\(prefix)/nginx.conf' -s stop")
        guard stopped.status == 0 else { throw HarnessError("nginx -s stop: \(stopped.output)") }
    }
}
