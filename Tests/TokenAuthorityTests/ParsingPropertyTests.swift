import Foundation
import PropertyBased
import Testing
import TokenAuthority

/// Bounded property tests of the parsers that read what a
/// client sends: the `application/x-www-form-urlencoded` body, the HTTP Basic
/// header and the `scope` parameter. Each property runs a fixed number of random
/// cases (a new seed each run; a failure prints its seed and the shrunk input);
/// together they take two to three seconds in a debug build.
///
/// The bodies never throw: an error thrown inside `propertyCheck` is swallowed by
/// PropertyBased rather than reported, so every outcome is turned into a `Result`
/// and checked with `#expect`.
@Suite("Parsing: property tests of the form, Basic-header and scope parsers")
struct ParsingPropertyTests {
    // MARK: The form body

    @Test("arbitrary bytes: parameters, or invalid_request (400) with a short printable description")
    func arbitraryBodiesNeverCrash() async {
        await propertyCheck(count: 600, input: Arb.formBody) { body in
            // Given any bytes: %, +, &, =, hex and not, valid and invalid UTF-8, raw or percent-encoded
            // When they are decoded
            let result = decodeForm(body)

            // Then they are parameters with non-empty values that a client could have sent,
            // or invalid_request (the typed throws rules out any other error type)
            switch result {
            case .success(let form):
                #expect(form.values.values.allSatisfy { !$0.isEmpty })
                #expect(decodeForm(Array(FormStyle.browser.encode(form.values).utf8)) == .success(form))
            case .failure(let error):
                #expect(error.code == .invalidRequest)
                #expect(error.status == 400)
                #expect(isShortPrintableASCII(error.errorDescription), "\(error.errorDescription.debugDescription)")
            }
            // And a view that does not start at index 0 (as the server's ByteBuffer view) reads the same
            #expect(decodeForm(([UInt8(ascii: "&")] + body)[1...]) == result)
        }
    }

    @Test("a component decodes as Foundation's removingPercentEncoding does, with '+' as a space")
    func componentAgreesWithFoundation() async {
        await propertyCheck(count: 400, input: Arb.componentText) { text in
            // Given any text of literal characters and valid or broken %XX escapes
            // When our decoder and Foundation's read it
            let ours = Result { () throws(OAuthError) in try FormParameters.decodeComponent(Array(text.utf8)) }
            let foundation = text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding

            // Then both give the same text, or both refuse a broken escape. Two differences are
            // Foundation's (on Linux): it puts U+FFFD where the bytes are not UTF-8, which we refuse,
            // and it drops a leading U+FEFF, which we keep as the client sent it
            switch ours {
            case .failure(let error) where error.errorDescription.contains("control character"):
                // (Checked before UTF-8 validity, so Foundation may refuse the same text as not UTF-8.)
                #expect(foundation == nil || foundation?.unicodeScalars.contains(where: isRefusedControl) == true)
            case .success(let decoded) where decoded.unicodeScalars.first == "\u{FEFF}":
                #expect(String(decoded.unicodeScalars.dropFirst()) == foundation || decoded == foundation)
            case .success(let decoded):
                #expect(decoded == foundation)
            case .failure(let error) where error.errorDescription.contains("UTF-8"):
                #expect(foundation == nil || foundation?.unicodeScalars.contains("\u{FFFD}") == true)
            case .failure:
                #expect(foundation == nil)
            }
        }
    }

    @Test("any parameters encoded as a browser or curl does decode to exactly those parameters")
    func encodedParametersRoundTrip() async {
        await propertyCheck(count: 400, input: Arb.parameters(0...8), Gen<FormStyle>.case, Gen.bool) {
            parameters, style, strayAmpersands in
            // Given distinct names with arbitrary Unicode values (empty ones too), encoded by a client
            let body = style.encode(parameters, strayAmpersands: strayAmpersands)

            // When the body is decoded
            let result = decodeForm(Array(body.utf8))

            // Then it is exactly those parameters, an empty value counting as omitted
            #expect(result == .success(FormParameters(parameters.filter { !$0.value.isEmpty })))
        }
    }

