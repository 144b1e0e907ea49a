import Foundation
import Testing
import TokenAuthority

// Browser sign-in's rows (docs/browser-sign-in.md): sessions shared by every instance, and
// authorization codes redeemed at most once (RFC 6749 §4.1.2).
extension StoreConformance {
    static let signInChecks: [StoreCheck] = [
        StoreCheck("a session is live until it expires or ends; ending it twice ends it once") { fixture in
            let store = fixture.store
            let digest = Array(repeating: UInt8(3), count: 32)
            try await store.createSession(
                NewSession(digest: digest, username: "alice", authTime: 1000, createdAt: 1000, expiresAt: 5000))
            #expect(try await store.liveSession(digest: digest, at: 4999) == SessionRecord(username: "alice", authTime: 1000, expiresAt: 5000))
            #expect(try await store.liveSession(digest: digest, at: 5000) == nil)
            #expect(try await store.liveSession(digest: Array(repeating: 4, count: 32), at: 2000) == nil)
            #expect(try await store.endSession(digest: digest, at: 2000))
            #expect(try await !store.endSession(digest: digest, at: 2001))
            #expect(try await store.liveSession(digest: digest, at: 2001) == nil)
        },
        StoreCheck("deleting a user ends their sessions and codes") { fixture in
            let store = fixture.store
            try await store.createSession(
                NewSession(digest: Array(repeating: 3, count: 32), username: "alice", authTime: 1, createdAt: 1, expiresAt: 9000))
            try await store.createAuthorizationCode(code(digest: 5))
            #expect(try await store.deleteUser(named: "alice"))
            #expect(try await fixture.count("SELECT count(*) FROM sessions") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM authorization_codes") == 0)
        },
        StoreCheck("a code is redeemed once, by its own client, before it expires") { fixture in
            let store = fixture.store
            try await store.createAuthorizationCode(code(digest: 5))
            let digest = Array(repeating: UInt8(5), count: 32)
            // Another client, or an unknown code, learns nothing and changes nothing
            #expect(try await store.redeemAuthorizationCode(digest: digest, clientID: "other", at: 2000) == .unknown)
            #expect(try await store.redeemAuthorizationCode(digest: Array(repeating: 6, count: 32), clientID: "app", at: 2000) == .unknown)
            // The first redemption gets the grant, the second is a replay
            #expect(try await store.redeemAuthorizationCode(digest: digest, clientID: "app", at: 2000) == .redeemed(grant))
            #expect(try await store.redeemAuthorizationCode(digest: digest, clientID: "app", at: 2001) == .replayed)
            // A code past its expiry is refused and stays unredeemed
            try await store.createAuthorizationCode(code(digest: 7))
            #expect(try await store.redeemAuthorizationCode(digest: Array(repeating: 7, count: 32), clientID: "app", at: 61_000) == .expired)
            #expect(try await fixture.count("SELECT count(*) FROM authorization_codes WHERE redeemed_at IS NULL") == 1)
        },
        StoreCheck("a code keeps whether its authorization request named the redirect URI") { fixture in
            for (digest, named) in [(UInt8(8), true), (9, false)] {
                var code = code(digest: digest)
                code.grant.redirectURIWasNamed = named
                try await fixture.store.createAuthorizationCode(code)
                #expect(
                    try await fixture.store.redeemAuthorizationCode(
                        digest: code.digest, clientID: "app", at: 2000) == .redeemed(code.grant))
            }
            #expect(try await fixture.count("SELECT count(*) FROM authorization_codes_view WHERE redirect_uri_named = 0") == 1)
        },
        StoreCheck("eight simultaneous redemptions of one code over two handles: one wins, seven are replays") { fixture in
            try await fixture.store.createAuthorizationCode(code(digest: 5))
            let other = try await fixture.harness.open()
            defer { Task { try? await other.close() } }
            let stores: [any TokenDatabase] = [fixture.store, other]
            let outcomes = try await withThrowingTaskGroup(of: CodeRedemption.self) { group in
                for index in 0..<8 {
                    let store = stores[index % 2]
                    group.addTask {
                        try await store.redeemAuthorizationCode(digest: Array(repeating: 5, count: 32), clientID: "app", at: 2000)
                    }
                }
                return try await group.reduce(into: [CodeRedemption]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .redeemed(grant) }.count == 1, "\(outcomes)")
            #expect(outcomes.filter { $0 == .replayed }.count == 7)
        },
        StoreCheck("a replayed code revokes the family its exchange handed out, whether the family was recorded before or after") {
            fixture in
            let store = fixture.store
            // Given a code redeemed, its tokens issued and recorded, then the code presented again
            let pair = try fixture.newPair()
            let issued = try await fixture.issue(pair)
            let family = try #require(issued.refreshToken?.familyID)
            try await store.createAuthorizationCode(code(digest: 5))
            let digest = Array(repeating: UInt8(5), count: 32)
            _ = try await store.redeemAuthorizationCode(digest: digest, clientID: "app", at: 2000)
            try await store.recordAuthorizationCodeFamily(digest: digest, familyID: family, at: 2000)
            #expect(try await store.redeemAuthorizationCode(digest: digest, clientID: "app", at: 3000) == .replayed)
            // Then the family's tokens are REVOKED
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens WHERE state = 'REVOKED'") == 1)

            // Given another code replayed before its exchange recorded the family it handed out
            let second = try await fixture.issue(try fixture.newPair(at: 4000), retiring: .inactive)
            let secondFamily = try #require(second.refreshToken?.familyID)
            try await store.createAuthorizationCode(code(digest: 8, at: 4000))
            let secondDigest = Array(repeating: UInt8(8), count: 32)
            _ = try await store.redeemAuthorizationCode(digest: secondDigest, clientID: "app", at: 4000)
            #expect(try await store.redeemAuthorizationCode(digest: secondDigest, clientID: "app", at: 4001) == .replayed)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 1)
            // When the exchange records it, the family is revoked at once
            try await store.recordAuthorizationCodeFamily(digest: secondDigest, familyID: secondFamily, at: 4002)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 0)
        },
        StoreCheck("cleanup deletes sessions ended or expired, and codes expired, longer than retain ago") { fixture in
            let store = fixture.store
            for (byte, expiresAt) in [(UInt8(1), EpochMilliseconds(5000)), (2, 50_000), (3, 50_000)] {
                try await store.createSession(
                    NewSession(digest: Array(repeating: byte, count: 32), username: "alice", authTime: 1, createdAt: 1, expiresAt: expiresAt))
            }
            _ = try await store.endSession(digest: Array(repeating: 2, count: 32), at: 6000)
            try await store.createAuthorizationCode(code(digest: 5, at: 1000))
            try await store.createAuthorizationCode(code(digest: 6, at: 9000))
            // At 10 000 with 3 000 retained: session 1 expired at 5 000 and session 2 ended at 6 000
            // go; session 3 and both codes (expiring at 61 000 and 69 000) stay
            #expect(try await store.purgeTokens(now: 10_000, retainFor: 3000) == TokenPurgeCount(sessions: 2))
            #expect(try await store.liveSession(digest: Array(repeating: 3, count: 32), at: 10_000) != nil)
            // At 65 000: session 3 (expired at 50 000) and code 5 go, code 6 stays
            #expect(
                try await store.purgeTokens(now: 65_000, retainFor: 3000)
                    == TokenPurgeCount(sessions: 1, authorizationCodes: 1))
            #expect(try await fixture.count("SELECT count(*) FROM authorization_codes") == 1)
        },
        StoreCheck("clients keep their redirect URIs, logout URIs and whether they are public") { fixture in
            let client = Client(
                clientID: "spa", name: "SPA", secretDigest: Array(repeating: 1, count: 32),
                grantTypes: [.authorizationCode, .refreshToken], scopes: nil, tokenFormat: .opaque, mayIntrospect: false,
                createdAt: 10, redirectURIs: ["https://spa.example/cb", "http://127.0.0.1:8080/cb?x=1"],
                postLogoutRedirectURIs: ["https://spa.example/"], isPublic: true)
            try await fixture.store.createClient(client)
            #expect(try await fixture.store.client(id: "spa") == client)
            #expect(try await fixture.store.client(id: "app")?.isPublic == false)
            #expect(try await fixture.store.client(id: "app")?.redirectURIs == [])
        },
    ]

    /// The grant every code of these checks stands for.
    static let grant = AuthorizationCodeGrantRecord(
        clientID: "app", username: "alice", redirectURI: "https://app.example/callback", redirectURIWasNamed: true,
        scope: "openid", codeChallenge: String(repeating: "A", count: 43), nonce: "n-0S6", authTime: 900)

    /// A code of alice's for `app`, issued at `at`, valid 60 s; its digest is 32 bytes of `digest`.
    static func code(digest: UInt8, at: EpochMilliseconds = 1000) -> NewAuthorizationCode {
        NewAuthorizationCode(
            digest: Array(repeating: digest, count: 32), grant: grant, issuedAt: at, expiresAt: at + 60_000)
    }
}
