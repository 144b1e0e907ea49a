import Testing
import TokenAuthority

@Suite struct ScopeSetTests {
    @Test func isCanonicalDeduplicatedSortedAndSpaceJoined() throws {
        #expect(try ScopeSet(parsing: "b a  a b").description == "a b")
        #expect(try ScopeSet(parsing: nil).isEmpty)
        #expect(try ScopeSet(parsing: "   ").isEmpty)
    }

    @Test(arguments: ["a\"b", "a\\b", "caf\u{e9}", "tab\there"])
    func refusesCharactersOutsideRFC6749(_ scope: String) {
        #expect(throws: OAuthError.self) { try ScopeSet(parsing: scope) }
        #expect((try? ScopeSet(parsing: scope)) == nil)
    }

    @Test func invalidScopeIsTheErrorCode() {
        do {
            _ = try ScopeSet(parsing: "x\"y")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidScope)
        }
    }
}

@Suite struct ScopePolicyTests {
    let policy = try! ScopePolicy(allowedScopes: ["^device_.*", "openid"])

    @Test func clientWithoutScopeListIsGrantedEverything() throws {
        let granted = policy.grantedScope(requested: try ScopeSet(parsing: "read write"), clientScopes: nil)
        #expect(granted.description == "read write")
    }

    @Test func unlistedScopesAreDroppedAndAllowedScopesBypassTheList() throws {
        let granted = policy.grantedScope(
            requested: try ScopeSet(parsing: "read admin openid device_ipad"), clientScopes: ["read"])
        #expect(granted.description == "device_ipad openid read")
    }

    @Test func nothingLeftMeansDefault() throws {
        #expect(policy.grantedScope(requested: try ScopeSet(parsing: "admin"), clientScopes: ["read"]) == .default)
        #expect(policy.grantedScope(requested: try ScopeSet(parsing: nil), clientScopes: nil).description == "default")
    }

    @Test func patternsMatchTheWholeScope() {
        #expect(policy.isAllowedWithoutValidation("device_"))
        #expect(policy.isAllowedWithoutValidation("openid"))
        #expect(!policy.isAllowedWithoutValidation("openid2"))
        #expect(!policy.isAllowedWithoutValidation("my_device_x"))
    }

    @Test func invalidPatternIsRefusedWithItsText() {
        #expect(throws: ScopePatternError.self) { try ScopePolicy(allowedScopes: ["(unclosed"]) }
    }
}
