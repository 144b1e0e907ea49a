import Foundation
import Testing
import TokenAuthority

@Suite struct TokenCipherTests {
    let cipher = try! TokenCipher(keyBytes: Array(repeating: 7, count: 32))

    @Test func sealedTokenOpensToTheSameTokenAndHidesIt() throws {
        let token = TokenCipher.newToken()
        let sealed = try cipher.seal(token)
        #expect(try cipher.open(sealed.ciphertext) == token)
        #expect(sealed.digest == TokenCipher.lookupKey(of: token))
        #expect(!String(decoding: sealed.ciphertext, as: UTF8.self).contains(token))
    }

    @Test func everySealHasANonceOfItsOwn() throws {
        // AES-GCM's combined form starts with the 12-byte nonce
        let nonces = try (0..<500).map { _ in try cipher.seal("same-token").ciphertext.prefix(12) }
        #expect(Set(nonces.map(Array.init)).count == 500)
    }

    @Test func anotherKeyCannotOpenIt() throws {
        let sealed = try cipher.seal("secret-token")
        let other = try TokenCipher(keyBytes: Array(repeating: 8, count: 32))
        #expect(throws: (any Error).self) { try other.open(sealed.ciphertext) }
    }

    @Test func secureRandomBytesHaveTheLengthAskedForAndNeverRepeat() {
        #expect(secureRandomBytes(0).isEmpty)
        #expect([1, 7, 16, 33, 64].allSatisfy { secureRandomBytes($0).count == $0 })
        #expect(Set((0..<1000).map { _ in secureRandomBytes(16) }).count == 1000)
        // Across many refills of the 4 KiB block, and for draws larger than it
        #expect(Set((0..<3000).map { _ in secureRandomBytes(24) }).count == 3000)
        let large = secureRandomBytes(10_000)
        #expect(large.count == 10_000 && Set(large).count > 200)
    }

    @Test func familyIDsArePositiveAndNeverRepeat() {
        let ids = (0..<1000).map { _ in NewTokenPair.newFamilyID() }
        #expect(ids.allSatisfy { $0 >= 1 } && Set(ids).count == 1000)
    }

    @Test func concurrentDrawsNeverShareBytes() async {
        let draws = await withTaskGroup(of: [[UInt8]].self) { group in
            for _ in 0..<8 { group.addTask { (0..<500).map { _ in secureRandomBytes(16) } } }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(draws).count == 4000)
    }

    @Test("A new token is 35 base64url characters: 6 bytes of the time in milliseconds, then 20 random bytes")
    func newTokenForm() throws {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let tokens = (0..<1000).map { _ in TokenCipher.newToken() }
        let after = UInt64(Date().timeIntervalSince1970 * 1000) + 1
        #expect(Set(tokens).count == 1000)
        #expect(tokens.allSatisfy { Base64URL.isEncoding($0, ofByteCount: 26) && TokenCipher.isOpaqueToken($0) })
        for token in tokens {
            let bytes = try #require(Base64URL.decode(token))
            let time = bytes.prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            #expect((before - 1)...after ~= time)
        }
        // 160 random bits: no two tokens share their last 20 bytes.
        #expect(Set(try tokens.map { try #require(Base64URL.decode($0)).suffix(20) }).count == 1000)
    }

    @Test("A new token's lookup key is its 6 bytes of time and 26 bytes of its SHA-256, in order of issue")
    func lookupKeyOfANewToken() throws {
        let token = TokenCipher.newToken()
        let key = TokenCipher.lookupKey(of: token)
        #expect(key.count == 32)
        #expect(Array(key.prefix(6)) == Array(try #require(Base64URL.decode(token)).prefix(6)))
        #expect(Array(key.suffix(26)) == Array(TokenCipher.digest(of: token).prefix(26)))
        // The domain keeps a JWT's jti apart from the same string presented as an opaque token.
        let jtiKey = TokenCipher.lookupKey(of: token, domain: "jti:")
        #expect(jtiKey.prefix(6) == key.prefix(6) && jtiKey.suffix(26) == TokenCipher.digest(of: "jti:" + token).prefix(26))
        #expect(jtiKey != key)
        // A token made 2 ms later sorts after it, byte by byte, as the unique index orders them.
        Thread.sleep(forTimeInterval: 0.002)
        let later = TokenCipher.lookupKey(of: TokenCipher.newToken())
        #expect(later.lexicographicallyPrecedes(key) == false && later != key)
    }

    @Test("A UUID token of an earlier version is still an opaque token, found under its SHA-256")
    func earlierUUIDTokens() {
        let uuid = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
        #expect(TokenCipher.isOpaqueToken(uuid))
        #expect(TokenCipher.lookupKey(of: uuid) == TokenCipher.digest(of: uuid))
        #expect(TokenCipher.lookupKey(of: uuid, domain: "jti:") == TokenCipher.digest(of: "jti:" + uuid))
        // Anything else is no token of this server, and gets no time prefix.
        for other in ["", "not-a-token", String(repeating: "A", count: 34), String(repeating: "A", count: 34) + "!", "7C9E6679-7425-40DE-944B-E07FC1F90AE7x"] {
            #expect(!TokenCipher.isOpaqueToken(other))
            #expect(TokenCipher.lookupKey(of: other) == TokenCipher.digest(of: other))
        }
    }

