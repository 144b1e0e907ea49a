import Foundation

/// The id and secret a client authenticates with (RFC 6749 §2.3.1), or the id alone
/// of a public client (`token_endpoint_auth_method = none`, RFC 7591 §2).
public struct ClientCredentials: Sendable, Equatable {
    public var clientID: String
    /// `nil`: `client_id` alone, which only a public client may send.
    public var secret: String?

    public init(clientID: String, secret: String?) {
        self.clientID = clientID
        self.secret = secret
    }

    /// Picks the credentials of a request: HTTP Basic (`client_secret_basic`) or
    /// `client_id`/`client_secret` in the body (`client_secret_post`), or `client_id` alone
    /// (`none`, a public client); two methods at once is `invalid_request`
    /// (docs/token-endpoint.md). A body `client_id` beside Basic, naming the same client
    /// byte for byte, is not a second method: OAuth libraries send it (RFC 6749 §4.1.3
    /// asks for it of unauthenticated clients). `nil` when the request carries none.
    public static func from(
        authorization: String?, form: FormParameters
    ) throws(OAuthError) -> ClientCredentials? {
        let basic = try authorization.flatMap { (header) throws(OAuthError) in try parseBasic(header) }
        if let basic {
            guard form["client_secret"] == nil else {
                throw OAuthError.invalidRequest.with(description: "The request uses more than one client authentication method.")
            }
            if let named = form["client_id"], !named.sameBytes(as: basic.clientID) {
                throw OAuthError.invalidRequest.with(
                    description: "The client_id of the body is not the client of the Authorization header.")
            }
            return basic
        }
        let inBody = form["client_id"] != nil || form["client_secret"] != nil
        guard inBody else { return nil }
        guard let id = form["client_id"] else {
            throw OAuthError.invalidClient.with(description: "Client authentication failed: client_secret without client_id.")
        }
        return ClientCredentials(clientID: id, secret: form["client_secret"])
    }

    /// `Basic base64(form-encoded id ":" form-encoded secret)`. A header of another
    /// scheme is not client authentication (`nil`); a broken Basic header is `invalid_client`.
    /// hummingbird-auth's parser does not form-decode the parts, so this one does.
    public static func parseBasic(_ header: String) throws(OAuthError) -> ClientCredentials? {
        // Byte-level: this runs on every token request, and Foundation's
        // CharacterSet trimming and String lowercasing showed in the profile.
        let bytes = header.utf8.drop { $0 == UInt8(ascii: " ") }
        let scheme = bytes.prefix { $0 != UInt8(ascii: " ") }
        guard scheme.count == 5, zip(scheme, "basic".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let encoded = bytes[scheme.endIndex...].filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
        guard !encoded.isEmpty,
            let decoded = Data(base64Encoded: Data(encoded)).map(Array.init),
            let colon = decoded.firstIndex(of: UInt8(ascii: ":")),
            let id = try? FormParameters.decodeComponent(decoded[decoded.startIndex..<colon]),
            let secret = try? FormParameters.decodeComponent(decoded[decoded.index(after: colon)...]),
            !id.isEmpty
        else { throw brokenBasic }
        return ClientCredentials(clientID: id, secret: secret)
    }

    private static let brokenBasic = OAuthError.invalidClient.with(
        description: "Client authentication failed: malformed HTTP Basic credentials.")
}
