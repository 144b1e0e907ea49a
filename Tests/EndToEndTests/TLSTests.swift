import Crypto
import Foundation
import HTTPTypes
import NIOSSL
import Testing
import TokenAuthorityTesting

// HTTPS (README, "Configuration: `deployment.toml`", [server.tls]): a self-signed pair generated on
// first start and reused afterwards, configured PEM files used as given, clear start-up errors for
// a broken pair, plain HTTP only when disabled, and the seed's curl commands with -k.

/// Where `[server.tls]` puts the pair by default, relative to the deployment's folder.
let defaultCertificate = "data/tls/server.crt"
let defaultPrivateKey = "data/tls/server.key"

/// Serialized: each test starts servers on fresh deployments, and the whole end-to-end
/// suite runs in parallel on small machines.
@Suite("HTTPS", .serialized)
struct TLSTests {
    @Test("A first start generates a 0600 self-signed pair and logs its SHA-256 fingerprint")
    func generatesPair() async throws {
        // Given a fresh deployment with TLS on and neither certificate nor key
        try await Deployment.withServer(config: deploymentConfig(tls: true)) { server in
            // When the server has started
            let deployment = server.deployment

            // Then it listens on https, with both files owner-only in an owner-only folder
            #expect(server.usesTLS)
            #expect(try permissions(deployment.directory.file(defaultCertificate)) == 0o600)
            #expect(try permissions(deployment.directory.file(defaultPrivateKey)) == 0o600)
            #expect(try permissions(deployment.directory.file("data/tls")) == 0o700)
            // And the log says so, with the SHA-256 of the certificate's DER
            #expect(log(of: server).contains("generated a self-signed certificate"), "\(log(of: server))")
            let fingerprint = try #require(loggedFingerprint(server), "\(log(of: server))")
            #expect(fingerprint == (try fingerprintOfPEM(at: deployment.directory.file(defaultCertificate))))
            // And the certificate is ECDSA P-256, for localhost and 127.0.0.1
            let text = try await deployment.openssl(["x509", "-in", defaultCertificate, "-noout", "-text"])
            #expect(text.contains("prime256v1"), "\(text)")
            #expect(text.contains("DNS:localhost"), "\(text)")
            #expect(text.contains("IP Address:127.0.0.1"), "\(text)")

            // And a client that verifies nothing, like curl -k, is served
            let health = try await server.health()
            #expect(health.status == 200, "\(health)")
            let client = try await deployment.createClient()
            let token = try await server.clientCredentials(client)
            #expect(token.status == 200, "\(token)")
            #expect(token.string("access_token")?.isEmpty == false)
        }
    }