    @Test("repeating any parameter, whatever its values and spelling, is invalid_request")
    func repeatedParameterIsInvalidRequest() async {
        await propertyCheck(
            count: 300, input: Arb.parameters(1...8), Gen.int(in: 0...1000), Arb.text(0...12), Gen<FormStyle>.case
        ) { parameters, pick, repeatedValue, repeatStyle in
            // Given a valid body and one of its names sent a second time, maybe spelt differently
            let name = parameters.keys.sorted()[pick % parameters.count]
            var pairs = parameters.map { FormStyle.browser.encode($0.key) + "=" + FormStyle.browser.encode($0.value) }
            pairs.insert(repeatStyle.encode(name) + "=" + repeatStyle.encode(repeatedValue), at: pick % (pairs.count + 1))

            // When it is decoded
            let result = decodeForm(Array(pairs.joined(separator: "&").utf8))

            // Then it is refused as invalid_request naming the repetition
            guard case .failure(let error) = result else {
                Issue.record("a repeated parameter was accepted")
                return
            }
            #expect(error.code == .invalidRequest)
            #expect(error.errorDescription.hasPrefix("Repeated parameter"))
            #expect(isShortPrintableASCII(error.errorDescription), "\(error.errorDescription.debugDescription)")
        }
    }

    @Test("a control character other than tab, anywhere in a name or value, raw or escaped, is invalid_request")
    func controlCharactersAreRefused() async {
        await propertyCheck(
            count: 300, input: Arb.parameters(1...6), Gen.int(in: 0...1000), Arb.controlScalar, Gen.bool, Gen<FormStyle>.case
        ) { parameters, pick, control, inName, style in
            // Given a valid body, and one of its names or values with a control character (NUL, CR, LF, ESC, DEL, …)
            let name = parameters.keys.sorted()[pick % parameters.count]
            var tainted = parameters
            let value = tainted.removeValue(forKey: name) ?? ""
            let position = pick % (value.unicodeScalars.count + 1)
            var scalars = Array(value.unicodeScalars)
            scalars.insert(control, at: position)
            if inName {
                tainted[name + String(String.UnicodeScalarView(scalars))] = "x"
            } else {
                tainted[name] = String(String.UnicodeScalarView(scalars))
            }

            // When it is decoded
            let result = decodeForm(Array(style.encode(tainted).utf8))

            // Then it is refused as invalid_request: `ci%00x` never reaches a lookup as `ci`
            guard case .failure(let error) = result else {
                Issue.record("a control character was accepted")
                return
            }
            #expect(error.code == .invalidRequest && error.errorDescription.contains("control character"))
        }
    }

