import TokenAuthority

/// Why `deployment.toml` was refused. Every case names the file, and where it can,
/// the line, column and key (README, "Configuration"); none repeats a configured secret.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var key: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// `FILE:LINE:COLUMN: KEY: MESSAGE`, as compilers write theirs, with what is known.
    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        if let key { return "\(location): \(Self.printable(key)): \(message)" }
        return "\(location): \(message)"
    }

    /// A key fit for a message or a log line: control characters escaped, at most 100 characters.
    static func printable(_ key: String) -> String {
        var text = ""
        for scalar in key.unicodeScalars.prefix(100) {
            if IdentifierRules.isControl(scalar) {
                text += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return key.unicodeScalars.count > 100 ? text + "…" : text
    }
}
