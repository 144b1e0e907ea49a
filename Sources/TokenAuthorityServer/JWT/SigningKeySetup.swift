import Foundation
import TokenAuthority

/// Puts the JWT signing key in place at start-up and rotates it on request.
public enum SigningKeySetup {
    public enum Outcome: Sendable, Equatable {
        /// No key existed: one was generated and is now current.
        case generated(keyID: String)
        /// `[oauth.jwt] signing_key` is the current key.
        case configured(keyID: String)
        /// The current key was kept.
        case existing(keyID: String)
    }

    /// The configured key becomes current (the previous one stays published);
    /// without one, a key is generated when the database has none yet.
    static func prepare(
        configuration: DeploymentConfiguration, store: any SigningKeyStore, cipher: TokenCipher, clock: Clock
    ) async throws -> Outcome {
        let now = clock.now()
        if let path = configuration.jwt.signingKey {
            let key = try loadConfiguredKey(path: path)
            if try await store.currentSigningKeyID() != key.keyID {
                try await store.makeCurrentSigningKey(
                    key.record(sealedWith: cipher, at: now),
                    retiredPublishedUntil: publishUntil(retiringAt: now, configuration: configuration))
            }
            return .configured(keyID: key.keyID)
        }
        if let current = try await store.currentSigningKeyID() { return .existing(keyID: current) }
        let key = SigningKey.generate()
        let current = try await store.addFirstSigningKey(key.record(sealedWith: cipher, at: now))
        return current == key.keyID ? .generated(keyID: current) : .existing(keyID: current)
    }

    /// `token-authority keys rotate`: a new key becomes current; the old one stays
    /// published until every token it signed has expired.
    /// - Returns: the new key's id.
    static func rotate(
        configuration: DeploymentConfiguration, store: any SigningKeyStore, cipher: TokenCipher, clock: Clock
    ) async throws -> String {
        if let path = configuration.jwt.signingKey {
            throw SigningKeyError(
                "[oauth.jwt] signing_key = \"\(path)\" names the signing key: put a new key in that file and restart "
                    + "to rotate (the previous key stays published until its tokens expire)")
        }
        let now = clock.now()
        let key = SigningKey.generate()
        try await store.makeCurrentSigningKey(
            key.record(sealedWith: cipher, at: now),
            retiredPublishedUntil: publishUntil(retiringAt: now, configuration: configuration))
        return key.keyID
    }

    /// A key retired now signed its last token at most now, valid for at most the
    /// longest access-token validity configured.
    private static func publishUntil(retiringAt now: EpochMilliseconds, configuration: DeploymentConfiguration)
        -> EpochMilliseconds
    {
        let validity = max(configuration.oauth.appAccessTokenValidity, configuration.oauth.userAccessTokenValidity)
        return now + EpochMilliseconds(validity) * 1000
    }

    private static func loadConfiguredKey(path: String) throws -> SigningKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SigningKeyError("[oauth.jwt] signing_key: cannot read \(path)")
        }
        do {
            return try SigningKey(pem: String(decoding: data, as: UTF8.self))
        } catch {
            throw SigningKeyError("[oauth.jwt] signing_key: \(path) is not a PEM ECDSA P-256 private key")
        }
    }
}

public struct SigningKeyError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
