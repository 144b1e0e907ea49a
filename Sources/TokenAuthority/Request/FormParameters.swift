/// An `application/x-www-form-urlencoded` body (RFC 6749 Appendix B), decoded
/// strictly: every byte sequence must be valid percent-encoding of UTF-8, and a
/// parameter may appear once (RFC 6749 §3.2). Parameters sent without a value
/// count as omitted (RFC 6749 §3.1). No name or value may hold a control
/// character but the tab (RFC 6749 Appendix A allows none other in any
/// parameter): a NUL in particular would cut an identifier short in C code
/// below, so `ci%00x` must never authenticate as `ci`.
public struct FormParameters: Sendable, Equatable {
    public private(set) var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// Concrete byte arrays, not `some Collection<UInt8>`: called from another module, a
    /// generic parser runs unspecialised, one witness call per byte, which showed in the
    /// token endpoint's profile (docs/performance.md, "What keeps it fast").
    public init(decoding body: [UInt8]) throws(OAuthError) {
        var values: [String: String] = [:]
        // Names sent without a value: omitted, yet a second one is still a repeat.
        var namesWithoutValue: [String] = []
        var start = body.startIndex
        while start < body.endIndex {
            let end = body[start...].firstIndex(of: UInt8(ascii: "&")) ?? body.endIndex
            defer { start = end + 1 }
            guard end > start else { continue }
            let pair = body[start..<end]
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let name = try Self.decodeComponent(pair[..<(equals ?? end)])
            var value = ""
            if let equals { value = try Self.decodeComponent(pair[(equals + 1)...]) }
            guard values[name] == nil, !namesWithoutValue.contains(name) else {
                throw OAuthError.invalidRequest.with(description: "Repeated parameter: \(Self.printable(name))")
            }
            if value.isEmpty { namesWithoutValue.append(name) } else { values[name] = value }
        }
        self.values = values
    }

    public subscript(name: String) -> String? { values[name] }

    /// The value of a parameter the request must carry.
    public func required(_ name: String) throws(OAuthError) -> String {
        guard let value = values[name] else { throw OAuthError.missingParameter(name) }
        return value
    }

    /// Decodes one name or value: `+` is a space, `%XX` a byte, the result UTF-8
    /// without control characters (tab aside).
    /// Also used for the id and secret of an HTTP Basic header (RFC 6749 §2.3.1).
    public static func decodeComponent(_ bytes: [UInt8]) throws(OAuthError) -> String {
        try decodeComponent(bytes[...])
    }

    public static func decodeComponent(_ bytes: ArraySlice<UInt8>) throws(OAuthError) -> String {
        // Printable ASCII with nothing to decode, the usual case, is the text as it stands.
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "%") && $0 != UInt8(ascii: "+") }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                decoded.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                let high = bytes.index(after: index)
                guard high != bytes.endIndex, let h = hexValue(bytes[high]) else { throw malformedEncoding }
                let low = bytes.index(after: high)
                guard low != bytes.endIndex, let l = hexValue(bytes[low]) else { throw malformedEncoding }
                decoded.append(h << 4 | l)
                index = low
            default:
                decoded.append(byte)
            }
            index = bytes.index(after: index)
        }
        // Bytes below 0x80 never occur inside a multi-byte UTF-8 sequence, so a byte test suffices.
        guard !decoded.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
            throw OAuthError.invalidRequest.with(description: "The request contains a control character.")
        }
        guard let text = String(validating: decoded, as: UTF8.self) else {
            throw OAuthError.invalidRequest.with(description: "The request is not valid UTF-8.")
        }
        return text
    }

    private static let malformedEncoding = OAuthError.invalidRequest.with(description: "Malformed percent-encoding.")

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A parameter name fit for an error message: short, printable ASCII only.
    public static func printable(_ name: String) -> String {
        // The usual case, a client id in every request's log line: nothing to clean.
        let utf8 = name.utf8
        if !utf8.isEmpty, utf8.count <= 40, utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return name }
        let cleaned = String(name.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }.prefix(40))
        return cleaned.isEmpty ? "(unnamed)" : cleaned
    }
}
