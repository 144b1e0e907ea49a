import Testing
import TokenAuthorityTesting

// The client_credentials grant (RFC 6749 §4.4; docs/token-renewal.md): no refresh token,
// reuse by default, renewal when configured, canonical scope sets.

extension ReuseModeServer {
    @Suite("client_credentials: tokens are reused")
    struct ClientCredentialsReused {
        @Test("A second request gets the same token and no refresh token")
        func reused() async throws {
            // Given a client
            let server = try sharedServer()
            let client = try await server.deployment.createClient()

            // When it asks twice for a token of its own
            let first = try await server.clientCredentials(client)
            let second = try await server.clientCredentials(client)

            // Then both answers carry the same access token, no refresh token, the scope "default"
            #expect(first.status == 200, "\(first)")
            #expect(first.members == ["access_token", "scope", "token_type", "expires_in"])
            #expect(second.members == ["access_token", "scope", "token_type", "expires_in"])
            #expect(first.string("scope") == "default")
            #expect(first.string("token_type") == "Bearer")
            #expect(second.string("access_token") == first.string("access_token"))
            #expect(try #require(second.int("expires_in")) <= (try #require(first.int("expires_in"))))
            #expect(second.header("Cache-Control") == "no-store")
            #expect(second.header("Pragma") == "no-cache")
            // And one ACTIVE row whose subject is the client itself, with no refresh token
            let rows = try await server.deployment.tokens(of: client.id)
            #expect(rows.count == 1)
            #expect(rows.first?.state == "ACTIVE")
            #expect(rows.first?.subject_type == "client")
            #expect(rows.first?.subject == client.id)
            #expect(rows.first?.grant_type == "client_credentials")
            #expect(rows.first?.refresh_token_id == nil)
        }

        @Test("Scope sets are canonical: order and repeats do not make a new token")
        func canonicalScope() async throws {
            // Given a client
            let server = try sharedServer()
            let client = try await server.deployment.createClient()

            // When it asks for "write read write", then for "read write"
            let first = try await server.clientCredentials(client, scope: "write read write")
            let second = try await server.clientCredentials(client, scope: "read write")

            // Then the scope is sorted and deduplicated, and both get one token
            #expect(first.string("scope") == "read write", "\(first)")
            #expect(second.string("access_token") == first.string("access_token"))
            #expect(try await server.deployment.activeTokens(of: client.id) == 1)
        }

        @Test("A client with a scope list gets only its scopes, device_ scopes always")
        func restrictedScopes() async throws {
            // Given a client limited to the scope "read"
            let server = try sharedServer()
            let client = try await server.deployment.createClient(["--scopes", "read"])

            // When it asks for more, for nothing it may have, and for a device
            let more = try await server.clientCredentials(client, scope: "read write")
            let none = try await server.clientCredentials(client, scope: "write")
            let device = try await server.clientCredentials(client, scope: "device_tv write")

            // Then the answers say what was granted (RFC 6749 §3.3)
            #expect(more.status == 200 && more.string("scope") == "read", "\(more)")
            #expect(none.status == 200 && none.string("scope") == "default", "\(none)")
            #expect(device.status == 200 && device.string("scope") == "device_tv", "\(device)")
        }

        @Test("client_secret_post and form-encoded Basic credentials both authenticate")
        func clientAuthenticationMethods() async throws {
            // Given a client whose chosen secret holds characters form-encoding changes
            let server = try sharedServer()
            let client = ClientKeys(id: uniqueName("reserved"), secret: "colon:plus+percent%25 space&amp=eq-0123456789")
            let created = try await server.run([
                "client", "create", "--name", client.id, "--client-id", client.id, "--client-secret", client.secret,
            ])
            try #require(created.status == 0, "\(created)")

            // When it authenticates with HTTP Basic (id and secret form-encoded, RFC 6749 §2.3.1),
            // and then with client_id and client_secret in the body
            let basic = try await server.clientCredentials(client)
            let post = try await server.postToken(Form.encode([
                ("grant_type", "client_credentials"), ("client_id", client.id), ("client_secret", client.secret),
            ]))

            // Then both succeed, with the same token
            #expect(basic.status == 200, "\(basic)")
            #expect(post.status == 200, "\(post)")
            #expect(post.string("access_token") == basic.string("access_token"))
        }

        @Test("Media type parameters and case do not matter", arguments: [
            "application/x-www-form-urlencoded; charset=UTF-8", "Application/X-WWW-Form-URLEncoded",
        ])
        func contentTypeVariants(_ contentType: String) async throws {
            // Given a client
            let server = try sharedServer()
            let client = try await server.deployment.createClient()

            // When it labels its form with this content type
            let reply = try await server.postToken("grant_type=client_credentials", client: client, contentType: contentType)

            // Then the form is accepted
            #expect(reply.status == 200, "\(reply)")
        }

        @Test("A client without the grant type is unauthorized_client")
        func grantNotEnabled() async throws {
            // Given a client allowed only the password grant
            let server = try sharedServer()
            let client = try await server.deployment.createClient(["--grant-types", "password"])

            // When it asks for client_credentials
            let reply = try await server.clientCredentials(client)

            // Then it is refused, and nothing is issued
            #expect(reply.status == 400)
            #expect(reply.string("error") == "unauthorized_client", "\(reply)")
            #expect(try await server.deployment.tokens(of: client.id).isEmpty)
        }

        @Test("A user named like the client never shares the client's token")
        func userNamedLikeClient() async throws {
            // Given a client and a user whose name is the client's id
            let server = try sharedServer()
            let client = try await server.deployment.createClient()
            try await server.deployment.createUser(client.id, password: "named-like-a-client")

            // When the client gets a token of its own, then one for that user, both with scope "default"
            let own = try await server.clientCredentials(client)
            let user = try await server.passwordGrant(client, username: client.id, password: "named-like-a-client")

            // Then the tokens differ, and two keys are ACTIVE
            #expect(own.status == 200 && user.status == 200, "\(own) \(user)")
            #expect(own.string("scope") == "default" && user.string("scope") == "default")
            #expect(own.string("access_token") != user.string("access_token"))
            let rows = try await server.deployment.tokens(of: client.id, ["--state", "ACTIVE"])
            #expect(Set(rows.map(\.subject_type)) == ["client", "user"])
        }
    }
}

extension RenewalModeServer {
    @Suite("client_credentials: a new token per request")
    struct ClientCredentialsRenewed {
        @Test("Every request gets a new token and the previous one is revoked")
        func renewed() async throws {
            // Given renew_access_token_per_request = true and a client
            let server = try sharedServer()
            let client = try await server.deployment.createClient()

            // When it asks three times
            var replies: [HTTPReply] = []
            for _ in 0..<3 { replies.append(try await server.clientCredentials(client)) }

            // Then each answer carries a new access token and never a refresh token
            for reply in replies {
                #expect(reply.status == 200, "\(reply)")
                #expect(reply.members == ["access_token", "scope", "token_type", "expires_in"])
            }
            #expect(Set(replies.compactMap { $0.string("access_token") }).count == 3)
            // And only the newest row is ACTIVE
            let rows = try await server.deployment.tokens(of: client.id).sorted { $0.id < $1.id }
            #expect(rows.map(\.state) == ["REVOKED", "REVOKED", "ACTIVE"])
        }
    }
}
