import Foundation
import HTTPTypes

/// An HTTP answer as a client sees it: what the in-process router tests, the
/// end-to-end tests and the raw-socket tests all read.
///
/// `reply["error"]` is a member of the JSON body, `reply.header("Retry-After")` a
/// header field. Its description names the status and the error code only, so a
/// failing expectation never prints a token.
public struct HTTPReply: Sendable, CustomStringConvertible {
    public var status: Int
    public var headers: HTTPFields
    public var body: String

    public init(status: Int, headers: HTTPFields, body: String) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header field of that name (case-insensitive, RFC 9110 §5.1); nil for a name no
    /// field could have.
    public func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// The body as a JSON object; nil when it is not one.
    public var json: [String: JSONValue]? {
        try? JSONDecoder().decode([String: JSONValue].self, from: Data(body.utf8))
    }

    /// The names of the JSON body's members.
    public var members: Set<String> { Set(json?.keys.map { $0 } ?? []) }

    /// A member of the JSON body.
    public subscript(member: String) -> JSONValue? { json?[member] }

    public func string(_ member: String) -> String? { self[member]?.string }
    public func int(_ member: String) -> Int? { self[member]?.int }

    public var accessToken: String? { string("access_token") }
    public var refreshToken: String? { string("refresh_token") }
    public var scope: String? { string("scope") }
    public var expiresIn: Int? { int("expires_in") }

    /// Status and error code only: never a token, whatever the body holds.
    public var description: String {
        if let error = string("error") { return "HTTP \(status) \(error)" }
        return "HTTP \(status)"
    }
}

/// A JSON value, Sendable and comparable with literals.
public enum JSONValue: Decodable, Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral
{
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value when it is a whole number.
    public var int: Int? {
        if case .number(let value) = self, value.rounded() == value, abs(value) < 1e18 { return Int(value) }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// A member, when this is an object.
    public subscript(member: String) -> JSONValue? { object?[member] }
}
