import HTTPTypes
import NIOCore
import Testing
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenAuthorityServer

/// The `Authorization` header an OAuth endpoint reads client credentials from (RFC 6749 §2.3.1):
/// one field is taken as it is; several are never one client's credentials.
@Suite("The Authorization header of an OAuth request")
struct AuthorizationHeaderTests {
    @Test("one field is read as it is; none is no header; two are joined, as HTTPFields joins them")
    func fields() {
        #expect(OAuthHTTP.authorization([.authorization: "Basic eDp5"]) == "Basic eDp5")
        #expect(OAuthHTTP.authorization([.contentType: "application/x-www-form-urlencoded"]) == nil)
        var twice = HTTPFields()
        twice.append(HTTPField(name: .authorization, value: "Basic eDp5"))
        twice.append(HTTPField(name: .authorization, value: "Basic eDp6"))
        #expect(OAuthHTTP.authorization(twice) == twice[.authorization])
        #expect(OAuthHTTP.authorization(twice) == "Basic eDp5, Basic eDp6")
    }

    @Test("a token request with a client's right credentials twice is refused as invalid_client")
    func twiceIsRefused() async throws {
        try await TestServer.with { server in
            // Given a client, and a token request carrying its Basic credentials in two fields
            let client = try await server.client()
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            headers.append(HTTPField(name: .authorization, value: Form.basic(client)))
            headers.append(HTTPField(name: .authorization, value: Form.basic(client)))
            // When it is sent
            let reply = try await server.send(
                uri: "/oauth2/token", method: .post, headers: headers,
                body: ByteBuffer(string: "grant_type=client_credentials"))
            // Then no token is issued: two credentials are no client's
            #expect(reply.status == 401, "\(reply)")
            #expect(reply.string("error") == "invalid_client", "\(reply)")
            // While the same credentials once get a token
            #expect(try await server.clientCredentialsGrant(client).status == 200)
        }
    }

    @Test("Basic with the same client's client_id in the body gets its token, as OAuth libraries send it; another client's id is invalid_request")
    func basicWithItsOwnClientID() async throws {
        try await TestServer.with { server in
            // Given a client
            let client = try await server.client()
            // When it authenticates with Basic and names itself in the body too
            let same = try await server.token([("grant_type", "client_credentials"), ("client_id", client.clientID)], basic: client)
            // Then it gets a token
            #expect(same.status == 200 && same.accessToken != nil, "\(same)")
            // While a body naming another client (a prefix of its id, or its id and more) is refused
            for other in [String(client.clientID.dropLast()), client.clientID + "\u{0}"] {
                let reply = try await server.token([("grant_type", "client_credentials"), ("client_id", other)], basic: client)
                #expect(reply.status == 400 && reply.string("error") == "invalid_request", "\(reply)")
            }
        }
    }
}
