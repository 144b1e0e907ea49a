import Testing
import TokenAuthorityTesting

// The flows of the seed documents (README, "Quickstart: from nothing to the seed's curl";
// docs/token-renewal.md): the password grant exactly as the seed's curl sends it, the same tokens
// on a second call, a new pair per request when configured, and one token per `device_` scope.
// Over HTTPS, with a client that verifies nothing, as the seeds' `curl -k` (their curls:
// TLSTests.swift).

/// The seed's sample request body, byte for byte.
let seedRequestBody = "grant_type=password&username=admin&password=admin&scope=openid"

extension ReuseModeServerOverHTTPS {
    @Suite("Seed flows: tokens are reused")
    struct SeedFlowsReused {
        @Test("The seed's curl request gets the seed's response")
        func seedRequest() async throws {
            // Given a client registered with the CLI, and the super admin admin/admin of the config
            let server = try sharedServer()
            #expect(server.usesTLS)
            let client = try await server.deployment.createClient()

            // When the client sends the seed's request over HTTPS, authenticating with HTTP Basic
            let reply = try await server.postToken(seedRequestBody, client: client)

            // Then it gets the members of the seed's sample response, and for openid an ID token
            // (docs/browser-sign-in.md, "OpenID Connect"), never cached
            #expect(reply.status == 200, "\(reply)")
            #expect(reply.members == ["access_token", "refresh_token", "scope", "token_type", "expires_in", "id_token"])
            #expect(reply.string("scope") == "openid")
            #expect(reply.string("token_type") == "Bearer")
            #expect((3598...3600).contains(try #require(reply.int("expires_in"))))
            let accessToken = try #require(reply.string("access_token"))
            let refreshToken = try #require(reply.string("refresh_token"))
            #expect(!accessToken.isEmpty && !refreshToken.isEmpty && accessToken != refreshToken)
            #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(reply.header("Cache-Control") == "no-store")
            #expect(reply.header("Pragma") == "no-cache")
        }

        @Test("A second call returns the same tokens with no more time left")
        func secondCallReusesTokens() async throws {
            // Given a client and a user, both created with the CLI
            let server = try sharedServer()
            let client = try await server.deployment.createClient()
            let user = try await server.deployment.createUser(password: "s3cret pass")

            // When the same request is sent twice
            let first = try await server.passwordGrant(client, username: user, password: "s3cret pass", scope: "openid")
            let second = try await server.passwordGrant(client, username: user, password: "s3cret pass", scope: "openid")

            // Then both answers carry the same access and refresh token, the second no longer-lived
            #expect(first.status == 200, "\(first)")
            #expect(second.status == 200, "\(second)")
            #expect(second.string("access_token") == first.string("access_token"))
            #expect(second.string("refresh_token") == first.string("refresh_token"))
            #expect(try #require(second.int("expires_in")) <= (try #require(first.int("expires_in"))))
            // And the database holds one ACTIVE row for the key
            let rows = try await server.deployment.tokens(of: client.id)
            #expect(rows.map(\.state) == ["ACTIVE"])
            #expect(rows.first?.subject == user)
            #expect(rows.first?.subject_type == "user")
            #expect(rows.first?.scope == "openid")
        }

        @Test("Each device_ scope gets its own token, reused per device")
        func tokensPerDevice() async throws {
            // Given a client
            let server = try sharedServer()
            let client = try await server.deployment.createClient()

            // When the user asks from an iPad, an iPhone, and the iPad again
            let ipad = try await server.passwordGrant(client, username: "admin", password: "admin", scope: "device_ipad")
            let iphone = try await server.passwordGrant(client, username: "admin", password: "admin", scope: "device_iphone")
            let ipadAgain = try await server.passwordGrant(client, username: "admin", password: "admin", scope: "device_ipad")

            // Then each device has its own tokens, and the iPad gets its own back
            for reply in [ipad, iphone, ipadAgain] { #expect(reply.status == 200, "\(reply)") }
            #expect(ipad.string("scope") == "device_ipad")
            #expect(iphone.string("scope") == "device_iphone")
            #expect(ipad.string("access_token") != iphone.string("access_token"))
            #expect(ipad.string("refresh_token") != iphone.string("refresh_token"))
            #expect(ipadAgain.string("access_token") == ipad.string("access_token"))
            // And both devices' rows are ACTIVE
            let rows = try await server.deployment.tokens(of: client.id)
            #expect(Set(rows.map(\.scope)) == ["device_ipad", "device_iphone"])
            #expect(rows.allSatisfy { $0.state == "ACTIVE" })
        }
    }
}

extension RenewalModeServerOverHTTPS {
    @Suite("Seed flows: a new pair per request")
    struct SeedFlowsRenewed {
        @Test("The second call gets a new pair and the first pair is revoked")
        func secondCallRenews() async throws {
            // Given renew_access_token_per_request = true and a client
            let server = try sharedServer()
            let client = try await server.deployment.createClient()

            // When the seed's request is sent twice
            let first = try await server.postToken(seedRequestBody, client: client)
            let second = try await server.postToken(seedRequestBody, client: client)

            // Then the second answer carries a new access token and a new refresh token
            #expect(first.status == 200, "\(first)")
            #expect(second.status == 200, "\(second)")
            #expect(second.members == ["access_token", "refresh_token", "scope", "token_type", "expires_in", "id_token"])
            #expect(second.string("access_token") != first.string("access_token"))
            #expect(second.string("refresh_token") != first.string("refresh_token"))
            #expect((3598...3600).contains(try #require(second.int("expires_in"))))
            // And the older row is REVOKED, the newer one the only ACTIVE one
            let rows = try await server.deployment.tokens(of: client.id).sorted { $0.id < $1.id }
            #expect(rows.map(\.state) == ["REVOKED", "ACTIVE"])
            #expect(try await server.deployment.activeTokens(of: client.id) == 1)
            // And so is the first refresh token
            let refreshStates = try await server.deployment.query(
                "SELECT state FROM refresh_tokens WHERE client_id = \(sqlQuoted(client.id)) ORDER BY id")
            #expect(refreshStates == "REVOKED\nACTIVE")
            // And the first access token can no longer be revoked: it is not ACTIVE
            let revoke = try await server.run(["token", "revoke", try #require(first.string("access_token"))])
            #expect(revoke.status != 0, "\(revoke)")
        }

        @Test("One device's request never revokes the other device's token")
        func devicesStayApart() async throws {
            // Given renew_access_token_per_request = true and a client
            let server = try sharedServer()
            let client = try await server.deployment.createClient()

            // When the user asks from an iPad, an iPhone, then the iPad again
            let ipad = try await server.passwordGrant(client, username: "admin", password: "admin", scope: "device_ipad")
            let iphone = try await server.passwordGrant(client, username: "admin", password: "admin", scope: "device_iphone")
            let ipadAgain = try await server.passwordGrant(client, username: "admin", password: "admin", scope: "device_ipad")

            // Then every answer carries a distinct token
            for reply in [ipad, iphone, ipadAgain] { #expect(reply.status == 200, "\(reply)") }
            let accessTokens = Set([ipad, iphone, ipadAgain].compactMap { $0.string("access_token") })
            #expect(accessTokens.count == 3)
            // And the iPhone's token stays ACTIVE beside the iPad's newest; only the iPad's first is REVOKED
            let rows = try await server.deployment.tokens(of: client.id).sorted { $0.id < $1.id }
            #expect(rows.map(\.scope) == ["device_ipad", "device_iphone", "device_ipad"])
            #expect(rows.map(\.state) == ["REVOKED", "ACTIVE", "ACTIVE"])
        }
    }
}
