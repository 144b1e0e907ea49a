import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Bytes from the kernel's cryptographically secure generator (getrandom(2)): tokens,
/// nonces, salts, client secrets, codes, the token encryption key.
///
/// Small draws are served from a 4 KiB block read in one call, so a token request
/// makes no system call for its randomness. (swift-crypto's keys and nonces come from
/// `SystemRandomNumberGenerator`, a getrandom call per 8 bytes: two for each token
/// and two for each AES-GCM nonce, which showed in the profile of every issuance.)
/// A byte is handed out once and zeroed in the block as it goes, so the block never
/// holds a value already used. The process never forks without exec, so no
/// copy of the block ever lives on in a child.
public func secureRandomBytes(_ count: Int) -> [UInt8] {
    guard count > 0 else { return [] }
    guard count <= RandomBlock.size / 8 else {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes(fillFromKernel)
        return bytes
    }
    return RandomBlock.shared.take(count)
}

private final class RandomBlock: Sendable {
    static let size = 4096
    static let shared = RandomBlock()

    private struct State {
        var bytes = [UInt8](repeating: 0, count: RandomBlock.size)
        /// The first byte not yet handed out; `size` when the block is spent.
        var next = RandomBlock.size
    }

    private let state = Mutex(State())

    func take(_ count: Int) -> [UInt8] {
        state.withLock { state in
            if Self.size - state.next < count {
                state.bytes.withUnsafeMutableBytes(fillFromKernel)
                state.next = 0
            }
            let range = state.next..<(state.next + count)
            state.next += count
            return state.bytes.withUnsafeMutableBufferPointer { block in
                let taken = Array(block[range])
                block[range].update(repeating: 0)
                return taken
            }
        }
    }
}

/// Fills `buffer` from the kernel's generator: glibc's `arc4random_buf`, one
/// getrandom(2) call for the whole buffer (falling back to /dev/urandom should the call
/// be missing). Elsewhere, the standard library's generator.
private func fillFromKernel(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let start = buffer.baseAddress else { return }
    #if canImport(Glibc)
        arc4random_buf(start, buffer.count)
    #else
        var generator = SystemRandomNumberGenerator()
        for index in buffer.indices { buffer[index] = generator.next() }
    #endif
}

/// `secureRandomBytes` as a generator for `random(in:using:)`.
public struct SecureRandomGenerator: RandomNumberGenerator {
    public init() {}

    public mutating func next() -> UInt64 {
        secureRandomBytes(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }
}
