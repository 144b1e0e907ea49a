/// Bytes from the system's cryptographically secure generator (getrandom on
/// Linux): salts, client secrets, the token encryption key.
public func secureRandomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}
