/// Authenticates the calling client (RFC 6749 §2.3.1). Every failure is the same
/// `invalid_client`, so a caller cannot tell an unknown id from a wrong secret.
public struct ClientAuthenticator: Sendable {
    private let clients: any ClientStore

    public init(clients: any ClientStore) {
        self.clients = clients
    }

    public func authenticate(_ credentials: ClientCredentials?) async throws -> Client {
        guard let credentials else {
            throw OAuthError.invalidClient.with(description: "Client authentication failed: no client credentials.")
        }
        guard let client = try await clients.client(id: credentials.clientID),
            ClientSecret.matches(credentials.secret, digest: client.secretDigest)
        else {
            throw OAuthError.invalidClient
        }
        return client
    }
}
