import Testing
import TokenAuthority

/// What a client id or username may be when it is created, and how identifiers
/// compare (README, "Security").
@Suite("Identifier rules")
struct IdentifierRulesTests {
    @Test("Client ids are printable ASCII (RFC 6749 VSCHAR) without spaces or colons, 1 to 255 bytes")
    func clientIDs() {
        for good in ["app", "app-K", "a.b_c~d!", String(repeating: "x", count: 255)] {
            #expect(IdentifierRules.clientIDProblem(good) == nil, "\(good)")
        }
        for bad in ["", "app-\u{212A}", "caf\u{E9}", "a b", "a:b", "a\u{0}b", "tab\there", "\u{7F}", String(repeating: "x", count: 256)] {
            #expect(IdentifierRules.clientIDProblem(bad) != nil, "\(bad.debugDescription)")
        }
        // A legacy id with a KELVIN SIGN makes its Latin twin a duplicate
        #expect(IdentifierRules.clientIDProblem("app-K", existing: ["app-\u{212A}"])?.contains("existing") == true)
        #expect(IdentifierRules.clientIDProblem("app-K", existing: ["app-K", "other"]) == nil)
    }

    @Test("Usernames are NFC without control characters; an existing name in another normalization is refused")
    func usernames() {
        #expect(IdentifierRules.usernameProblem("jos\u{E9}") == nil)
        #expect(IdentifierRules.usernameProblem("Zoë Ångström 李") == nil)
        #expect(IdentifierRules.usernameProblem("jose\u{301}")?.contains("NFC") == true)
        #expect(IdentifierRules.usernameProblem("app-\u{212A}")?.contains("NFC") == true)
        #expect(IdentifierRules.usernameProblem("alice\u{0}x") != nil)
        #expect(IdentifierRules.usernameProblem("a\nb") != nil)
        #expect(IdentifierRules.usernameProblem("a\u{2028}b") != nil)
        #expect(IdentifierRules.usernameProblem("") != nil)
        #expect(IdentifierRules.usernameProblem(String(repeating: "é", count: 128)) != nil, "256 bytes")
        // A legacy row in NFD makes its NFC twin a duplicate; the same bytes are the database's to refuse
        #expect(IdentifierRules.usernameProblem("jos\u{E9}", existing: ["bob", "jose\u{301}"])?.contains("existing") == true)
        #expect(IdentifierRules.usernameProblem("jos\u{E9}", existing: ["jos\u{E9}"]) == nil)
    }

    @Test("sameBytes tells canonically equivalent strings apart, as SQL's = does")
    func sameBytes() {
        #expect("app-K".sameBytes(as: "app-K"))
        #expect(!"app-K".sameBytes(as: "app-\u{212A}"))
        #expect(!"jos\u{E9}".sameBytes(as: "jose\u{301}"))
        let scope = ScopeSet.default
        let latin = TokenKey(clientID: "app-K", subject: .user("jos\u{E9}"), scope: scope)
        let kelvin = TokenKey(clientID: "app-\u{212A}", subject: .user("jos\u{E9}"), scope: scope)
        let decomposed = TokenKey(clientID: "app-K", subject: .user("jose\u{301}"), scope: scope)
        #expect(latin != kelvin && latin != decomposed)
        #expect(Set([latin, kelvin, decomposed]).count == 3)
        #expect(latin == TokenKey(clientID: "app-K", subject: .user("jos\u{E9}"), scope: scope))
    }
}
