import Crypto

import Foundation

/// Seals tokens for storage (docs/storage.md, "Secrets at rest"): a key derived from SHA-256 to look
/// them up by, and an AES-GCM ciphertext under the server key so that reuse can return the very same
/// token, while a copy of the database file alone reveals none.
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

    /// The 32 bytes a token's row is stored and found under (`token_sha256`; docs/storage.md,
    /// "Secrets at rest"). For a token of `newToken()`'s form: the 6 bytes of time it begins with,
    /// then the first 26 bytes of the SHA-256 of `domain + token`, so that new rows land together at
    /// one end of the unique index instead of on a random leaf each. For any other string, a UUID
    /// token of an earlier version among them: the SHA-256 of `domain + token`.
    /// - Parameter domain: keeps apart what is hashed for different uses ("jti:" for a JWT's id).
    public static func lookupKey(of token: String, domain: String = "") -> [UInt8] {
        let digest = Self.digest(of: domain + token)
        guard let time = issueTime(of: token) else { return digest }
        return time + digest.prefix(26)
    }

    public func seal(_ token: String) throws -> SealedToken {
        // A random 96-bit nonce, as swift-crypto would draw, from `secureRandomBytes`.
        let box = try AES.GCM.seal(Array(token.utf8), using: key, nonce: AES.GCM.Nonce(data: secureRandomBytes(12)))
        guard let combined = box.combined else { throw TokenCipherError.sealFailed }
        return SealedToken(digest: Self.lookupKey(of: token), ciphertext: Array(combined))
    }

    public func open(_ ciphertext: [UInt8]) throws -> String {
        let box = try AES.GCM.SealedBox(combined: ciphertext)
        let plaintext = try AES.GCM.open(box, using: key)
        guard let token = String(validating: plaintext, as: UTF8.self) else { throw TokenCipherError.notUTF8 }
        return token
    }

    /// A new token: 26 bytes in base64url (RFC 4648 §5), 35 characters. The first 6 bytes are the
    /// time in milliseconds since 1970 (big-endian, as a UUIDv7 begins, RFC 9562 §5.7), which orders
    /// the rows' lookup keys; the other 20 are random, from `secureRandomBytes`: a guess succeeds
    /// with a chance of 2^-160, as RFC 6749 §10.10 recommends. Whoever holds the token can read when
    /// it was made, as a JWT's `iat` tells. Earlier versions issued random UUIDs (122 random bits);
    /// those still work (`isOpaqueToken`, `lookupKey`).
    public static func newToken() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        let milliseconds = UInt64(max(0, time.tv_sec)) * 1000 + UInt64(max(0, time.tv_nsec)) / 1_000_000
        return Base64URL.encode(timeBytes(milliseconds) + secureRandomBytes(20))
    }

    /// The low 48 bits of `milliseconds`, big-endian: the 6 bytes a token begins with.
    private static func timeBytes(_ milliseconds: UInt64) -> [UInt8] {
        (0..<6).map { UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - $0))) }
    }

    /// The 6 bytes of time that begin a token of `newToken()`'s form; `nil` for any other string.
    static func issueTime(of token: String) -> [UInt8]? {
        guard Base64URL.isEncoding(token, ofByteCount: 26) else { return nil }
        // 8 characters of 6 bits are the 48 bits of time.
        var time: UInt64 = 0
        for byte in token.utf8.prefix(8) {
            guard let sextet = Base64URL.sextet(byte) else { return nil }
            time = time << 6 | UInt64(sextet)
        }
        return timeBytes(time)
    }

    /// Has the form of `newToken()`, or of the lowercase random UUIDs that earlier versions issued.
    public static func isOpaqueToken(_ token: String) -> Bool {
        issueTime(of: token) != nil || (token.utf8.count == 36 && UUID(uuidString: token) != nil)
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