    @Test("very long bodies (64 KiB to 384 KiB) decode exactly or fail without crashing")
    func veryLongBodies() async {
        // Bounded by size rather than count: four rounds, each a few bodies of 64 KiB and more
        await propertyCheck(count: 4, input: Arb.text(1...40), Gen.int(in: 1_000...5_000), Arb.formBody) {
            text, parameterCount, junk in
            // Given one value of 64 to 128 KiB (up to 384 KiB once encoded), thousands of distinct
            // parameters, and 64 KiB of junk
            let value = String(repeating: text, count: 65_536 * (1 + parameterCount % 2) / text.utf8.count + 1)
            let long = decodeForm(Array(("v=" + FormStyle.browser.encode(value)).utf8))
            let many = decodeForm(Array((0..<parameterCount).map { "p\($0)=\($0)" }.joined(separator: "&").utf8))
            let junkBody = Array(repeatElement(junk, count: 65_536 / max(1, junk.count) + 1).joined())
            let junkResult = decodeForm(junkBody)

            // Then each is decoded exactly, or refused as invalid_request
            #expect(long == .success(FormParameters(["v": value])))
            #expect((try? many.get())?.values.count == parameterCount)
            if case .failure(let error) = junkResult { #expect(error.code == .invalidRequest) }
        }
    }

    // MARK: HTTP Basic

    @Test("arbitrary Authorization headers: credentials, nothing, or invalid_request/invalid_client")
    func arbitraryAuthorizationNeverCrashes() async {
        await propertyCheck(count: 600, input: Arb.authorization, Arb.bodyCredentials) { header, form in
            // Given any header value, and maybe client_id/client_secret in the body
            // When the credentials are picked
            let result = credentials(header, form)

            // Then they are credentials with an id, none when nothing was sent, or an OAuth error
            switch result {
            case .success(let credentials?):
                #expect(!credentials.clientID.isEmpty)
            case .success(nil):
                #expect(form["client_id"] == nil && form["client_secret"] == nil)
            case .failure(let error):
                #expect(error.code == .invalidRequest || error.code == .invalidClient, "\(error)")
                #expect(error.status == (error.code == .invalidClient ? 401 : 400))
                #expect(isShortPrintableASCII(error.errorDescription))
            }
            // And a Basic header that is accepted reads back the same when encoded again
            if case .success(let basic?) = parseBasic(header) {
                let again = Arb.basicHeader(id: basic.clientID, secret: basic.secret ?? "", style: .browser)
                #expect(parseBasic(again) == .success(basic))
            }
        }
    }

    @Test("any id and secret, form-encoded then base64'd into Basic, come back exactly")
    func basicRoundTrip() async {
        await propertyCheck(
            count: 400, input: Arb.text(1...24), Arb.text(0...32), Gen<FormStyle>.case, Arb.basicSpelling
        ) { id, secret, style, spelling in
            // Given an id and a secret (':' '%' '+' and any Unicode), encoded as RFC 6749 §2.3.1 says
            let header = Arb.basicHeader(
                id: id, secret: secret, style: style, scheme: spelling.scheme, spaces: spelling.spaces,
                rawColonsInSecret: spelling.rawColonsInSecret)

            // When the header is read, with nothing in the body
            let result = credentials(header, FormParameters())

            // Then the same id and secret come back
            #expect(result == .success(ClientCredentials(clientID: id, secret: secret)))
        }
    }

    @Test("Basic with client_secret in the body, or with a body client_id naming another client, is invalid_request; with the same client_id it is Basic's credentials")
    func basicPlusBody() async {
        await propertyCheck(count: 300, input: Arb.text(1...16), Arb.text(0...16), Arb.bodyCredentials, Gen.bool) {
            id, secret, drawn, sameID in
            // Given a valid Basic header and a body with client_id and/or client_secret, its
            // client_id (when there is one) sometimes the header's own
            guard drawn["client_id"] != nil || drawn["client_secret"] != nil else { return }
            var form = drawn
            if sameID, drawn["client_id"] != nil {
                var values = drawn.values
                values["client_id"] = id
                form = FormParameters(values)
            }
            let header = Arb.basicHeader(id: id, secret: secret, style: .browser)

            // When the credentials are picked
            let result = credentials(header, form)

            // Then a second method (client_secret) or another client is invalid_request (400),
            // and the same client's id alone beside Basic is Basic's credentials
            if form["client_secret"] == nil, let named = form["client_id"], named.utf8.elementsEqual(id.utf8) {
                #expect(result == .success(ClientCredentials(clientID: id, secret: secret)))
                return
            }
            guard case .failure(let error) = result else {
                Issue.record("two client authentication methods, or two clients, were accepted")
                return
            }
            #expect(error.code == .invalidRequest)
            #expect(error.status == 400)
        }
    }

    @Test("body credentials alone: both parameters give credentials, client_id alone a public client's, client_secret alone is invalid_client")
    func bodyCredentialsAlone() async {
        await propertyCheck(count: 200, input: Arb.bodyCredentials) { form in
            // Given a body with any of client_id and client_secret, and no header
            // When the credentials are picked
            let result = credentials(nil, form)

            // Then both give exactly those credentials, client_id alone an id without a secret,
            // client_secret alone is invalid_client, none is nothing
            switch (form["client_id"], form["client_secret"]) {
            case (let id?, let secret): #expect(result == .success(ClientCredentials(clientID: id, secret: secret)))
            case (nil, nil): #expect(result == .success(nil))
            default:
                if case .failure(let error) = result {
                    #expect(error.code == .invalidClient)
                } else {
                    Issue.record("a client_secret alone was accepted")
                }
            }
        }
    }

    // MARK: scope

    @Test("any scope parameter: a canonical set that reads back the same, or invalid_scope")
    func scopeParameter() async {
        await propertyCheck(count: 400, input: Arb.scopeParameter) { parameter in
            // Given any scope parameter
            // When it is parsed
            let result = Result { () throws(OAuthError) in try ScopeSet(parsing: parameter) }

            // Then it is refused exactly when a token holds a character RFC 6749 §3.3 excludes
            let tokens = parameter.split(separator: " ").map(String.init)
            let allowed = tokens.allSatisfy { $0.utf8.allSatisfy { $0 == 0x21 || (0x23...0x7E).contains($0) && $0 != 0x5C } }
            switch result {
            case .success(let scopes):
                #expect(allowed)
                // the set of tokens, sorted, without repeats, reading back as itself
                #expect(scopes.scopes == Array(Set(tokens)).sorted())
                #expect((try? ScopeSet(parsing: scopes.description)) == scopes)
                #expect((try? ScopeSet(parsing: tokens.shuffled().joined(separator: "  "))) == scopes)
            case .failure(let error):
                #expect(!allowed)
                #expect(error.code == .invalidScope)
            }
        }
    }
}

// MARK: - Helpers

private func decodeForm(_ bytes: some Collection<UInt8>) -> Result<FormParameters, OAuthError> {
    Result { () throws(OAuthError) in try FormParameters(decoding: Array(bytes)) }
}

private func credentials(_ header: String?, _ form: FormParameters) -> Result<ClientCredentials?, OAuthError> {
    Result { () throws(OAuthError) in try ClientCredentials.from(authorization: header, form: form) }
}

private func parseBasic(_ header: String) -> Result<ClientCredentials?, OAuthError> {
    Result { () throws(OAuthError) in try ClientCredentials.parseBasic(header) }
}

/// An error description fit for a JSON body and a log line whatever the input:
/// printable ASCII, and short (it never echoes a long input).
/// What a form refuses: the C0 controls but tab, and DEL.
private func isRefusedControl(_ scalar: Unicode.Scalar) -> Bool {
    (scalar.value < 0x20 && scalar.value != 0x09) || scalar.value == 0x7F
}

private func isShortPrintableASCII(_ text: String) -> Bool {
    text.utf8.count <= 200 && text.utf8.allSatisfy { (0x20..<0x7F).contains($0) }
}

/// How a client writes `application/x-www-form-urlencoded`.
private enum FormStyle: CaseIterable, Sendable {
    /// The WHATWG URL Standard's serializer (browsers, URLSearchParams): alphanumerics
    /// and `*-._` as they are, space as `+`, every other byte `%XX` in uppercase.
    case browser
    /// curl --data-urlencode: unreserved `-._~` as they are, space as `%20`.
    case curl
    /// Every byte `%xx` in lowercase, `+` and all.
    case everythingLowercase

