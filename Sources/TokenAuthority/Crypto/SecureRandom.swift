import Crypto

/// Bytes from a cryptographically secure generator, BoringSSL's (the one swift-crypto
/// makes its keys with, seeded by getrandom): tokens, salts, client secrets, codes, the
/// token encryption key. One call, no system call each time: drawing a byte at a time
/// from `SystemRandomNumberGenerator` was a getrandom call per 8 bytes.
public func secureRandomBytes(_ count: Int) -> [UInt8] {
    guard count > 0 else { return [] }
    return SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
}
