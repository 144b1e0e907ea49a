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
        // The lookup and the digest run in a slot of the source's failure budget
        // (`CredentialCheckGate`), so a burst cannot start more checks than the limit.
        let client = try await CredentialCheckGate.run(.clientAuthentication, {
            TokenMetrics.credentialChecked(.clientSecret)
            guard let client = try await clients.client(id: credentials.clientID) else { return nil as Client? }
            // A public client names itself and holds no secret; any other proves its secret.
            switch (client.isPublic, credentials.secret) {
            case (true, nil): return client
            case (false, let secret?) where ClientSecret.matches(secret, digest: client.secretDigest): return client
            default: return nil
            }
        }, failed: { $0 == nil })
        guard let client else { throw OAuthError.invalidClient }
        return client
    }

    /// Whether a client has this id: a lookup, no secret checked.
    public func isRegistered(_ clientID: String) async throws -> Bool {
        try await clients.client(id: clientID) != nil
    }

    /// Whether a client has this id in the database now, whatever copies are held in memory.
    public func isStillRegistered(_ clientID: String) async throws -> Bool {
        clients.forgetCopies()
        return try await isRegistered(clientID)
    }
}
