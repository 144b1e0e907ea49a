import Synchronization

/// The issuer identifier in use (RFC 8414 §2, the `iss` of JWT access tokens):
/// `[oauth] issuer`, or the one derived from `[server]`, which learns the real
/// port when `port = 0` let the system choose one.
public final class IssuerName: Sendable {
    private let configuration: DeploymentConfiguration
    private let value: Mutex<String>

    init(_ configuration: DeploymentConfiguration) {
        self.configuration = configuration
        value = Mutex(configuration.issuer())
    }

    public var current: String { value.withLock { $0 } }

    /// Called once the server listens on `port`.
    func serverBound(toPort port: Int) {
        value.withLock { $0 = configuration.issuer(boundPort: port) }
    }
}
