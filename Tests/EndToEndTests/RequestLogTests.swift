import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

// The request log of `serve` (README, "Logs"): one line per event on stderr, one line per
// request with its id, method, endpoint, status, client, error, source and
// duration; logfmt or JSON (`[logging] format`), filtered by `[logging] level`,
// which the `LOG_LEVEL` environment variable overrides.

@Suite("Request log")
struct RequestLogTests {
    @Test("One logfmt line per request, 404s, 401s and 413s included, with its id, method, endpoint, status, client and duration")
    func oneLinePerRequest() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            // Given a client
            let client = try await server.deployment.createClient()
            let stranger = ClientKeys(id: client.id, secret: "wrong-secret")

            // When requests of every outcome are sent, one after the other
            var expected: [[String: String]] = []
            func send(_ fields: [String: String], _ request: () async throws -> HTTPReply) async throws {
                let reply = try await request()
                #expect(String(reply.status) == fields["status"], "\(fields): \(reply)")
                expected.append(fields)
            }
            try await send(["method": "GET", "endpoint": "/health", "status": "200"]) { try await server.health() }
            try await send(["method": "GET", "endpoint": "NotFound", "status": "404"]) {
                try await server.request(.get, "/no/such/path")
            }
            try await send(["method": "POST", "endpoint": "/oauth2/token", "status": "200", "client_id": client.id]) {
                try await server.clientCredentials(client)
            }
            try await send(
                [
                    "method": "POST", "endpoint": "/oauth2/token", "status": "401", "client_id": client.id,
                    "error": "invalid_client",
                ]
            ) { try await server.clientCredentials(stranger) }
            try await send(
                [
                    "method": "POST", "endpoint": "/oauth2/token", "status": "400", "client_id": client.id,
                    "error": "unsupported_grant_type",
                ]
            ) { try await server.postToken("grant_type=magic", client: client) }
            try await send(["method": "POST", "endpoint": "/oauth2/token", "status": "401", "error": "invalid_client"]) {
                try await server.postToken("grant_type=client_credentials")
            }
            try await send(["method": "POST", "endpoint": "/oauth2/token", "status": "413", "error": "invalid_request"]) {
                try await server.postToken("scope=" + String(repeating: "a", count: 70_000), client: client)
            }
            try await send(["method": "POST", "endpoint": "/oauth2/revoke", "status": "200", "client_id": client.id]) {
                try await server.revocationReply(for: "no-such-token", by: client)
            }
            try await send(["method": "GET", "endpoint": "/metrics", "status": "200"]) {
                try await server.request(.get, "/metrics")
            }

