import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TokenAuthority

/// The request context of every route: Hummingbird's core context, the peer's
/// address (for `[security.source_limits]`) and what the request's log line
/// reports once it is answered.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    let outcome = RequestOutcome()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The key `[security.source_limits]` counts under: the IPv4 address, or an
    /// IPv6 address's /64 (one host's allocation); `nil` for a Unix socket or a test channel.
    var sourceKey: String? {
        switch remoteAddress {
        case .v4(let address): return address.host
        case .v6(let address):
            let groups = address.host.split(separator: ":", omittingEmptySubsequences: false)
            if let mapped = groups.last, mapped.contains(".") { return String(mapped) }  // ::ffff:a.b.c.d
            return Self.prefix64(of: address.host)
        default: return nil
        }
    }

    private static func prefix64(of host: String) -> String? {
        var bytes = [UInt8](repeating: 0, count: 16)
        // A link-local address may carry its zone (`fe80::1%eth0`), which is no part of the address.
        let address = String(host.prefix { $0 != "%" })
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return nil }
        return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":") + "::/64"
    }
}

/// What a handler learned about its request, for the middleware that logs and
/// limits after it: the presented client id and the OAuth error answered.
final class RequestOutcome: Sendable {
    private struct Fields {
        var clientID: String?
        var error: OAuthError?
    }

    private let fields = Mutex(Fields())

    var clientID: String? {
        get { fields.withLock { $0.clientID } }
        set { fields.withLock { $0.clientID = newValue } }
    }

    var error: OAuthError? {
        get { fields.withLock { $0.error } }
        set { fields.withLock { $0.error = newValue } }
    }
}