    func encode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            if isKept(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else if byte == UInt8(ascii: " "), self == .browser {
                encoded += "+"
            } else {
                let digits = Array(self == .everythingLowercase ? "0123456789abcdef" : "0123456789ABCDEF")
                encoded += "%\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
            }
        }
        return encoded
    }

    func encode(_ parameters: [String: String], strayAmpersands: Bool = false) -> String {
        let pairs = parameters.map { encode($0.key) + "=" + encode($0.value) }
        return strayAmpersands ? "&" + pairs.joined(separator: "&&") + "&" : pairs.joined(separator: "&")
    }

    private func isKept(_ byte: UInt8) -> Bool {
        let alphanumeric = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        switch self {
        case .browser: return alphanumeric || "*-._".utf8.contains(byte)
        case .curl: return alphanumeric || "-._~".utf8.contains(byte)
        case .everythingLowercase: return false
        }
    }
}

/// The generators.
private enum Arb {
    /// Any Unicode scalar: surrogate code points are not scalars, so they are skipped.
    static let anyScalar = Gen<UInt32>.value(in: 0...0x10F7FF).map { Unicode.Scalar($0 < 0xD800 ? $0 : $0 + 0x800)! }
    static let asciiScalar = Gen<UInt32>.value(in: 0...0x7F).map { Unicode.Scalar($0)! }
    /// The characters the form, Basic and TOML syntaxes give a meaning to, and Unicode troublemakers:
    /// NUL, DEL, no-break space, é precomposed and a combining accent, ZWJ, BOM, U+FFFD, a line
    /// separator, an emoji and the last scalar.
    static let specialScalar = Gen<Unicode.Scalar?>.element(
        of: Array("%+&=:; \t\r\n#\"'\\[]{}.,_-*~/?".unicodeScalars)
            + ["\u{0}", "\u{7F}", "\u{A0}", "\u{E9}", "\u{301}", "\u{200D}", "\u{FEFF}", "\u{FFFD}", "\u{2028}",
               "\u{1F600}", "\u{10FFFF}"]
    ).map { $0! }
    static let scalar = Gen<Unicode.Scalar>.frequency(
        (weight: 3, gen: specialScalar), (weight: 3, gen: asciiScalar), (weight: 2, gen: anyScalar))

