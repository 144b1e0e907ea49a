import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Where a request comes from, as every per-source limit counts it (README, "Abuse
/// resistance"): the peer, or behind a proxy listed in `trusted_proxies` the last address
/// of `X-Forwarded-For` (the one that proxy appended; earlier ones are the client's to invent).
struct RequestSource: Sendable {
    /// `trusted_proxies`, as `AppRequestContext.sourceKey` spells them.
    let trustedProxies: Set<String>

    init(trustedProxies: [String]) {
        self.trustedProxies = Set(trustedProxies.compactMap { try? SocketAddress(ipAddress: $0, port: 0).ipAddress })
    }

    /// `nil` for a Unix socket or a test channel, which have no address.
    func of(_ request: Request, context: AppRequestContext) -> String? {
        // No proxy is trusted by default: then the peer's address is not even spelled out.
        guard !trustedProxies.isEmpty, let peer = context.remoteAddress?.ipAddress, trustedProxies.contains(peer),
            let forwarded = request.headers[values: Self.forwardedFor].last?.split(separator: ",").last
        else { return context.sourceKey }
        let address = forwarded.trimmingCharacters(in: .whitespaces)
        return (try? SocketAddress(ipAddress: address, port: 0)).map { _ in address } ?? context.sourceKey
    }

    private static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
}