            // Then the log has exactly one request line per request, in order, saying what happened
            let lines = try requestLogLines(server.standardError)
            try #require(lines.count == expected.count, "\(lines.count) request lines for \(expected.count) requests")
            for (line, fields) in zip(lines, expected) {
                for (key, value) in fields {
                    #expect(line[key] == value, "\(key) of the line for \(fields)")
                }
                #expect(fields["client_id"] != nil || line["client_id"] == nil || fields["status"] == "413")
                #expect(fields["error"] != nil || line["error"] == nil, "an error on the line for \(fields)")
                // And each has its source, level, timestamp and duration
                #expect(line["source"] == "127.0.0.1")
                #expect(line["level"] == "info")
                #expect(line["ts"].map(isTimestamp) == true, "ts \(line["ts"] ?? "none")")
                let duration = line["duration_ms"].flatMap(Double.init)
                #expect(duration.map { $0 >= 0 && $0 < 60_000 } == true, "duration_ms \(line["duration_ms"] ?? "none")")
            }
            // And a request id of its own
            let ids = lines.compactMap { $0["request_id"] }
            #expect(ids.count == lines.count && Set(ids).count == ids.count && !ids.contains(""), "request ids \(ids)")
        }
    }

    @Test("format = \"json\" makes every line of the log a JSON object, request lines with the same fields")
    func jsonFormat() async throws {
        // Given a server logging JSON
        let config = deploymentConfig(extra: "\n[logging]\nformat = \"json\"\n")
        try await Deployment.with(config: config) { deployment in
            let server = try await deployment.startServer()
            let client = try await deployment.createClient()

            // When it answers a few requests and stops
            #expect(try await server.health().status == 200)
            #expect(try await server.clientCredentials(client).status == 200)
            #expect(try await server.clientCredentials(ClientKeys(id: client.id, secret: "wrong")).status == 401)
            #expect(try await server.request(.get, "/nothing-here").status == 404)
            #expect(try await server.stop() == 0)

            // Then every line of its stderr is one JSON object of strings, with ts, level and msg
            let lines = server.standardError.split(separator: "\n")
            var objects: [[String: String]] = []
            for (number, line) in lines.enumerated() {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                let strings = object?.compactMapValues { $0 as? String }
                guard let object, let strings, strings.count == object.count else {
                    Issue.record("line \(number + 1) is not a JSON object of strings: \(line)")
                    continue
                }
                #expect(["ts", "level", "msg"].allSatisfy { strings[$0] != nil }, "line \(number + 1): \(line)")
                objects.append(strings)
            }
            // And there is one request object per request, with the request fields
            let requests = objects.filter { $0["msg"] == "request" }
            #expect(requests.map { $0["status"] ?? "" } == ["200", "200", "401", "404"])
            for request in requests {
                let missing = ["request_id", "method", "endpoint", "status", "source", "duration_ms"].filter {
                    request[$0] == nil
                }
                #expect(missing.isEmpty, "missing \(missing) in \(request)")
                #expect(request["duration_ms"].flatMap(Double.init) != nil)
            }
            #expect(requests.filter { $0["endpoint"] == "/oauth2/token" }.allSatisfy { $0["client_id"] == client.id })
            // And the shutdown is logged the same way
            #expect(objects.contains { $0["msg"] == "stopped; the database is closed" })
        }
    }

    @Test("level = \"warning\" leaves requests and other info events out of the log")
    func warningLevel() async throws {
        // Given a server logging warnings and worse only
        let config = deploymentConfig(extra: "\n[logging]\nlevel = \"warning\"\n")
        try await Deployment.with(config: config) { deployment in
            let server = try await deployment.startServer()
            let client = try await deployment.createClient()

            // When it answers requests, failures included, and stops
            #expect(try await server.health().status == 200)
            #expect(try await server.clientCredentials(client).status == 200)
            #expect(try await server.clientCredentials(ClientKeys(id: client.id, secret: "wrong")).status == 401)
            #expect(try await server.request(.get, "/nothing-here").status == 404)
            #expect(try await server.stop() == 0)

            // Then no request line and no event under warning was logged
            let log = server.standardError
            #expect(try requestLogLines(log).isEmpty, "request lines at level warning")
            let quieter = log.split(separator: "\n").filter { line in
                ["trace", "debug", "info", "notice"].contains { line.contains("level=\($0) ") }
            }
            #expect(quieter.isEmpty, "\(quieter.count) lines under warning, the first: \(quieter.first ?? "")")
            // (the "listening on" line is on stdout, not the log)
            #expect(server.standardOutput.contains("listening on"))
        }
    }

    @Test("LOG_LEVEL=debug overrides level = \"error\" of the file")
    func environmentOverridesLevel() async throws {
        // Given a file that asks for errors only
        let config = deploymentConfig(extra: "\n[logging]\nlevel = \"error\"\n")
        try await Deployment.with(config: config) { deployment in
            // When the server starts with LOG_LEVEL=debug and answers two requests
            try await deployment.withServer(environment: ["LOG_LEVEL": "debug"]) { (server: ServerProcess) async throws in
                #expect(try await server.health().status == 200)
                #expect(try await server.request(.get, "/nothing-here").status == 404)

                // Then both requests are logged, and debug events too
                let log = server.standardError
                #expect(try requestLogLines(log).map { $0["status"] ?? "" } == ["200", "404"])
                #expect(log.contains("level=debug "), "no debug event in the log")
                #expect(!log.contains("level=trace "), "trace events at level debug")
            }
        }
    }

    @Test(
        "A bad [logging] value stops start-up with an error naming the key, its line and the value",
        arguments: [("level", "loud"), ("format", "xml")])
    func badLoggingValue(_ key: String, _ value: String) async throws {
        // Given a deployment.toml whose [logging] section has a bad value
        let config = deploymentConfig(extra: "\n[logging]\n\(key) = \"\(value)\"\n")
        let line = try #require(config.components(separatedBy: "\n").firstIndex(of: "\(key) = \"\(value)\"")) + 1
        try await Deployment.with(config: config) { deployment in
            // When the server is started
            let result = try await deployment.run(["serve"], timeout: .seconds(30))

            // Then it exits non-zero without listening, naming the file's line, the key and the value
            #expect(result.status != 0)
            #expect(!result.stdout.contains("listening on"), "\(result)")
            #expect(result.stderr.contains("deployment.toml:\(line)"), "\(result.stderr)")
            #expect(result.stderr.contains("logging.\(key)"), "\(result.stderr)")
            #expect(result.stderr.contains(value), "\(result.stderr)")
        }
    }
}

// MARK: - Reading the log

/// The fields of one logfmt line (`key=value key="quoted value"`, quoted values in
/// JSON string syntax); nil when the line is not logfmt.
func logfmtFields(_ line: Substring) -> [String: String]? {
    var fields: [String: String] = [:]
    var rest = line[...]
    while true {
        rest = rest.drop { $0 == " " }
        guard !rest.isEmpty else { return fields }
        guard let equals = rest.firstIndex(of: "="), !rest[..<equals].contains(" ") else { return nil }
        let key = String(rest[..<equals])
        rest = rest[rest.index(after: equals)...]
        if rest.first == "\"" {
            // Find the closing quote, skipping escaped characters.
            var index = rest.index(after: rest.startIndex)
            var escaped = false
            while index < rest.endIndex, escaped || rest[index] != "\"" {
                escaped = !escaped && rest[index] == "\\"
                index = rest.index(after: index)
            }
            guard index < rest.endIndex else { return nil }
            let literal = rest[rest.startIndex...index]
            guard
                let value = try? JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed)
                    as? String
            else { return nil }
            fields[key] = value
            rest = rest[rest.index(after: index)...]
        } else {
            let end = rest.firstIndex(of: " ") ?? rest.endIndex
            fields[key] = String(rest[..<end])
            rest = rest[end...]
        }
    }
}

/// The request lines (`msg=request`) of a logfmt log, parsed, in order. A line that
/// mentions `msg=request` but does not parse is a failure.
func requestLogLines(_ log: String) throws -> [[String: String]] {
    try log.split(separator: "\n").filter { $0.contains("msg=request ") }.map { line in
        try #require(logfmtFields(line), "not a logfmt line: \(line)")
    }
}

/// `2026-11-23T19:30:00.123Z`.
private func isTimestamp(_ text: String) -> Bool {
    text.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil
}
