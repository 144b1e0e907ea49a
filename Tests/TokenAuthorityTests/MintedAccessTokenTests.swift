import Dispatch
import Synchronization
import Testing
import TokenAuthority

/// `MintedAccessToken.whileWriting`: the write of a new token's row, and its value.
@Suite struct MintedAccessTokenTests {
    static let key = TokenKey(clientID: "client", subject: .client("client"), scope: ScopeSet(validated: ["read"]))

    static func minter(signer: (any AccessTokenSigner)? = nil) throws -> AccessTokenMinter {
        AccessTokenMinter(cipher: try TokenCipher(keyBytes: Array(repeating: 7, count: 32)), signer: signer)
    }

    @Test("a JWT is signed while its row is written, with the key its row names")
    func jwtIsSignedDuringTheWrite() async throws {
        let writeBegan = DispatchSemaphore(value: 0)
        let signer = FakeSigner(keyID: "key-1") { claims in
            // Signed only once the write has begun: run one after the other, this waits in vain.
            writeBegan.wait(timeout: .now() + .seconds(10)) == .success ? "signed " + claims.tokenID : "not concurrent"
        }
        let minted = try await Self.minter(signer: signer).mint(.jwt, for: Self.key, issuedAt: 1_000, expiresAt: 2_000)
        #expect(minted.sealed.signingKeyID == "key-1")
        #expect(minted.sealed.ciphertext.isEmpty)

        let (written, token) = try await minted.whileWriting {
            writeBegan.signal()
            return "row"
        }

        #expect(written == "row")
        #expect(token.hasPrefix("signed "), "\(token)")
    }

    @Test("an opaque token's value is the one sealed for its row, and the write runs once")
    func opaqueTokenIsAtHand() async throws {
        let cipher = try TokenCipher(keyBytes: Array(repeating: 7, count: 32))
        let minted = try AccessTokenMinter(cipher: cipher, signer: nil).mintOpaque()
        let writes = Mutex(0)

        let (_, token) = try await minted.whileWriting { writes.withLock { $0 += 1 } }

        #expect(writes.withLock { $0 } == 1)
        #expect(try cipher.open(minted.sealed.ciphertext) == token)
        #expect(minted.sealed.digest == TokenCipher.lookupKey(of: token))
    }

    @Test("a write that fails fails the request, the signature notwithstanding")
    func failedWriteFails() async throws {
        let minted = try await Self.minter(signer: FakeSigner(keyID: "key-1") { _ in "signed" })
            .mint(.jwt, for: Self.key, issuedAt: 1_000, expiresAt: 2_000)

        await #expect(throws: OAuthError.self) {
            _ = try await minted.whileWriting { () async throws -> Int in throw OAuthError.serverError }
        }
    }
}

/// Signs by calling `sign`, under one key id.
private struct FakeSigner: AccessTokenSigner {
    let keyID: String
    let sign: @Sendable (AccessTokenClaims) throws -> String

    func prepare(_ claims: AccessTokenClaims) async throws -> UnsignedAccessToken {
        UnsignedAccessToken(keyID: keyID) { try sign(claims) }
    }

    func signIDToken(_ claims: IDTokenClaims) async throws -> String { "" }

    func verifiedTokenID(of token: String) async -> String? { nil }
}
