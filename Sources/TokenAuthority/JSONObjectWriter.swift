/// Writes one flat JSON object with members in the order given: the wire format
/// of RFC 6749 §5.1 / §5.2 responses, without an encoder on the hot path.
public struct JSONObjectWriter {
    private var text = "{"
    private var first = true

    public init() {}

    public mutating func add(_ name: String, _ value: String) {
        member(name)
        Self.appendQuoted(value, to: &text)
    }

    public mutating func add(_ name: String, _ value: Int) {
        member(name)
        text += String(value)
    }

    public mutating func add(_ name: String, _ value: Bool) {
        member(name)
        text += value ? "true" : "false"
    }

    /// An array of strings.
    public mutating func add(_ name: String, _ values: [String]) {
        member(name)
        text += "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            Self.appendQuoted(value, to: &text)
        }
        text += "]"
    }

    /// An array of values that are JSON texts already (e.g. stored JWKs).
    public mutating func add(_ name: String, json values: [String]) {
        member(name)
        text += "[" + values.joined(separator: ",") + "]"
    }

    public mutating func finish() -> String {
        text + "}"
    }

    private mutating func member(_ name: String) {
        if !first { text += "," }
        first = false
        Self.appendQuoted(name, to: &text)
        text += ":"
    }

    /// RFC 8259 §7 string escaping.
    public static func appendQuoted(_ value: String, to text: inout String) {
        // Tokens, JWTs and most names need no escaping: append them whole. Native
        // strings are scanned as a plain buffer of bytes; a JWT answer scanned
        // through the UTF-8 view was 1 % of the JWT grant's CPU.
        let needsEscaping = { (byte: UInt8) in byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") }
        let plain = value.utf8.withContiguousStorageIfAvailable { !$0.contains(where: needsEscaping) }
        if plain ?? !value.utf8.contains(where: needsEscaping) {
            text += "\""
            text += value
            text += "\""
            return
        }
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}

extension OAuthError {
    /// `{"error":…,"error_description":…}` (RFC 6749 §5.2).
    public var json: String {
        var object = JSONObjectWriter()
        object.add("error", code.rawValue)
        object.add("error_description", errorDescription)
        return object.finish()
    }
}
