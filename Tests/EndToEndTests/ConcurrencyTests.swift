import Testing
import TokenAuthorityTesting

// N simultaneous requests for one key (docs/token-renewal.md, "Concurrency"): with reuse all get
// the same token, with renewal all succeed with distinct tokens and exactly one
// stays ACTIVE; also across two server processes sharing one database file.

/// How many requests race.
let racingRequests = 32

/// Sends `racingRequests` client_credentials requests for one client at once, spread
/// over `servers` in turn, and returns every answer.
func race(_ client: ClientKeys, over servers: [ServerProcess]) async throws -> [HTTPReply] {
    try await withThrowingTaskGroup(of: HTTPReply.self) { group in
        for index in 0..<racingRequests {
            let server = servers[index % servers.count]
            group.addTask { try await server.clientCredentials(client) }
        }
        return try await group.reduce(into: []) { $0.append($1) }
    }
}

/// Checks the outcome of a race: every request succeeded; one token with reuse,
/// all distinct with renewal; exactly one ACTIVE row either way.
func expectRaceOutcome(_ replies: [HTTPReply], renewPerRequest: Bool, client: ClientKeys, deployment: Deployment)
    async throws
{
    let failures = replies.filter { $0.status != 200 }
    #expect(failures.isEmpty, "\(failures.count) of \(replies.count) failed, e.g. \(failures.first.map(\.description) ?? "")")
    let tokens = Set(replies.compactMap { $0.string("access_token") })
    #expect(tokens.count == (renewPerRequest ? racingRequests : 1))
    #expect(try await deployment.activeTokens(of: client.id) == 1)
    let rows = try await deployment.tokens(of: client.id)
    #expect(rows.count == (renewPerRequest ? racingRequests : 1))
}

extension ReuseModeServer {
    @Suite("Concurrency: reuse")
    struct ConcurrencyReused {
        @Test("32 simultaneous requests for one key all get the same token")
        func simultaneousRequests() async throws {
            // Given a client holding no token yet
            let server = try sharedServer()
            let client = try await server.deployment.createClient()
            // When 32 requests for its token arrive at once
            let replies = try await race(client, over: [server])
            // Then all succeed with one token, held in one ACTIVE row
            try await expectRaceOutcome(replies, renewPerRequest: false, client: client, deployment: server.deployment)
        }
    }
}

extension RenewalModeServer {
    @Suite("Concurrency: renewal")
    struct ConcurrencyRenewed {
        @Test("32 simultaneous requests for one key get 32 tokens, one left ACTIVE")
        func simultaneousRequests() async throws {
            // Given renew_access_token_per_request = true and a client
            let server = try sharedServer()
            let client = try await server.deployment.createClient()
            // When 32 requests for its token arrive at once
            let replies = try await race(client, over: [server])
            // Then all succeed with distinct tokens, and exactly one row is ACTIVE
            try await expectRaceOutcome(replies, renewPerRequest: true, client: client, deployment: server.deployment)
        }
    }
}

@Suite("Concurrency: two servers on one database")
struct TwoServerConcurrencyTests {
    @Test("32 simultaneous requests split over two server processes", arguments: [false, true])
    func twoServers(renewPerRequest: Bool) async throws {
        try await Deployment.with(config: deploymentConfig(renewPerRequest: renewPerRequest)) { deployment in
            // Given two servers started at once on one deployment (one config, one database file)
            async let startingFirst = deployment.startServer()
            async let startingSecond = deployment.startServer()
            let (first, second) = try await (startingFirst, startingSecond)
            do {
                let client = try await deployment.createClient()
                // When 32 requests for one key arrive at once, half at each server
                let replies = try await race(client, over: [first, second])
                // Then the outcome is the one a single server gives
                try await expectRaceOutcome(replies, renewPerRequest: renewPerRequest, client: client, deployment: deployment)
                await first.stopOrKill()
                await second.stopOrKill()
            } catch {
                await first.stopOrKill()
                await second.stopOrKill()
                throw error
            }
        }
    }
}

/// Reads that wait for one of SQLite's reader connections (docs/storage.md): a burst of
/// them must never leave every worker thread waiting for a connection that only a worker
/// thread could give back, which once stopped the server for good.
@Suite("Concurrency: reads in a burst")
struct ReadBursts {
    @Test("64 simultaneous metadata requests, right after start and after each of two client changes: all answer 200, and so does /health")
    func metadataBursts() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            let metadata = rawRequest("GET", "/.well-known/oauth-authorization-server")
            for round in 0..<3 {
                // A client registered by another process: the metadata reads every client again
                if round > 0 { _ = try await server.deployment.createClient() }
                let replies = try await burst([[UInt8]](repeating: metadata, count: 64), port: server.port, timeout: .seconds(10))
                #expect(replies.allSatisfy { $0?.status == 200 }, "round \(round): \(statusTally(replies))")
            }
            let health = try await burst([rawRequest("GET", "/health")], port: server.port, timeout: .seconds(10))
            #expect(health.first??.status == 200)
        }
    }
}
