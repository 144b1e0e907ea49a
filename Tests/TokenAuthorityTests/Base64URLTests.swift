import Foundation
import Testing
import TokenAuthority

/// RFC 4648 §5: base64url without padding, as JOSE (RFC 7515 §2) and PKCE (RFC 7636) write it.
@Suite struct Base64URLTests {
    @Test("RFC 4648 §10's test vectors, without their padding")
    func testVectors() {
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (input, expected) in vectors {
            #expect(Base64URL.encode(input.utf8) == expected)
        }
    }

    @Test("62 and 63 are - and _, never + and /")
    func urlSafeAlphabet() {
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.encode([0xFF]) == "_w")
    }

    @Test("Every length up to 64 bytes matches Foundation's base64 with the alphabet swapped, and decodes back")
    func matchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            let encoded = Base64URL.encode(bytes)
            #expect(encoded == expected)
            #expect(Base64URL.decode(encoded) == Data(bytes))
        }
    }
}
