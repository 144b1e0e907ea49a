import Crypto

import Foundation

/// Client identifiers and secrets.
///
/// Secrets are stored as a plain SHA-256, not through a slow KDF: a generated
/// secret carries 256 random bits, so no amount of hashing speed makes guessing
/// it feasible, while a slow KDF would put ~50 ms of CPU in front of every
/// `client_credentials` request and make client authentication the bottleneck.
/// Operator-chosen secrets are therefore required to be long (`minimumLength`).
public enum ClientSecret {
    /// An operator-supplied secret must be at least this long (at ~6 bits a
    /// character, well over 128 bits when chosen at random).
    public static let minimumLength = 32

    /// 32 random bytes (256 bits), base64url without padding: 43 characters.
    public static func generate() -> String {
        Base64URL.encode(secureRandomBytes(32))
    }

    /// 24 random letters and digits (about 143 bits). Never starts with "-", which
    /// a command line would read as an option (`client show -x…`).
    public static func generateClientID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SecureRandomGenerator()
        return String((0..<24).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// What is wrong with an operator-chosen secret: RFC 6749 Appendix A.2 makes
    /// it VSCHARs (printable ASCII), which also keeps it intact in a Basic header.
    public static func problem(_ secret: String) -> String? {
        secret.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) ? nil : "printable ASCII only (RFC 6749 VSCHAR)"
    }

    public static func digest(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Compares digests in constant time.
    public static func matches(_ secret: String, digest: [UInt8]) -> Bool {
        constantTimeEquals(Self.digest(secret), digest)
    }
}