    /// Text of any Unicode, biased towards the characters that matter.
    /// Text a form may carry: any Unicode but the control characters it refuses (tab is allowed).
    static func text(_ length: ClosedRange<Int>) -> Generator<String, some SendableSequenceType> {
        scalar.array(of: length).map { scalars in
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars.map { isRefusedControl($0) ? "\u{FFFD}" : $0 })
            return text
        }
    }

    /// The C0 controls but tab, and DEL.
    static let controlScalar = Gen<UInt32>.value(in: 0...0x20).map { Unicode.Scalar($0 == 0x09 ? 0x7F : $0 == 0x20 ? 0x00 : $0)! }

    /// Byte sequences that are not UTF-8: a lone continuation byte, an overlong NUL, an
    /// encoded surrogate, a code point above U+10FFFF, 0xFF, and a truncated é.
    static let invalidUTF8: [[UInt8]] = [[0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0xC3]]

    static func percentEncoded(_ bytes: [UInt8]) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return bytes.flatMap { [UInt8(ascii: "%"), digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }
    }

    /// A hex digit mostly, sometimes a byte that is not one.
    static let nearHexDigit = Gen<UInt8>.frequency(
        (weight: 6, gen: Gen<UInt8?>.element(of: Array("0123456789abcdefABCDEF".utf8)).map { $0! }),
        (weight: 1, gen: Gen<UInt8?>.element(of: Array("gG%+& =".utf8)).map { $0! }),
        (weight: 1, gen: Gen.uint8()))

    /// One piece of a form body.
    static let formChunk = Gen<[UInt8]>.frequency(
        (weight: 4, gen: Gen<UInt8?>.element(of: Array("%+&=".utf8)).map { [$0!] }),
        (weight: 3, gen: Gen.uint8(in: 0x20...0x7E).map { [$0] }),
        (weight: 3, gen: zip(nearHexDigit, nearHexDigit).map { [UInt8(ascii: "%"), $0, $1] }),
        (weight: 2, gen: anyScalar.map { Array(String($0).utf8) }),
        (weight: 2, gen: anyScalar.map { percentEncoded(Array(String($0).utf8)) }),
        (weight: 1, gen: zip(Gen<[UInt8]?>.element(of: invalidUTF8), Gen.bool).map { $1 ? percentEncoded($0!) : $0! }),
        (weight: 1, gen: Gen.uint8().map { [$0] }))

    static let formBody = formChunk.array(of: 0...80).map { Array($0.joined()) }

    /// Text (so valid UTF-8) of literal characters and valid or broken %XX escapes.
    static let componentText = Gen<String>.frequency(
        (weight: 3, gen: scalar.map { String($0) }),
        (weight: 3, gen: zip(nearHexDigit, nearHexDigit).map { String(decoding: [UInt8(ascii: "%"), $0, $1], as: UTF8.self) }),
        (weight: 2, gen: anyScalar.map { String(decoding: percentEncoded(Array(String($0).utf8)), as: UTF8.self) }),
        (weight: 1, gen: Gen<[UInt8]?>.element(of: invalidUTF8).map { String(decoding: percentEncoded($0!), as: UTF8.self) })
    ).array(of: 0...30).map { $0.joined() }

    /// Distinct names (the empty one too) with arbitrary values.
    static func parameters(_ count: ClosedRange<Int>) -> Generator<[String: String], some SendableSequenceType> {
        zip(text(0...12), text(0...24)).array(of: count).map { pairs in
            Dictionary(pairs, uniquingKeysWith: { first, _ in first })
        }.filter { count.contains($0.count) }
    }

    // MARK: Basic

    struct BasicSpelling: Sendable {
        var scheme: String
        var spaces: Int
        var rawColonsInSecret: Bool
    }

    static let basicScheme = Gen<String?>.element(of: ["Basic", "basic", "BASIC", "bAsIc"]).map { $0! }
    static let basicSpelling = zip(basicScheme, Gen.int(in: 1...3), Gen.bool).map { scheme, spaces, raw in
        BasicSpelling(scheme: scheme, spaces: spaces, rawColonsInSecret: raw)
    }

    /// `Basic base64(form-encoded id ":" form-encoded secret)` (RFC 6749 §2.3.1). A secret's
    /// colons may stay raw: the first colon ends the id.
    static func basicHeader(
        id: String, secret: String, style: FormStyle, scheme: String = "Basic", spaces: Int = 1,
        rawColonsInSecret: Bool = false
    ) -> String {
        let encodedSecret = rawColonsInSecret
            ? secret.split(separator: ":", omittingEmptySubsequences: false).map { style.encode(String($0)) }.joined(separator: ":")
            : style.encode(secret)
        let userPass = style.encode(id) + ":" + encodedSecret
        return scheme + String(repeating: " ", count: spaces) + Data(userPass.utf8).base64EncodedString()
    }

    static let anyScheme = Gen<String?>.element(
        of: ["Basic", "basic", "BASIC", "bAsIc", "Bearer", "Basic2", "Basi", "", "Digest", "Basic\t", " Basic"]
    ).map { $0! }
    static let base64ish = Gen<Character?>.element(
        of: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t-_:%")
    ).map { $0! }.string(of: 0...48)

    /// Authorization header values: anything, base64-looking junk, base64 of arbitrary
    /// bytes (so form-decoding of junk), and well-formed headers.
    static let authorization = Gen<String>.oneOf(
        text(0...60),
        zip(anyScheme, Gen.int(in: 0...2), base64ish).map { "\($0)\(String(repeating: " ", count: $1))\($2)" },
        zip(anyScheme, formBody).map { $0 + " " + Data($1).base64EncodedString() },
        zip(text(0...12), text(0...12), Gen<FormStyle>.case, basicSpelling).map { id, secret, style, spelling in
            basicHeader(id: id, secret: secret, style: style, scheme: spelling.scheme, spaces: spelling.spaces)
        })

    /// A body with client_id and/or client_secret, or neither (an empty value is omitted).
    static let bodyCredentials: Generator<FormParameters, some SendableSequenceType> = zip(text(0...10).optional, text(0...10).optional).map { id, secret in
        var values: [String: String] = [:]
        if let id, !id.isEmpty { values["client_id"] = id }
        if let secret, !secret.isEmpty { values["client_secret"] = secret }
        return FormParameters(values)
    }

    // MARK: scope

    static let scopeCharacter = Gen<Character>.frequency(
        (weight: 8, gen: Gen<Character?>.element(of: Array("abcdefgz_:./-!#~[]")).map { $0! }),
        (weight: 3, gen: Gen<Character?>.element(of: [" "]).map { $0! }),
        (weight: 1, gen: Gen<Character?>.element(of: ["\"", "\\", "\t", "é", "\u{7F}", "\u{0}"]).map { $0! }))
    static let scopeParameter = scopeCharacter.string(of: 0...40)
}