    @Test("A client pinning the generated certificate connects; one pinning another certificate does not")
    func pinning() async throws {
        try await Deployment.withServer(config: deploymentConfig(tls: true)) { server in
            // Given a server with its generated certificate, and an unrelated certificate for localhost
            let deployment = server.deployment
            try await deployment.makeCertificate("other/server.crt", key: "other/server.key")

            // When a fully verifying client trusts only the generated certificate
            let pinned = try await server.request(
                .get, "/health", tls: try pinnedTLS(deployment.directory.file(defaultCertificate)))

            // Then it is served: the certificate verifies for "localhost" on its own, as it does for curl --cacert
            #expect(pinned.status == 200, "\(pinned)")
            let url = "https://localhost:\(server.port)/health"
            let curlPinned = try await deployment.curl("curl -s --cacert \(defaultCertificate) \(url)")
            #expect(curlPinned.status == 0 && curlPinned.stdout.contains("ok"), "\(curlPinned)")

            // When a fully verifying client trusts only the other certificate
            // Then the connection fails (the handshake error may surface as a closed channel)
            await #expect(throws: (any Error).self) {
                try await server.request(.get, "/health", tls: try pinnedTLS(deployment.directory.file("other/server.crt")))
            }
            // And curl says the peer certificate cannot be authenticated (exit status 60)
            let curlOther = try await deployment.curl("curl -s --cacert other/server.crt \(url)")
            #expect(curlOther.status == 60, "\(curlOther)")
        }
    }

    @Test("A restart reuses the generated pair")
    func restartReusesPair() async throws {
        try await Deployment.with(config: deploymentConfig(tls: true)) { deployment in
            // Given a server that generated its pair and was stopped
            let first = try await deployment.withServer { server in try #require(loggedFingerprint(server)) }
            let files = try snapshot(deployment, [defaultCertificate, defaultPrivateKey])

            // When it starts again
            try await deployment.withServer { server in
                // Then it serves the same certificate, which the log names as configured, not generated
                #expect(loggedFingerprint(server) == first, "\(log(of: server))")
                #expect(!log(of: server).contains("generated a self-signed certificate"))
                let pinned = try await server.request(
                    .get, "/health", tls: try pinnedTLS(deployment.directory.file(defaultCertificate)))
                #expect(pinned.status == 200, "\(pinned)")
            }
            // And neither file was rewritten
            #expect(try snapshot(deployment, [defaultCertificate, defaultPrivateKey]) == files)
        }
    }

    /// An openssl key type, and whether the key file is converted to its traditional format.
    struct KeyKind: Sendable, CustomTestStringConvertible {
        var algorithm: String
        var traditional: Bool
        var testDescription: String { "\(algorithm)\(traditional ? ", traditional PEM" : ", PKCS#8 PEM")" }
    }

    @Test(
        "Configured PEM files are served as given",
        arguments: [
            KeyKind(algorithm: "ec", traditional: false), KeyKind(algorithm: "ec", traditional: true),
            KeyKind(algorithm: "rsa", traditional: false), KeyKind(algorithm: "rsa", traditional: true),
        ])
    func configuredPair(_ kind: KeyKind) async throws {
        let config = deploymentConfig(tls: true).replacingOccurrences(
            of: "enabled = true", with: "enabled = true\ncertificate = \"pki/server.crt\"\nprivate_key = \"pki/server.key\"")
        try await Deployment.with(config: config) { deployment in
            // Given a pair made with openssl at the configured paths
            let key = kind.traditional ? "pki/pkcs8.key" : "pki/server.key"
            try await deployment.makeCertificate("pki/server.crt", key: key, algorithm: kind.algorithm)
            if kind.traditional {
                try await deployment.openssl(["pkey", "-in", key, "-out", "pki/server.key", "-traditional"])
                #expect(try deployment.text("pki/server.key").hasPrefix("-----BEGIN \(kind.algorithm.uppercased()) PRIVATE KEY-----"))
            }
            let files = try snapshot(deployment, ["pki/server.crt", "pki/server.key"])

            // When the server starts
            try await deployment.withServer { server in
                // Then it logs that certificate's fingerprint and serves it
                #expect(log(of: server).contains("TLS certificate"), "\(log(of: server))")
                #expect(
                    loggedFingerprint(server) == (try fingerprintOfPEM(at: deployment.directory.file("pki/server.crt"))),
                    "\(log(of: server))")
                let pinned = try await server.request(
                    .get, "/health", tls: try pinnedTLS(deployment.directory.file("pki/server.crt")))
                #expect(pinned.status == 200, "\(pinned)")
            }
            // And it generated nothing and left the files as they were
            #expect(!FileManager.default.fileExists(atPath: deployment.directory.file("data/tls")))
            #expect(try snapshot(deployment, ["pki/server.crt", "pki/server.key"]) == files)
        }
    }

    /// What lies at the default certificate and key paths before a start that must fail.
    struct BrokenPair: Sendable, CustomTestStringConvertible {
        enum File: Sendable { case absent, certificateA, keyA, keyB, garbageCertificate, garbageKey }
        var name: String
        var certificate: File
        var key: File
        /// What the error must say, and the files it must name.
        var message: String
        var names: [String]
        var testDescription: String { name }
    }

    static let brokenPairs: [BrokenPair] = [
        BrokenPair(
            name: "a certificate without its key", certificate: .certificateA, key: .absent, message: "exists but",
            names: [defaultCertificate, defaultPrivateKey]),
        BrokenPair(
            name: "a key without its certificate", certificate: .absent, key: .keyA, message: "exists but",
            names: [defaultCertificate, defaultPrivateKey]),
        BrokenPair(
            name: "a certificate that is not one", certificate: .garbageCertificate, key: .keyA,
            message: "is not a PEM certificate", names: [defaultCertificate]),
        BrokenPair(
            name: "a key that is not one", certificate: .certificateA, key: .garbageKey,
            message: "is not a PEM private key", names: [defaultPrivateKey]),
        BrokenPair(
            name: "a key of another certificate", certificate: .certificateA, key: .keyB,
            message: "does not belong to certificate", names: [defaultCertificate, defaultPrivateKey]),
    ]

    @Test("A broken pair stops the start with an error naming the file", arguments: brokenPairs)
    func brokenPair(_ broken: BrokenPair) async throws {
        try await Deployment.with(config: deploymentConfig(tls: true)) { deployment in
            // Given the default paths holding a broken pair
            try await deployment.makeCertificate("a.crt", key: "a.key")
            try await deployment.makeCertificate("b.crt", key: "b.key")
            try FileManager.default.createDirectory(
                atPath: deployment.directory.file("data/tls"), withIntermediateDirectories: true)
            for (path, file) in [(defaultCertificate, broken.certificate), (defaultPrivateKey, broken.key)] {
                let contents: String? =
                    switch file {
                    case .absent: nil
                    case .certificateA: try deployment.text("a.crt")
                    case .keyA: try deployment.text("a.key")
                    case .keyB: try deployment.text("b.key")
                    case .garbageCertificate: "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n"
                    case .garbageKey: "-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n"
                    }
                try contents?.write(toFile: deployment.directory.file(path), atomically: true, encoding: .utf8)
            }
            let files = try snapshot(deployment, [defaultCertificate, defaultPrivateKey])

            // When the server is started
            let result = try await deployment.run(["serve"], timeout: .seconds(30))

            // Then it exits non-zero, saying what is wrong with which file, and serves nothing
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains(broken.message), "\(result)")
            for name in broken.names { #expect(result.stderr.contains(name), "\(result)") }
            #expect(!result.stdout.contains("listening"), "\(result)")
            // And no file was generated or overwritten, and the database was not touched
            #expect(try snapshot(deployment, [defaultCertificate, defaultPrivateKey]) == files)
            #expect(!FileManager.default.fileExists(atPath: deployment.databasePath))
        }
    }

    @Test("enabled = false serves plain HTTP and generates no certificate")
    func plainHTTP() async throws {
        // Given TLS disabled, as behind a TLS-terminating proxy
        try await Deployment.withServer(config: deploymentConfig(tls: false)) { server in
            // When a plain HTTP client calls
            let health = try await server.health()

            // Then it is served over http, and no pair was generated
            #expect(server.scheme == "http")
            #expect(health.status == 200, "\(health)")
            let curl = try await server.deployment.curl("curl -s http://localhost:\(server.port)/health")
            #expect(curl.status == 0 && curl.stdout.contains("ok"), "\(curl)")
            #expect(!FileManager.default.fileExists(atPath: server.deployment.directory.file("data/tls")))
            #expect(loggedFingerprint(server) == nil)
        }
    }

    @Test("With TLS on, plain HTTP is not served")
    func noPlainHTTPWithTLS() async throws {
        try await Deployment.withServer(config: deploymentConfig(tls: true)) { server in
            // Given a server with TLS on
            // When a client sends plain HTTP to its port
            let plain = try await server.deployment.curl("curl -s -m 10 http://localhost:\(server.port)/health")

            // Then it gets no answer, while the same request over HTTPS is served
            #expect(plain.status != 0, "\(plain)")
            #expect(!plain.stdout.contains("ok"), "\(plain)")
            let secure = try await server.deployment.curl("curl -s -k https://localhost:\(server.port)/health")
            #expect(secure.status == 0 && secure.stdout.contains("ok"), "\(secure)")
        }
    }
}

