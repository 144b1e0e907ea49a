/// A TOML value of one of the supported types (TOML 1.0.0 §String,
/// §Integer, §Float, §Boolean, §Array, §Table and §Inline Table).
///
/// Equality compares strings by their exact UTF-8 bytes (not by Unicode
/// canonical equivalence), and floats with `==` except that any NaN equals
/// any NaN (TOML 1.0.0 §Float allows `nan`, `+nan` and `-nan`).
public indirect enum TOMLValue: Sendable, Equatable {
    /// §String: any of the four string forms, escapes resolved. May contain NUL.
    case string(String)
    /// §Integer: a decimal, hexadecimal, octal or binary integer.
    case integer(Int64)
    /// §Float: includes `inf`, `-inf` and `nan`.
    case float(Double)
    /// §Boolean: `true` or `false`.
    case boolean(Bool)
    /// §Array: elements may be of mixed types.
    case array([TOMLValue])
    /// §Table or §Inline Table.
    case table(TOMLTable)

    /// The type's name with an article, for messages: "a string", "an
    /// integer", "a floating-point number", "a boolean", "an array" or "a table".
    public var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a floating-point number"
        case .boolean: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }

    public static func == (lhs: TOMLValue, rhs: TOMLValue) -> Bool {
        switch (lhs, rhs) {
        case let (.string(left), .string(right)):
            left.utf8.elementsEqual(right.utf8)
        case let (.integer(left), .integer(right)):
            left == right
        case let (.float(left), .float(right)):
            left == right || (left.isNaN && right.isNaN)
        case let (.boolean(left), .boolean(right)):
            left == right
        case let (.array(left), .array(right)):
            left == right
        case let (.table(left), .table(right)):
            left == right
        default:
            false
        }
    }
}
