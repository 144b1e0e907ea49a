import Crypto

import Foundation

/// Seals tokens for storage (docs/storage.md, "Secrets at rest"): a SHA-256 digest to look them up
/// by, and an AES-GCM ciphertext under the server key so that reuse can return the very same token,
/// while a copy of the database file alone reveals none.
public struct TokenCipher: Sendable {
    private let key: SymmetricKey

    /// - Parameter keyBytes: 32 bytes (AES-256).
    public init(keyBytes: [UInt8]) throws(TokenCipherError) {
        guard keyBytes.count == 32 else { throw .badKeyLength(keyBytes.count) }
        key = SymmetricKey(data: keyBytes)
    }

    public static func digest(of token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    public func seal(_ token: String) throws -> SealedToken {
        // A random 96-bit nonce, as swift-crypto would draw, from `secureRandomBytes`.
        let box = try AES.GCM.seal(Array(token.utf8), using: key, nonce: AES.GCM.Nonce(data: secureRandomBytes(12)))
        guard let combined = box.combined else { throw TokenCipherError.sealFailed }
        return SealedToken(digest: Self.digest(of: token), ciphertext: Array(combined))
    }

    public func open(_ ciphertext: [UInt8]) throws -> String {
        let box = try AES.GCM.SealedBox(combined: ciphertext)
        let plaintext = try AES.GCM.open(box, using: key)
        guard let token = String(bytes: plaintext, encoding: .utf8) else { throw TokenCipherError.notUTF8 }
        return token
    }

    /// A new opaque token: a random (version 4) UUID, 122 random bits from
    /// `secureRandomBytes`, in the seed's form (lowercase, RFC 9562 §4 and §5.4). Written
    /// here: Foundation's `UUID()` opened, read and closed /dev/urandom for every token.
    public static func newToken() -> String {
        var bytes = secureRandomBytes(16)
        bytes[6] = bytes[6] & 0x0F | 0x40  // version 4
        bytes[8] = bytes[8] & 0x3F | 0x80  // variant 10
        return String(unsafeUninitializedCapacity: 36) { output in
            var written = 0
            for (index, byte) in bytes.enumerated() {
                if [4, 6, 8, 10].contains(index) {
                    output[written] = UInt8(ascii: "-")
                    written += 1
                }
                output[written] = hexDigits[Int(byte >> 4)]
                output[written + 1] = hexDigits[Int(byte & 0x0F)]
                written += 2
            }
            return written
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Has the form of `newToken()`: 36 characters, a UUID.
    public static func isOpaqueToken(_ token: String) -> Bool {
        token.utf8.count == 36 && UUID(uuidString: token) != nil
    }
}

public enum TokenCipherError: Error, CustomStringConvertible {
    case badKeyLength(Int)
    case sealFailed
    case notUTF8

    public var description: String {
        switch self {
        case .badKeyLength(let count): "the token encryption key must be 32 bytes, found \(count)"
        case .sealFailed: "AES-GCM sealing failed"
        case .notUTF8: "a decrypted token is not UTF-8"
        }
    }
}
