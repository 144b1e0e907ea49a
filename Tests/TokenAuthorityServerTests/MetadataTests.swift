import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// RFC 8414: `GET /.well-known/oauth-authorization-server`.
@Suite("Authorization server metadata")
struct MetadataTests {
    @Test("issuer, the endpoints, grant types, client authentication methods and the known scopes")
    func metadataDocument() async throws {
        try await TestServer.with({ $0.configuredIssuer = "https://tokens.example.com" }) { server in
            // Given a client with a scope list
            try await server.client("app", scopes: ["read", "write"])

            // When the metadata is fetched
            let reply = try await server.send(uri: "/.well-known/oauth-authorization-server", method: .get)

            // Then it names this server's issuer and endpoints
            #expect(reply.status == 200 && reply.header("Content-Type") == "application/json")
            let issuer = "https://tokens.example.com"
            #expect(reply["issuer"] == .string(issuer))
            #expect(reply["token_endpoint"] == .string(issuer + "/oauth2/token"))
            #expect(reply["introspection_endpoint"] == .string(issuer + "/oauth2/introspect"))
            #expect(reply["revocation_endpoint"] == .string(issuer + "/oauth2/revoke"))
            #expect(reply["jwks_uri"] == .string(issuer + "/oauth2/jwks"))
            #expect(reply["authorization_endpoint"] == .string(issuer + "/oauth2/authorize"))
            #expect(reply["userinfo_endpoint"] == .string(issuer + "/oauth2/userinfo"))
            #expect(reply["end_session_endpoint"] == .string(issuer + "/oauth2/logout"))
            #expect(
                reply["grant_types_supported"]
                    == .array([
                        "authorization_code", "password", "client_credentials", "refresh_token",
                        "urn:ietf:params:oauth:grant-type:device_code",
                    ]))
            #expect(reply["device_authorization_endpoint"] == .string(issuer + "/oauth2/device_authorization"))
            // and, endpoint by endpoint, the client authentication methods it accepts
            #expect(
                reply["token_endpoint_auth_methods_supported"]
                    == .array(["client_secret_basic", "client_secret_post", "none"]))
            #expect(
                reply["revocation_endpoint_auth_methods_supported"]
                    == .array(["client_secret_basic", "client_secret_post", "none"]))
            #expect(
                reply["introspection_endpoint_auth_methods_supported"]
                    == .array(["client_secret_basic", "client_secret_post"]))
            #expect(reply["response_types_supported"] == .array(["code"]))
            #expect(reply["code_challenge_methods_supported"] == .array(["S256"]))
            #expect(reply["request_parameter_supported"] == false && reply["request_uri_parameter_supported"] == false)
            // and the scopes it can name: the client's list and the plain allowed_scopes entries, no regex
            #expect(reply["scopes_supported"] == .array(["openid", "read", "write"]))
        }
    }

    @Test("scopes_supported follows the clients changed in the database, in both documents")
    func knownScopesFollowClientChanges() async throws {
        try await TestServer.with { server in
            // Given a client with the scope "alpha", named by the metadata
            try await server.client("first", scopes: ["alpha"])
            let before = try await server.send(uri: "/.well-known/oauth-authorization-server", method: .get)
            #expect(before["scopes_supported"] == .array(["alpha", "openid"]))

            // When, in the database, it is deleted and a client with "beta" registered
            #expect(try await server.services.store.deleteClient(id: "first"))
            try await server.client("second", scopes: ["beta"])

            // Then both documents name "beta" and no longer "alpha"
            for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
                let after = try await server.send(uri: path, method: .get)
                #expect(after["scopes_supported"] == .array(["beta", "openid"]), "\(path)")
            }
        }
    }

    @Test("the default issuer comes from [server]: https, the host name, the port; localhost for a wildcard address")
    func defaultIssuer() {
        var configuration = DeploymentConfiguration()
        #expect(configuration.issuer() == "https://localhost:9443")
        configuration.server.hostname = "auth.example.com"
        configuration.server.port = 8443
        #expect(configuration.issuer() == "https://auth.example.com:8443")
        configuration.server.tls.enabled = false
        #expect(configuration.issuer() == "http://auth.example.com:8443")
        configuration.server.hostname = "::1"
        #expect(configuration.issuer() == "http://[::1]:8443")
        // port = 0: the port the server was given
        configuration.server.port = 0
        #expect(configuration.issuer(boundPort: 40123) == "http://[::1]:40123")
        configuration.configuredIssuer = "https://auth.example.com"
        #expect(configuration.issuer(boundPort: 40123) == "https://auth.example.com")
    }
}
