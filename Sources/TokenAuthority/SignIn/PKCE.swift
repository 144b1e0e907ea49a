import Crypto
import Foundation

/// Proof Key for Code Exchange (RFC 7636) with the `S256` method only: `plain`
/// would hand the verifier to whoever sees the authorization request (RFC 9700 §2.1.1).
public enum PKCE {
    /// A challenge is `BASE64URL(SHA256(verifier))` without padding: 43 characters.
    public static func isChallenge(_ text: String) -> Bool {
        Base64URL.isEncoding(text, ofByteCount: 32)
    }

    /// 43 to 128 unreserved characters (RFC 7636 §4.1).
    public static func isVerifier(_ text: String) -> Bool {
        (43...128).contains(text.utf8.count) && text.utf8.allSatisfy(isUnreserved)
    }

    /// The S256 challenge of `verifier`.
    public static func challenge(of verifier: String) -> String {
        Base64URL.encode(SHA256.hash(data: Array(verifier.utf8)))
    }

    /// Whether `verifier` is well formed and hashes to `challenge`, compared in constant time.
    public static func verifier(_ verifier: String, matches challenge: String) -> Bool {
        isVerifier(verifier) && constantTimeEquals(Array(Self.challenge(of: verifier).utf8), Array(challenge.utf8))
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        Base64URL.isAlphabet(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
    }
}
