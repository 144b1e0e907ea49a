import Foundation

/// Which redirect URIs a client may register (docs/browser-sign-in.md, "Registering an
/// app"). Once registered, a URI is compared by exact string match (RFC 9700 §4.1.3),
/// so these rules decide what may ever receive a code.
public enum RedirectURIRules {
    public static let maximumLength = 2000

    /// What this server adds to a redirect URI's query: the code or the error (RFC 6749
    /// §4.1.2, §4.1.2.1), `state`, and `iss` (RFC 9207).
    static let addedParameters: Set = ["code", "state", "iss", "error", "error_description", "error_uri"]

    /// What is wrong with `uri` as a redirect URI; `nil` when it may be registered.
    public static func problem(_ uri: String) -> String? {
        guard !uri.isEmpty, uri.utf8.count <= maximumLength else {
            return "a redirect URI is 1 to \(maximumLength) bytes"
        }
        guard uri.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            return "'\(printable(uri))' holds a space, a control or a non-ASCII character"
        }
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased() else {
            return "'\(uri)' is not an absolute URI"
        }
        guard components.fragment == nil else { return "'\(uri)' has a fragment (RFC 6749 §3.1.2)" }
        guard components.user == nil, components.password == nil else { return "'\(uri)' has user information" }
        // A query is kept and added to (RFC 6749 §3.1.2), so it must not hold what is added:
        // the client would find two of one, and might read the wrong one.
        if let added = components.queryItems?.first(where: { addedParameters.contains($0.name) }) {
            return "'\(uri)' has \(added.name) in its query, which this server adds to the URI"
        }
        switch scheme {
        case "https":
            guard let host = components.host, !host.isEmpty else { return "'\(uri)' has no host" }
            return nil
        case "http":
            // RFC 8252 §7.3: plain HTTP only back to the device itself.
            guard let host = components.host?.lowercased(), ["127.0.0.1", "[::1]", "::1", "localhost"].contains(host)
            else { return "'\(uri)' is http on a host other than 127.0.0.1, [::1] or localhost: use https" }
            return nil
        default:
            // RFC 8252 §7.1: a native app's private-use scheme, a reversed domain name.
            guard scheme.contains(".") else {
                return "'\(uri)': a scheme other than https must be a native app's reversed domain name (com.example.app)"
            }
            return nil
        }
    }

    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.prefix(80).map { $0.value > 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    }
}
