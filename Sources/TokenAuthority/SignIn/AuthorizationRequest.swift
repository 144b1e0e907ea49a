/// A checked authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect
/// Core §3.1.2.1): every rule of docs/browser-sign-in.md, "GET /oauth2/authorize", held.
public struct AuthorizationRequest: Sendable, Equatable {
    public var client: Client
    /// One of the client's registered URIs, byte for byte.
    public var redirectURI: String
    /// Whether the request named `redirect_uri` (else it is the client's only one): the
    /// code's exchange must then name it too (RFC 6749 §4.1.3).
    public var redirectURIWasNamed: Bool
    /// The scope granted, as the token endpoint grants it (`ScopePolicy`).
    public var scope: ScopeSet
    public var state: String?
    public var nonce: String?
    /// The S256 challenge; `nil` only for a confidential client that sent none.
    public var codeChallenge: String?
    public var prompt: Prompt?
    /// OpenID Connect Core §3.1.2.1 `max_age`: the most seconds since the user last typed
    /// the password that a session may be used for this request without typing it again.
    public var maxAge: Int64?
    /// The query string as received, for the login form to carry through.
    public var query: String

    /// The parameters that ask for the password to be typed again (`prompt=login`, `max_age`):
    /// dropped from the query the login form sends the browser back with, since it just was.
    public static let reauthenticationParameters: Set<String> = ["prompt", "max_age"]

    /// Whether `session` may answer this request without the login page: not with
    /// `prompt=login`, nor when the password was typed more than `max_age` seconds ago.
    public func isSatisfied(by session: SessionRecord, at now: EpochMilliseconds) -> Bool {
        guard prompt != .login else { return false }
        guard let maxAge else { return true }
        return now - session.authTime <= maxAge * 1000
    }

    /// OpenID Connect Core §3.1.2.1 `prompt`, the values this server honours.
    public enum Prompt: String, Sendable {
        /// Ask for the password even with a live session.
        case login
        /// `none`: never show a page, answer a code or `login_required`. (Not named
        /// `none`, which `Optional<Prompt>` would read as `nil`.)
        case noInteraction = "none"
    }
}

/// Why an authorization request is refused, and how the refusal must reach the user.
public enum AuthorizationRejection: Error, Equatable {
    /// No redirect may be trusted (unknown client, unregistered redirect URI): an
    /// error page, with this text, never a redirect (RFC 6749 §4.1.2.1).
    case page(String)
    /// Send the browser back to the client's registered `redirectURI` with the error
    /// (RFC 6749 §4.1.2.1), `state` and `iss` (RFC 9207).
    case redirect(redirectURI: String, error: OAuthError, state: String?)
}

/// Checks authorization requests in the order of docs/browser-sign-in.md.
public struct AuthorizationRequestValidator: Sendable {
    private let clients: any ClientStore
    private let scopePolicy: ScopePolicy

    public init(clients: any ClientStore, scopePolicy: ScopePolicy) {
        self.clients = clients
        self.scopePolicy = scopePolicy
    }

    public func validate(query: String) async throws -> AuthorizationRequest {
        let parameters: FormParameters
        do {
            parameters = try FormParameters(decoding: Array(query.utf8))
        } catch {
            // Which parameter to trust is unknown: a page, not a redirect.
            throw AuthorizationRejection.page("The authorization request is malformed: \(error.errorDescription)")
        }
        // 1. The client and where to send the browser back: only a page until both are known good.
        guard let clientID = parameters["client_id"] else {
            throw AuthorizationRejection.page("The authorization request has no client_id.")
        }
        guard let client = try await clients.client(id: clientID), client.grantTypes.contains(.authorizationCode)
        else {
            throw AuthorizationRejection.page("The client is unknown, or not registered for the authorization code flow.")
        }
        let redirectURI: String
        if let requested = parameters["redirect_uri"] {
            guard client.redirectURIs.contains(where: { $0.sameBytes(as: requested) }) else {
                throw AuthorizationRejection.page("The redirect_uri is not registered for this client.")
            }
            redirectURI = requested
        } else {
            guard client.redirectURIs.count == 1, let only = client.redirectURIs.first else {
                throw AuthorizationRejection.page(
                    "The request has no redirect_uri, and the client has none or several registered.")
            }
            redirectURI = only
        }
        let state = parameters["state"]
        func refuse(_ error: OAuthError) -> AuthorizationRejection {
            .redirect(redirectURI: redirectURI, error: error, state: state)
        }

        // 2. Everything else is said to the client, at its redirect URI.
        // A request object (OpenID Connect Core §6, RFC 9101) would carry parameters that
        // supersede the query's: refused, never ignored, so none of them is silently dropped.
        if parameters["request"] != nil {
            throw refuse(OAuthError(.requestNotSupported, "Request objects (the request parameter) are not supported."))
        }
        if parameters["request_uri"] != nil {
            throw refuse(OAuthError(.requestURINotSupported, "The request_uri parameter is not supported."))
        }
        guard let responseType = parameters["response_type"] else {
            throw refuse(.invalidRequest.with(description: "The request has no response_type."))
        }
        guard responseType == "code" else {
            throw refuse(
                OAuthError(.unsupportedResponseType, "Only response_type=code is supported."))
        }
        let challenge = parameters["code_challenge"]
        switch (challenge, parameters["code_challenge_method"]) {
        case (nil, nil):
            guard !client.isPublic else {
                throw refuse(.invalidRequest.with(description: "A public client must send a PKCE code_challenge (S256)."))
            }
        case (let challenge?, "S256"?) where PKCE.isChallenge(challenge):
            break
        case (_?, "S256"?):
            throw refuse(.invalidRequest.with(description: "The code_challenge must be 43 base64url characters."))
        case (_, let method?) where method != "S256":
            throw refuse(.invalidRequest.with(description: "Only the S256 code_challenge_method is supported."))
        default:
            throw refuse(
                .invalidRequest.with(description: "code_challenge needs code_challenge_method=S256, and the other way round."))
        }
        let requested: ScopeSet
        do {
            requested = try ScopeSet(parsing: parameters["scope"])
        } catch {
            throw refuse(error)
        }
        var prompt: AuthorizationRequest.Prompt?
        if let value = parameters["prompt"] {
            guard let known = AuthorizationRequest.Prompt(rawValue: value) else {
                throw refuse(.invalidRequest.with(description: "Only prompt=login and prompt=none are supported."))
            }
            prompt = known
        }
        var maxAge: Int64?
        if let value = parameters["max_age"] {
            // Seconds, a non-negative integer; ten digits are over three centuries.
            guard (1...10).contains(value.utf8.count), value.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let seconds = Int64(value)
            else {
                throw refuse(.invalidRequest.with(description: "max_age must be a whole number of seconds."))
            }
            maxAge = seconds
        }
        return AuthorizationRequest(
            client: client, redirectURI: redirectURI, redirectURIWasNamed: parameters["redirect_uri"] != nil,
            scope: scopePolicy.grantedScope(requested: requested, clientScopes: client.scopes), state: state,
            nonce: parameters["nonce"], codeChallenge: challenge, prompt: prompt, maxAge: maxAge, query: query)
    }
}
