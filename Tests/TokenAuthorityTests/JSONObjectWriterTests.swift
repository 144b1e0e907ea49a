import Foundation
import Testing
import TokenAuthority

/// The token endpoint's answers are written by hand (RFC 6749 §5.1): every string
/// must come back, through a JSON parser, exactly as it went in (RFC 8259 §7).
@Suite struct JSONObjectWriterTests {
    private func parsed(_ json: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test("Plain strings are written whole, members in the order given")
    func plainStrings() {
        var writer = JSONObjectWriter()
        writer.add("access_token", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
        writer.add("expires_in", 3600)
        writer.add("active", true)
        writer.add("scopes", ["a", "b"])
        #expect(
            writer.finish() == #"{"access_token":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln","expires_in":3600,"active":true,"scopes":["a","b"]}"#)
    }

    @Test("Quotes, backslashes and control characters are escaped")
    func escapes() {
        var writer = JSONObjectWriter()
        writer.add("q\"", "a\"b\\c\nd\re\tf\u{1}g\u{1F}")
        #expect(writer.finish() == #"{"q\"":"a\"b\\c\nd\re\tf\u0001g\u001f"}"#)
    }

    @Test("Random strings of ASCII, control characters and other scripts parse back to themselves")
    func roundTrips() throws {
        let alphabet: [Character] = ["a", "Z", "0", "\"", "\\", "/", "\n", "\u{0}", "\u{7F}", "é", "€", "𝄞", " ", "."]
        var generator = SystemRandomNumberGenerator()
        for length in 0...40 {
            let value = String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
            var writer = JSONObjectWriter()
            writer.add("value", value)
            #expect(try parsed(writer.finish())["value"] as? String == value)
        }
    }
}