    @Test func keyMustBe32Bytes() {
        #expect(throws: TokenCipherError.self) { try TokenCipher(keyBytes: [1, 2, 3]) }
    }
}

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher(cost: .init(logRounds: 4, blockSize: 8, parallelism: 1))

    @Test func hashCarriesItsParametersAndVerifies() async throws {
        let hash = try await hasher.hash("correct horse")
        #expect(hash.hasPrefix("$scrypt$ln=4,r=8,p=1$"))
        #expect(await hasher.verify("correct horse", against: hash))
        #expect(await !hasher.verify("wrong horse", against: hash))
    }

    @Test func samePasswordGetsDifferentSalts() async throws {
        #expect(try await hasher.hash("pw") != (try await hasher.hash("pw")))
    }

    @Test(arguments: ["", "plain", "$scrypt$ln=30,r=8,p=1$AAAA$AAAA", "$bcrypt$x$y$z"])
    func unreadableOrHostileHashesNeverVerify(_ stored: String) async {
        #expect(await !hasher.verify("pw", against: stored))
    }

    @Test func decoyHashCostsTheSameAndMatchesNoPassword() async {
        #expect(hasher.decoyHash.hasPrefix("$scrypt$ln=4,r=8,p=1$"))
        #expect(PasswordHasher().decoyHash.hasPrefix("$scrypt$ln=15,r=8,p=1$"))
        for password in ["", "admin", "\0"] {
            #expect(await !hasher.verify(password, against: hasher.decoyHash))
        }
    }

    @Test func defaultCostIsStrong() {
        #expect(PasswordHasher().cost == .init(logRounds: 15, blockSize: 8, parallelism: 1))
    }
}

@Suite struct ClientSecretTests {
    @Test func generatedSecretsCarry256Bits() {
        let secret = ClientSecret.generate()
        #expect(secret.count == 43)
        #expect(ClientSecret.generate() != secret)
    }

    @Test func generatedClientIDsAreLettersAndDigitsSoNeverAnOption() {
        for _ in 0..<2000 {
            let id = ClientSecret.generateClientID()
            #expect(id.count == 24)
            #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        }
    }

    @Test func matchesOnlyTheSameSecret() {
        let digest = ClientSecret.digest("s3cret")
        #expect(ClientSecret.matches("s3cret", digest: digest))
        #expect(!ClientSecret.matches("s3cret ", digest: digest))
        #expect(!ClientSecret.matches("s3cret", digest: []))
    }
}

@Suite struct JSONTests {
    @Test func tokenResponseHasExactlyTheSeedMembersInOrder() throws {
        let response = TokenResponse(accessToken: "a", refreshToken: "r", scope: try ScopeSet(parsing: "x"), expiresIn: 5)
        #expect(response.json == #"{"access_token":"a","refresh_token":"r","scope":"x","token_type":"Bearer","expires_in":5}"#)
        let app = TokenResponse(accessToken: "a", refreshToken: nil, scope: .default, expiresIn: 1)
        #expect(app.json == #"{"access_token":"a","scope":"default","token_type":"Bearer","expires_in":1}"#)
    }

    @Test("The username echoed in error_description keeps to RFC 6749 §5.2's characters (quotes, backslashes, controls, bidi overrides and non-ASCII replaced) and is cut at 64 characters")
    func errorDescriptionsAreEscaped() {
        let error = OAuthError.authenticationFailed(for: "a\"b\\c\n\u{1}\u{202E}d")
        #expect(error.json == #"{"error":"invalid_grant","error_description":"Authentication failed for a'b/c???d"}"#)
        let long = OAuthError.authenticationFailed(for: String(repeating: "é", count: 10_000))
        #expect(long.errorDescription == "Authentication failed for " + String(repeating: "?", count: 64) + "...")
    }

    @Test("Every error_description, fixed or built from input, keeps to RFC 6749 §5.2's %x20-21 / %x23-5B / %x5D-7E")
    func errorDescriptionCharacters() {
        let allowed = { (scalar: Unicode.Scalar) in
            (0x20...0x21).contains(scalar.value) || (0x23...0x5B).contains(scalar.value) || (0x5D...0x7E).contains(scalar.value)
        }
        let errors: [OAuthError] = [
            .invalidRequest.with(description: "tab\there, a quote \" and \\ and § and … and \u{1F600}"),
            OAuthError(.invalidScope, "\u{0}\u{7F}\u{A0}\u{2028}"),
            .authenticationFailed(for: "José \"Pepe\" \u{202E}"),
        ]
        for error in errors {
            #expect(error.errorDescription.unicodeScalars.allSatisfy(allowed), "\(error.errorDescription)")
        }
        #expect(errors[0].errorDescription == "tab?here, a quote ' and / and ? and ? and ?")
    }
}
