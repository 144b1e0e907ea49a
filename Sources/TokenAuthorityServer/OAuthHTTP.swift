import HTTPTypes
import Logging
import Hummingbird
import NIOCore
import NIOHTTP1
import TokenAuthority

/// The HTTP shape shared by the OAuth endpoints: reading the form body
/// (the form check of docs/token-endpoint.md) and writing JSON answers that are never cached.
enum OAuthHTTP {
    /// `Pragma: no-cache` (RFC 6749 §5.1), which HTTPTypes has no name for.
    static let pragma = HTTPField.Name("Pragma")!

    /// Reads the form body of an OAuth request (docs/token-endpoint.md, "Order of the checks"); a
    /// body over `maximumBodySize` (`[security.http] max_body_size`, 64 KiB by default) is 413
    /// `invalid_request`.
    static func readForm(_ request: Request, maximumBodySize: Int) async throws(OAuthError) -> FormParameters {
        guard isForm(request.headers) else {
            throw OAuthError.invalidRequest.with(
                description: "The request must have Content-Type: application/x-www-form-urlencoded.")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBodySize)
        } catch is NIOTooManyBytesError {
            throw OAuthError.requestTooLarge
        } catch let error as HTTPParserError where error != .invalidEOFState {
            // A malformed chunk: the client's error, not a timeout. (The connection
            // closing mid-body is `invalidEOFState`: an incomplete body, below.)
            throw OAuthError.invalidRequest.with(description: "The request body is malformed.")
        } catch {
            // The client stalled past `request_timeout` mid-body (`RequestDeadlineHandler`),
            // and gets its 408, or went away, and the log line says what happened.
            throw OAuthError.incompleteBody
        }
        return try FormParameters(decoding: Array(body.readableBytesView))
    }

    /// Whether the request's one `Content-Type` names `application/x-www-form-urlencoded`,
    /// its parameters and the case aside (RFC 9110 §8.3.1). Two `Content-Type` fields name
    /// no single type. Read as bytes, without joining the fields or walking characters: this
    /// runs for every OAuth request.
    static func isForm(_ headers: HTTPFields) -> Bool {
        var contentType: String?
        for field in headers where field.name == .contentType {
            guard contentType == nil else { return false }
            contentType = field.value
        }
        guard let contentType else { return false }
        let bytes = contentType.utf8
        let mediaType = bytes[..<(bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex)]
        return mediaType.trimmingOptionalWhitespace.equalsIgnoringASCIICase("application/x-www-form-urlencoded")
    }

    /// A JSON response with `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
    static func response(status: HTTPResponse.Status, json: String, extraHeaders: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [
            .contentType: "application/json;charset=UTF-8",
            .cacheControl: "no-store",
            pragma: "no-cache",
        ]
        headers.append(contentsOf: extraHeaders)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// Renders an RFC 6749 §5.2 error; 401 carries the challenge of RFC 6749 §5.2 / RFC 7235.
    static func response(for error: OAuthError) -> Response {
        var extra: HTTPFields = error.status == 401 ? [.wwwAuthenticate: "Basic realm=\"token-authority\""] : [:]
        if let retryAfter = error.retryAfter { extra[.retryAfter] = String(retryAfter) }
        // A body that did not arrive in time: the connection closes after this answer (RFC 9110 §15.5.9).
        if error.status == 408 { extra[.connection] = "close" }
        return response(status: .init(code: error.status), json: error.json, extraHeaders: extra)
    }

    /// Runs an OAuth endpoint: its `OAuthError`s become their JSON answers; the
    /// database unable to write or answer, 503 `server_error`; anything else, 500
    /// `server_error`. Details go only to the log, and the request's log line
    /// learns the error.
    static func respond(context: AppRequestContext, _ body: () async throws -> Response) async -> Response {
        let error: OAuthError
        do {
            return try await body()
        } catch let oauthError as OAuthError {
            error = oauthError
        } catch let failure as StoreUnavailable {
            context.logger.error("the database is unavailable", metadata: ["error": "\(failure)"])
            error = .serviceUnavailable
        } catch let failure {
            context.logger.error("unexpected failure", metadata: ["error": "\(String(reflecting: failure))"])
            error = .serverError
        }
        context.outcome.error = error
        return response(for: error)
    }

    /// The client credentials of an OAuth request, remembered for its log line.
    static func credentials(
        _ request: Request, form: FormParameters, context: AppRequestContext
    ) throws(OAuthError) -> ClientCredentials? {
        let credentials = try ClientCredentials.from(authorization: authorization(request.headers), form: form)
        context.outcome.clientID = credentials?.clientID
        return credentials
    }

    /// The request's `Authorization`: the one field's value, or, when there are several, their
    /// values joined as `HTTPFields`' subscript joins them, which no scheme parses. The subscript
    /// joins even one value, through a lazy sequence: this runs for every OAuth request, and
    /// `/oauth2/userinfo` reads its bearer token here too.
    static func authorization(_ headers: HTTPFields) -> String? {
        var value: String?
        for field in headers where field.name == .authorization {
            guard value == nil else { return headers[.authorization] }
            value = field.value
        }
        return value
    }
}
