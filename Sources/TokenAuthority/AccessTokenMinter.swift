/// Makes new access tokens in the client's format and finds the row of a
/// presented one (docs/token-renewal.md; docs/storage.md, "Secrets at rest").
///
/// - An opaque token is `TokenCipher.newToken()`; the database keeps its lookup
///   key (`TokenCipher.lookupKey`) and its AES-GCM ciphertext, so that reuse can
///   hand the same token back.
/// - A JWT access token (RFC 9068) is signed by `signer`, its jti another
///   `newToken()`; the database keeps only the jti's lookup key in the domain
///   `"jti:"` and the signing key's id.
///
/// The two key spaces never meet: a JWT's key hashes `"jti:" + jti`, and a
/// presented token is looked up as an opaque one only when it has an opaque
/// token's form. So neither the jti (readable in any JWT) nor `"jti:" + jti`
/// presented as an opaque token finds the JWT's row.
public struct AccessTokenMinter: Sendable {
    private let cipher: TokenCipher
    private let signer: (any AccessTokenSigner)?

    /// - Parameter signer: `nil` when JWT access tokens are not available.
    public init(cipher: TokenCipher, signer: (any AccessTokenSigner)?) {
        self.cipher = cipher
        self.signer = signer
    }

    public func mint(
        _ format: AccessTokenFormat, for key: TokenKey, issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds
    ) async throws -> MintedAccessToken {
        switch format {
        case .opaque:
            return try mintOpaque()
        case .jwt:
            guard let signer else { throw OAuthError.serverError.with(description: "JWT access tokens are not configured.") }
            let tokenID = TokenCipher.newToken()
            let unsigned = try await signer.prepare(
                AccessTokenClaims(tokenID: tokenID, key: key, issuedAt: issuedAt, expiresAt: expiresAt))
            return MintedAccessToken(
                sealed: SealedToken(digest: Self.digest(ofTokenID: tokenID), ciphertext: [], signingKeyID: unsigned.keyID),
                value: .unsigned(unsigned.sign))
        }
    }

    /// A new opaque token: nothing about its key goes into it.
    public func mintOpaque() throws -> MintedAccessToken {
        let token = TokenCipher.newToken()
        return MintedAccessToken(sealed: try cipher.seal(token), value: .ready(token))
    }

    /// The key under which a presented token's row is stored: its verified
    /// jti's for a JWT this server signed, the token's own for an opaque token;
    /// `nil` for anything else, which is no token of this server.
    public func lookupDigest(of presented: String) async -> [UInt8]? {
        if Self.looksLikeJWT(presented) {
            guard let signer, let tokenID = await signer.verifiedTokenID(of: presented) else { return nil }
            return Self.digest(ofTokenID: tokenID)
        }
        guard TokenCipher.isOpaqueToken(presented) else { return nil }
        return TokenCipher.lookupKey(of: presented)
    }

    static func digest(ofTokenID tokenID: String) -> [UInt8] {
        TokenCipher.lookupKey(of: tokenID, domain: "jti:")
    }

    /// A JWS compact serialisation has exactly two dots; an opaque token has none.
    private static func looksLikeJWT(_ token: String) -> Bool {
        token.utf8.lazy.filter { $0 == UInt8(ascii: ".") }.count == 2
    }
}

/// A new access token: what the database keeps, and the value the client gets.
public struct MintedAccessToken: Sendable {
    public var sealed: SealedToken
    fileprivate var value: Value

    fileprivate enum Value {
        case ready(String)
        /// A JWT, whose row needs only its jti and its key's id.
        case unsigned(@Sendable () throws -> String)
    }

    /// Runs `write`, which stores `sealed`, and returns what it wrote with the token's value.
    ///
    /// A JWT is signed beside the write, in a child task: its ES256 signature, about a
    /// sixth of a JWT issuance's CPU, then runs while the request waits for its
    /// transaction, instead of before it (docs/performance.md, "What keeps it fast"). A
    /// signature cannot fail with a key that opened; should one fail all the same, the
    /// request fails after its write, as one whose answer is lost does.
    public func whileWriting<Written>(
        _ write: () async throws -> Written
    ) async throws -> (written: Written, token: String) {
        switch value {
        case .ready(let token):
            return (try await write(), token)
        case .unsigned(let sign):
            async let token = sign()
            let written = try await write()
            return (written, try await token)
        }
    }
}
