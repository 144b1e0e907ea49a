import Crypto
import Foundation
import JWTKit
import Logging
import TokenAuthority

/// The JWT signing keys of this server, as `signing_keys` holds them: signs with the current key
/// and verifies with every published one (README, "How tokens behave": signing keys; RFC 9068).
///
/// The database is the only source of truth. The current key's id is read again
/// (one indexed SELECT) before a signature once `recheckInterval` has passed, so
/// a `keys rotate` run by the operator, or by another process sharing the file,
/// takes effect within that interval; a rotation in this process, at once.
/// Reading it before every signature cost a sixth of JWT issuance throughput.
actor SigningKeyRing: AccessTokenSigner {
    private let store: any SigningKeyStore
    private let cipher: TokenCipher
    private let issuer: IssuerName
    private let clock: Clock
    private var keys = JWTKeyCollection()
    private var currentKeyID: String?
    private var loadedKeyIDs: Set<String> = []
    /// When the current key's id was last read from the database.
    private var checkedAt: ContinuousClock.Instant?
    static let recheckInterval: Duration = .seconds(1)
    /// When an unknown `kid` may next cause a reload: garbage tokens must not turn
    /// every introspection into a key reload.
    private var nextUnknownKeyReload: ContinuousClock.Instant?

    init(store: any SigningKeyStore, cipher: TokenCipher, issuer: IssuerName, clock: Clock) {
        self.store = store
        self.cipher = cipher
        self.issuer = issuer
        self.clock = clock
    }

    func sign(_ claims: AccessTokenClaims) async throws -> SignedAccessToken {
        let keyID = try await currentKey()
        var header = JWTHeader()
        header.typ = "at+jwt"  // RFC 9068 §2.1
        let token = try await keys.sign(
            AccessTokenPayload(claims, issuer: issuer.current), kid: JWKIdentifier(string: keyID), header: header)
        return SignedAccessToken(token: token, keyID: keyID)
    }

    func signIDToken(_ claims: IDTokenClaims) async throws -> String {
        let keyID = try await currentKey()
        var header = JWTHeader()
        header.typ = "JWT"
        return try await keys.sign(
            IDTokenPayload(claims, issuer: issuer.current), kid: JWKIdentifier(string: keyID), header: header)
    }

    /// The current key's id, read again from the database once `recheckInterval` has passed.
    private func currentKey() async throws -> String {
        if checkedAt.map({ ContinuousClock.now - $0 >= Self.recheckInterval }) ?? true {
            let now = ContinuousClock.now
            if try await store.currentSigningKeyID() != currentKeyID { try await reload() }
            checkedAt = now
        }
        // After a reload this is the key current then, which a rotation racing the
        // reload may have made newer than the one just read: either is published.
        guard let keyID = currentKeyID else {
            throw OAuthError.serverError.with(description: "There is no JWT signing key.")
        }
        return keyID
    }

    func verifiedTokenID(of token: String) async -> String? {
        guard let keyID = Self.keyID(of: token) else { return nil }
        if !loadedKeyIDs.contains(keyID) {
            let now = ContinuousClock.now
            guard nextUnknownKeyReload.map({ now >= $0 }) ?? true else { return nil }
            nextUnknownKeyReload = now + Self.recheckInterval
            try? await reload()
        }
        guard loadedKeyIDs.contains(keyID),
            let payload = try? await keys.verify(token, as: AccessTokenPayload.self)
        else { return nil }
        return payload.jti.value
    }

    /// Makes the next signature read the current key's id again: after a rotation here.
    func forgetCurrentKey() {
        checkedAt = nil
    }

    /// Loads the published keys; only the current one's private key is opened.
    private func reload() async throws {
        let records = try await store.publishedSigningKeys(at: clock.now())
        let collection = JWTKeyCollection()
        var current: String?
        for record in records {
            let kid = JWKIdentifier(string: record.keyID)
            if record.retiredAt == nil {
                let key = try SigningKey(record: record, cipher: cipher)
                await collection.add(ecdsa: try ES256PrivateKey(backing: key.privateKey), kid: kid)
                current = record.keyID
            } else {
                try await collection.add(jwk: JWK(json: record.publicJWK))
            }
        }
        keys = collection
        currentKeyID = current
        loadedKeyIDs = Set(records.map(\.keyID))
    }

    /// The `kid` of a JWS header, read without trusting anything else in it.
    private static func keyID(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first,
            let data = Base64URL.decode(String(header)),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["kid"] as? String
    }
}
