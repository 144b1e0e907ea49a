import Crypto
import Foundation
import JWTKit
import Logging
import Synchronization
import TokenAuthority

/// The JWT signing keys of this server, as `signing_keys` holds them: signs with the current key
/// and verifies with every published one (README, "How tokens behave": signing keys; RFC 9068).
///
/// The database is the only source of truth. The current key's id is read again
/// (one indexed SELECT) before a signature once `recheckInterval` has passed, so
/// a `keys rotate` run by the operator, or by another process sharing the file,
/// takes effect within that interval; a rotation in this process, at once.
/// Reading it before every signature cost a sixth of JWT issuance throughput.
///
/// Not an actor: every JWT access token is signed here, and a signature needs no
/// turn of its own, only the key in hand (`CompactJWS`).
final class SigningKeyRing: AccessTokenSigner {
    private struct Keys {
        /// The key that signs, with its private key opened.
        var current: SigningKey?
        /// Every published key, for jwt-kit to verify with.
        var published = JWTKeyCollection()
        var publishedIDs: Set<String> = []
        /// When the current key's id was last read from the database.
        var checkedAt: ContinuousClock.Instant?
        /// When an unknown `kid` may next cause a reload: garbage tokens must not turn
        /// every introspection into a key reload.
        var nextUnknownKeyReload: ContinuousClock.Instant?
    }

    private let store: any SigningKeyStore
    private let cipher: TokenCipher
    private let issuer: IssuerName
    private let clock: Clock
    private let keys = Mutex(Keys())
    static let recheckInterval: Duration = .seconds(1)

    init(store: any SigningKeyStore, cipher: TokenCipher, issuer: IssuerName, clock: Clock) {
        self.store = store
        self.cipher = cipher
        self.issuer = issuer
        self.clock = clock
    }

    func prepare(_ claims: AccessTokenClaims) async throws -> UnsignedAccessToken {
        let key = try await currentKey()
        let issuer = issuer.current
        return UnsignedAccessToken(keyID: key.keyID) {
            try CompactJWS.es256(payload: AccessTokenPayload.json(claims, issuer: issuer), type: "at+jwt", key: key)
        }
    }

    func signIDToken(_ claims: IDTokenClaims) async throws -> String {
        try CompactJWS.es256(
            payload: IDTokenPayload.json(claims, issuer: issuer.current), type: "JWT", key: try await currentKey())
    }

    /// The current key, its id read again from the database once `recheckInterval` has
    /// passed. One request per interval reads it; the others meanwhile sign with the key in
    /// hand, which stays published after a rotation.
    private func currentKey() async throws -> SigningKey {
        let now = ContinuousClock.now
        let (inHand, due) = keys.withLock { keys in
            let due = keys.checkedAt.map { now - $0 >= Self.recheckInterval } ?? true
            if due { keys.checkedAt = now }
            return (keys.current, due)
        }
        if let inHand, !due { return inHand }
        do {
            if try await store.currentSigningKeyID() != inHand?.keyID { try await reload() }
        } catch {
            keys.withLock { $0.checkedAt = nil }
            throw error
        }
        // After a reload this is the key current then, which a rotation racing the
        // reload may have made newer than the one just read: either is published.
        guard let key = keys.withLock({ $0.current }) else {
            throw OAuthError.serverError.with(description: "There is no JWT signing key.")
        }
        return key
    }

    func verifiedTokenID(of token: String) async -> String? {
        await verified(token, as: VerifiedTokenID.self)?.jti.value
    }

    /// The audience (client ids) of an ID token this server signed (`typ` `JWT`, `iss`
    /// this issuer), presented as `id_token_hint` at logout; `nil` for anything else,
    /// an access token included. Its expiry is not checked (`IDTokenHint`).
    func audience(ofIDTokenHint token: String) async -> [String]? {
        guard Self.header(of: token)?.type == "JWT", let hint = await verified(token, as: IDTokenHint.self),
            hint.iss.value == issuer.current
        else { return nil }
        return hint.aud.value
    }

    /// The payload of a JWS signed with a published key, once jwt-kit has verified it.
    private func verified<Payload: JWTPayload>(_ token: String, as payload: Payload.Type) async -> Payload? {
        guard let keyID = Self.header(of: token)?.keyID else { return nil }
        let now = ContinuousClock.now
        let reloads = keys.withLock { keys in
            guard !keys.publishedIDs.contains(keyID), keys.nextUnknownKeyReload.map({ now >= $0 }) ?? true else {
                return false
            }
            keys.nextUnknownKeyReload = now + Self.recheckInterval
            return true
        }
        if reloads { try? await reload() }
        let (known, published) = keys.withLock { ($0.publishedIDs.contains(keyID), $0.published) }
        guard known else { return nil }
        return try? await published.verify(token, as: Payload.self)
    }

    /// Makes the next signature read the current key's id again: after a rotation here.
    func forgetCurrentKey() {
        keys.withLock { $0.checkedAt = nil }
    }

    /// Loads the published keys; only the current one's private key is opened.
    private func reload() async throws {
        let records = try await store.publishedSigningKeys(at: clock.now())
        let published = JWTKeyCollection()
        var current: SigningKey?
        for record in records {
            let kid = JWKIdentifier(string: record.keyID)
            if record.retiredAt == nil {
                let key = try SigningKey(record: record, cipher: cipher)
                await published.add(ecdsa: try ES256PrivateKey(backing: key.privateKey), kid: kid)
                current = key
            } else {
                try await published.add(jwk: JWK(json: record.publicJWK))
            }
        }
        keys.withLock { keys in
            keys.current = current
            keys.published = published
            keys.publishedIDs = Set(records.map(\.keyID))
        }
    }

    /// The `kid` and `typ` of a JWS header, read before its signature is checked: the
    /// key to check it with, and the kind of token it claims to be.
    private static func header(of token: String) -> (keyID: String, type: String?)? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first,
            let data = Base64URL.decode(String(header)),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let keyID = object["kid"] as? String
        else { return nil }
        return (keyID, object["typ"] as? String)
    }
}
