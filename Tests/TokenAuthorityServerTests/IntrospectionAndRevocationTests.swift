import GRDB
import HTTPTypes
import NIOCore
import Synchronization
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

extension TestServer {
    /// A form POST to `uri` with an Authorization header.
    func post(_ uri: String, _ parameters: [(String, String)], authorization: String?) async throws -> HTTPReply {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let authorization { headers[.authorization] = authorization }
        return try await send(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: Form.encode(parameters)))
    }

    func introspect(_ token: String, as authorization: String?, hint: String? = nil) async throws -> HTTPReply {
        var parameters = [("token", token)]
        if let hint { parameters.append(("token_type_hint", hint)) }
        return try await post("/oauth2/introspect", parameters, authorization: authorization)
    }

    func revoke(_ token: String, by client: ClientCredentials, hint: String? = nil) async throws -> HTTPReply {
        var parameters = [("token", token)]
        if let hint { parameters.append(("token_type_hint", hint)) }
        return try await post("/oauth2/revoke", parameters, authorization: Form.basic(client))
    }
}

let admin = Form.basic(raw: "admin:admin")

/// RFC 7662 through `POST /oauth2/introspect`.
@Suite("Introspection")
struct IntrospectionTests {
    @Test("an active access token shows its claims to the super admin, as in the seed's curl")
    func activeToken() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let issued = try await server.passwordGrant(client, username: "alice", password: "pw", scope: "openid")
            let reply = try await server.introspect(try #require(issued.accessToken), as: admin)
            #expect(reply.status == 200)
            expectNoStore(reply)
            let json = try #require(reply.json)
            #expect(json["active"] == .bool(true))
            #expect(json["scope"]?.string == "openid")
            #expect(json["client_id"]?.string == "app")
            #expect(json["username"]?.string == "alice")
            #expect(json["sub"]?.string == "alice")
            #expect(json["token_type"]?.string == "Bearer")
            let now = Int(server.clock.now / 1000)
            #expect(json["iat"]?.int == now && json["nbf"]?.int == now && json["exp"]?.int == now + 3600)
        }
    }

    @Test("renewed, revoked, expired, rotated and unknown tokens answer exactly {\"active\":false}")
    func inactiveTokens() async throws {
        try await TestServer.with({ $0.oauth.renewAccessTokenPerRequest = true }) { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let first = try await server.passwordGrant(client, username: "alice", password: "pw")
            let second = try await server.passwordGrant(client, username: "alice", password: "pw")
            let refreshed = try await server.token(
                [("grant_type", "refresh_token"), ("refresh_token", try #require(second.refreshToken))], basic: client)
            for token in [first.accessToken, first.refreshToken, second.accessToken, second.refreshToken, "nope"] {
                let reply = try await server.introspect(try #require(token), as: admin)
                #expect(reply.status == 200)
                #expect(reply.body == #"{"active":false}"#)
            }
            // The refreshed pair is active until it expires, whatever its stored state
            #expect(try await server.introspect(try #require(refreshed.accessToken), as: admin).json?["active"] == .bool(true))
            let viaRefresh = try await server.introspect(try #require(refreshed.refreshToken), as: admin, hint: "refresh_token")
            #expect(viaRefresh.json?["token_type"]?.string == "refresh_token")
            server.clock.advance(seconds: 3601)
            #expect(try await server.introspect(try #require(refreshed.accessToken), as: admin).body == #"{"active":false}"#)
        }
    }

    @Test("a client registered with --introspection may introspect; another client is 403 unauthorized_client; any other caller invalid_client")
    func callers() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            let issued = try await server.clientCredentialsGrant(client)
            let token = try #require(issued.accessToken)
            let inspector = try await Fixtures.registerClient(in: server.services.store, id: "rs", mayIntrospect: true)
            #expect(try await server.introspect(token, as: Form.basic(inspector)).json?["active"] == .bool(true))
            #expect(try await server.introspect(token, as: Form.basic(inspector)).json?["username"] == nil)
            let forbidden = try await server.introspect(token, as: Form.basic(client))
            expectOAuthError(forbidden, status: 403, error: "unauthorized_client")
            #expect(forbidden.header("WWW-Authenticate") == nil)
            for caller in [Form.basic(raw: "admin:wrong"), nil] {
                expectOAuthError(try await server.introspect(token, as: caller), status: 401, error: "invalid_client")
            }
            let missing = try await server.post("/oauth2/introspect", [], authorization: admin)
            expectOAuthError(missing, status: 400, error: "invalid_request")
        }
    }

    @Test("with create_admin_account = false the admin cannot introspect")
    func noSuperAdmin() async throws {
        try await TestServer.with({ $0.superAdmin.createAdminAccount = false }) { server in
            expectOAuthError(try await server.introspect("x", as: admin), status: 401, error: "invalid_client")
        }
    }
}

/// RFC 7009 through `POST /oauth2/revoke`.
@Suite("Revocation")
struct RevocationTests {
    @Test("revoking an access token revokes it and the refresh token issued with it")
    func revokeAccessToken() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let issued = try await server.passwordGrant(client, username: "alice", password: "pw")
            let reply = try await server.revoke(try #require(issued.accessToken), by: client)
            #expect(reply.status == 200 && reply.body.isEmpty)
            expectNoStore(reply)
            #expect(try await server.accessTokenStates() == ["REVOKED"])
            #expect(try await server.refreshTokenStates() == ["REVOKED"])
            // A new request gets a new pair
            let again = try await server.passwordGrant(client, username: "alice", password: "pw")
            #expect(again.accessToken != issued.accessToken)
        }
    }

    @Test("revoking a refresh token revokes the access tokens issued with it")
    func revokeRefreshToken() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let issued = try await server.passwordGrant(client, username: "alice", password: "pw")
            let reply = try await server.revoke(try #require(issued.refreshToken), by: client, hint: "refresh_token")
            #expect(reply.status == 200)
            #expect(try await server.accessTokenStates() == ["REVOKED"])
            #expect(try await server.refreshTokenStates() == ["REVOKED"])
        }
    }

    @Test("revoking a refresh token rotated away ends its grant: the pair its refresh made is revoked too")
    func revokeRotatedRefreshToken() async throws {
        try await TestServer.with { server in
            // Given alice's pair, refreshed once (a client logging out with the refresh token it
            // had before a refresh that raced the logout)
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let first = try await server.passwordGrant(client, username: "alice", password: "pw")
            let second = try await server.token(
                [("grant_type", "refresh_token"), ("refresh_token", try #require(first.refreshToken))], basic: client)
            #expect(second.status == 200)
            // When the first refresh token is revoked
            let reply = try await server.revoke(try #require(first.refreshToken), by: client)
            // Then the answer is 200, the new pair is REVOKED, the rotated rows stay INACTIVE
            #expect(reply.status == 200 && reply.body.isEmpty)
            #expect(try await server.accessTokenStates() == ["INACTIVE", "REVOKED"])
            #expect(try await server.refreshTokenStates() == ["INACTIVE", "REVOKED"])
            let introspected = try await server.introspect(try #require(second.accessToken), as: admin)
            #expect(introspected.body == #"{"active":false}"#)
        }
    }

    @Test("unknown and already revoked tokens answer 200 with an empty body")
    func unknownAndRepeated() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            let issued = try await server.clientCredentialsGrant(client)
            for token in ["unknown", try #require(issued.accessToken), try #require(issued.accessToken)] {
                let reply = try await server.revoke(token, by: client)
                #expect(reply.status == 200 && reply.body.isEmpty)
            }
        }
    }

    @Test("another client's token is refused with unauthorized_client and nothing changes")
    func otherClient() async throws {
        try await TestServer.with { server in
            let owner = try await server.client("owner")
            let thief = try await server.client("thief")
            let issued = try await server.clientCredentialsGrant(owner)
            expectOAuthError(
                try await server.revoke(try #require(issued.accessToken), by: thief), status: 400, error: "unauthorized_client")
            #expect(try await server.accessTokenStates() == ["ACTIVE"])
        }
    }

    @Test("revocation needs client authentication and a token")
    func authenticationAndParameters() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            expectOAuthError(try await server.post("/oauth2/revoke", [("token", "x")], authorization: nil), status: 401, error: "invalid_client")
            expectOAuthError(try await server.post("/oauth2/revoke", [], authorization: Form.basic(client)), status: 400, error: "invalid_request")
        }
    }
}

/// Which revocations reach the store's write transaction.
@Suite("Revocation: the write transaction")
struct RevocationWriteTests {
    /// The server's store, counting the revocations asked of it.
    final class CountingStore: TokenLookupStore {
        let store: any TokenLookupStore
        let revocations = Mutex(0)

        init(_ store: any TokenLookupStore) { self.store = store }

        func findToken(digest: [UInt8], preferring kind: TokenKind?) async throws -> FoundToken? {
            try await store.findToken(digest: digest, preferring: kind)
        }

        func revokeToken(digest: [UInt8], ownedBy clientID: String?, at now: EpochMilliseconds) async throws
            -> RevocationOutcome
        {
            revocations.withLock { $0 += 1 }
            return try await store.revokeToken(digest: digest, ownedBy: clientID, at: now)
        }
    }

    @Test("only an ACTIVE token of the client is revoked in a write; unknown, revoked and other clients' tokens are answered from a read")
    func onlyActiveTokensAreWritten() async throws {
        try await TestServer.with { server in
            let services = server.services
            let counting = CountingStore(services.store)
            let endpoint = RevocationEndpoint(
                authenticator: ClientAuthenticator(clients: services.store), tokens: counting, minter: services.minter,
                clock: services.clock)
            let owner = try await server.client("owner")
            let thief = try await server.client("thief")
            let token = try #require(try await server.clientCredentialsGrant(owner).accessToken)
            func revoke(_ token: String, by client: ClientCredentials) async throws {
                try await endpoint.handle(form: FormParameters(["token": token]), credentials: client)
            }

            // Another client's token is refused before any write, and stays ACTIVE
            await #expect(throws: OAuthError.self) { try await revoke(token, by: thief) }
            #expect(counting.revocations.withLock { $0 } == 0)
            #expect(try await server.accessTokenStates() == ["ACTIVE"])

            // The owner's ACTIVE token is revoked in the store's write transaction
            try await revoke(token, by: owner)
            #expect(counting.revocations.withLock { $0 } == 1)
            #expect(try await server.accessTokenStates() == ["REVOKED"])

            // Revoked already, or well-formed but unknown: 200 without a write
            try await revoke(token, by: owner)
            try await revoke(TokenCipher.newToken(), by: owner)
            await #expect(throws: OAuthError.self) { try await revoke(token, by: thief) }
            #expect(counting.revocations.withLock { $0 } == 1)
        }
    }
}
