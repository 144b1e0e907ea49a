import Foundation
import Testing
import TokenAuthority

@Suite struct FormParametersTests {
    func parse(_ body: String) throws -> FormParameters {
        try FormParameters(decoding: Array(body.utf8))
    }

    func errorOf(_ body: [UInt8]) -> OAuthError? {
        do {
            _ = try FormParameters(decoding: body)
            return nil
        } catch {
            return error
        }
    }

    @Test func decodesPlusAndPercentEncoding() throws {
        let form = try parse("grant_type=password&username=J%C3%BCrgen+M&scope=a+b%20c")
        #expect(form["username"] == "Jürgen M")
        #expect(form["scope"] == "a b c")
        #expect(form["grant_type"] == "password")
    }

    @Test func emptyValuesCountAsOmitted() throws {
        let form = try parse("scope=&grant_type=client_credentials&flag")
        #expect(form["scope"] == nil)
        #expect(form["flag"] == nil)
    }

    @Test(arguments: ["a=1&a=2", "grant_type=password&grant_type=password", "x=&x=1"])
    func repeatedParameterIsInvalidRequest(_ body: String) {
        let error = errorOf(Array(body.utf8))
        #expect(error?.code == .invalidRequest)
        #expect(error?.errorDescription.contains("Repeated parameter") == true)
    }

    @Test(arguments: ["a=%G1", "a=%", "a=%4", "a=%FF", "a=%C3", "%FF=1"])
    func malformedEncodingOrUTF8IsInvalidRequest(_ body: String) {
        #expect(errorOf(Array(body.utf8))?.code == .invalidRequest)
    }

    @Test func rawInvalidUTF8IsInvalidRequest() {
        #expect(errorOf([0x61, 0x3D, 0xFF, 0xFE])?.code == .invalidRequest)
    }

    @Test func requiredNamesTheMissingParameter() throws {
        let form = try parse("grant_type=password")
        #expect(throws: OAuthError.missingParameter("username")) { try form.required("username") }
    }
}

@Suite struct ClientCredentialsTests {
    static func basic(_ raw: String) -> String {
        "Basic " + Array(raw.utf8).base64
    }

    @Test func basicIdAndSecretAreFormDecoded() throws {
        let credentials = try ClientCredentials.parseBasic(Self.basic("my+client%2Bid:s%3Acret"))
        #expect(credentials == ClientCredentials(clientID: "my client+id", secret: "s:cret"))
    }

    @Test func otherSchemesAreNotClientAuthentication() throws {
        #expect(try ClientCredentials.parseBasic("Bearer abc") == nil)
    }

    @Test(arguments: ["Basic !!!", "Basic", "Basic " + Array("nocolon".utf8).base64, "Basic " + Array(":secret".utf8).base64])
    func brokenBasicIsInvalidClient(_ header: String) {
        #expect(throws: OAuthError.self) { try ClientCredentials.parseBasic(header) }
        do {
            _ = try ClientCredentials.parseBasic(header)
        } catch {
            #expect(error.code == .invalidClient)
        }
    }

    @Test func bothMethodsAtOnceIsInvalidRequest() throws {
        let form = FormParameters(["client_id": "a", "client_secret": "b"])
        do {
            _ = try ClientCredentials.from(authorization: Self.basic("a:b"), form: form)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidRequest)
        }
    }

    @Test func aNameForAMessageIsShortPrintableASCII() {
        // A short printable id as it stands, the usual case of a log line
        #expect(FormParameters.printable("app-1_x.y~z") == "app-1_x.y~z")
        #expect(FormParameters.printable(String(repeating: "a", count: 40)) == String(repeating: "a", count: 40))
        // Cut at 40 characters, control characters and non-ASCII dropped
        #expect(FormParameters.printable(String(repeating: "b", count: 41)) == String(repeating: "b", count: 40))
        #expect(FormParameters.printable("a\u{0}b\u{7F}c\u{1B}[31m\u{202E}é") == "abc[31m")
        // Nothing left: a placeholder
        #expect(FormParameters.printable("") == "(unnamed)")
        #expect(FormParameters.printable("\u{0}\u{1}é") == "(unnamed)")
    }

    @Test func bodyCredentialsAreUsedWhenThereIsNoHeader() throws {
        let form = FormParameters(["client_id": "a", "client_secret": "b"])
        #expect(try ClientCredentials.from(authorization: nil, form: form) == ClientCredentials(clientID: "a", secret: "b"))
        #expect(try ClientCredentials.from(authorization: nil, form: FormParameters()) == nil)
    }
}

extension Array where Element == UInt8 {
    /// Standard base64, for building Basic headers in tests.
    var base64: String { Data(self).base64EncodedString() }
}