// MARK: - The seed's curl commands

/// Seed 004's commands, verbatim.
enum Seed004 {
    static let requestFormat = #"""
        curl -v -X POST -H "Authorization: Basic <base64encoded clientId:clientSecrect>" -k -d "grant_type=password&username=<username>&password=<password>&scope=<scope>" -H "Content-Type:application/x-www-form-urlencoded" https://localhost:9443/oauth2/token
        """#
    static let sampleRequest = #"""
        curl -v -X POST -H "Authorization: Basic <base64encoded clientId:clientSecrect>" -k -d "grant_type=password&username=admin&password=admin&scope=openid" -H "Content-Type:application/x-www-form-urlencoded" https://localhost:9443/oauth2/token
        """#
    /// As printed, the URL is glued to `--data`'s quoted argument, so the shell makes one word
    /// of both and curl has no URL ("no URL specified!"); the seed's one typo, a missing space.
    static let introspection = #"""
        curl -k -u admin:admin -H 'Content-Type: application/x-www-form-urlencoded' -X POST --data 'token=<access token from 1st token API call>'https://localhost:9443/oauth2/introspect
        """#
}

@Suite("HTTPS: the seed's curl commands")
struct SeedCurlTests {
    @Test("Seed 004's token and introspection curls work with -k, as written")
    func seed004() async throws {
        try await Deployment.withServer(config: deploymentConfig(tls: true)) { server in
            // Given a client and a user set up with the CLI, and the super admin admin/admin
            let deployment = server.deployment
            let client = try await deployment.createClient()
            let user = try await deployment.createUser(password: "seed-pass-42")
            let basic = Data("\(client.id):\(client.secret)".utf8).base64EncodedString()
            func runSeed(_ seed: String, _ placeholders: [String: String]) async throws -> (CommandResult, HTTPReply) {
                var command = seed.replacingOccurrences(of: "https://localhost:9443", with: "https://localhost:\(server.port)")
                for (placeholder, value) in placeholders { command = command.replacingOccurrences(of: placeholder, with: value) }
                let result = try await deployment.curl(command)
                return (result, HTTPReply(curl: result))
            }

            // When the request format runs with the user, a device scope and the client's credentials
            let (formatRun, format) = try await runSeed(
                Seed004.requestFormat,
                ["<base64encoded clientId:clientSecrect>": basic, "<username>": user, "<password>": "seed-pass-42", "<scope>": "device_ipad"])

            // Then curl gets 200 and the user's tokens for that scope
            #expect(formatRun.status == 0 && format.status == 200, "\(format) \(redacted(formatRun))")
            #expect(format.string("scope") == "device_ipad", "\(format)")
            #expect(format.string("access_token")?.isEmpty == false, "\(format)")

            // When the sample request runs
            let (sampleRun, sample) = try await runSeed(Seed004.sampleRequest, ["<base64encoded clientId:clientSecrect>": basic])

            // Then curl gets 200 and exactly the seed's members, for openid
            #expect(sampleRun.status == 0 && sample.status == 200, "\(sample) \(redacted(sampleRun))")
            #expect(sample.members == ["access_token", "refresh_token", "scope", "token_type", "expires_in", "id_token"], "\(sample)")
            #expect(sample.string("scope") == "openid")
            let accessToken = try #require(sample.string("access_token"))

            // When the introspection curl runs on that token, its missing space restored
            let introspection = Seed004.introspection.replacingOccurrences(of: "'https://", with: "' https://")
            let (introspectionRun, answer) = try await runSeed(
                introspection, ["<access token from 1st token API call>": accessToken])

            // Then the super admin learns that the token is active, and whose it is
            #expect(introspectionRun.status == 0, "\(redacted(introspectionRun))")
            #expect(answer["active"]?.bool == true, "\(answer)")
            #expect(answer.string("username") == "admin", "\(answer)")
            #expect(answer.string("scope") == "openid", "\(answer)")
            #expect(answer.string("client_id") == client.id, "\(answer)")
        }
    }
}

// MARK: - Helpers

/// A fully verifying client that trusts only the certificate in the PEM file at `path`.
func pinnedTLS(_ path: String) throws -> TLSConfiguration {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
    tls.certificateVerification = .fullVerification
    return tls
}

/// The server's output so far: its log and its "listening on" line.
func log(of server: ServerProcess) -> String {
    server.standardOutput + server.standardError
}

/// The `sha256_fingerprint=` the server logged, if any.
func loggedFingerprint(_ server: ServerProcess) -> String? {
    let output = log(of: server)
    guard let range = output.range(of: #"sha256_fingerprint=[0-9A-F:]+"#, options: .regularExpression) else { return nil }
    return String(output[range].dropFirst("sha256_fingerprint=".count))
}

/// SHA-256 of the DER of the first certificate in a PEM file, as `AB:CD:…`.
func fingerprintOfPEM(at path: String) throws -> String {
    let pem = try String(contentsOfFile: path, encoding: .utf8)
    let lines = pem.split(whereSeparator: \.isNewline)
    let begin = try #require(lines.firstIndex(of: "-----BEGIN CERTIFICATE-----"), "no certificate in \(path)")
    let end = try #require(lines[begin...].firstIndex(of: "-----END CERTIFICATE-----"), "unterminated PEM in \(path)")
    let der = try #require(Data(base64Encoded: lines[(begin + 1)..<end].joined()), "bad base64 in \(path)")
    return SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
}

/// A file's permission bits.
func permissions(_ path: String) throws -> Int {
    try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
}

/// The contents of `paths` in the deployment's folder, nil where a file is absent.
func snapshot(_ deployment: Deployment, _ paths: [String]) throws -> [String: Data?] {
    Dictionary(uniqueKeysWithValues: paths.map { ($0, FileManager.default.contents(atPath: deployment.directory.file($0))) })
}

/// curl's output without the request headers `-v` echoes (`> Authorization: ...`).
func redacted(_ result: CommandResult) -> String {
    let stderr = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("> ") }.joined(separator: "\n")
    return "exit status \(result.status)\n--- stdout\n\(result.stdout)\n--- stderr (request headers left out)\n\(stderr)"
}

extension HTTPReply {
    /// The answer `curl` printed: the body on stdout, the status from `-v`'s last `< HTTP/... CODE` line
    /// (0 without `-v`). The progress meter shares stderr and may leave an update without a line
    /// break just before it, so the status line is looked for anywhere, not at line starts.
    init(curl result: CommandResult) {
        let statusLine = result.stderr.ranges(of: /< HTTP\/[0-9.]+ ([0-9]{3})/).last.map { result.stderr[$0] }
        let status = statusLine.flatMap { $0.split(separator: " ").dropFirst(2).first }.flatMap { Int($0) } ?? 0
        self.init(status: status, headers: [:], body: result.stdout)
    }
}

extension Deployment {
    /// The text of a file in the folder.
    func text(_ path: String) throws -> String {
        try String(contentsOfFile: directory.file(path), encoding: .utf8)
    }

    /// Runs `/usr/bin/openssl ARGUMENTS` in the folder; a failure throws. Returns its stdout.
    @discardableResult
    func openssl(_ arguments: [String]) async throws -> String {
        let result = try await runProgram(URL(fileURLWithPath: "/usr/bin/openssl"), arguments)
        guard result.status == 0 else { throw HarnessError("openssl \(arguments.joined(separator: " "))\n\(result)") }
        return result.stdout
    }

    /// A self-signed pair for localhost and 127.0.0.1, made by openssl; `algorithm` is `ec` (P-256) or `rsa`.
    func makeCertificate(_ certificate: String, key: String, algorithm: String = "ec") async throws {
        for path in [certificate, key] {
            let folder = URL(fileURLWithPath: directory.file(path)).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let newKey = algorithm == "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", "rsa:2048"]
        try await openssl(
            ["req", "-x509"] + newKey + [
                "-nodes", "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
    }

    /// Runs a shell command line (a `curl` as a user would type it) in the folder, without proxies.
    func curl(_ commandLine: String) async throws -> CommandResult {
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().hasSuffix("_proxy") }
        return try await runProgram(URL(fileURLWithPath: "/bin/sh"), ["-c", commandLine], environment: environment)
    }
}
