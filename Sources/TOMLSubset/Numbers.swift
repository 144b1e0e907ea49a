/// Integers and floats (TOML 1.0.0 §Integer, §Float), and the detection of
/// the unsupported date/time values (§Offset Date-Time, §Local Date-Time,
/// §Local Date, §Local Time).
extension DocumentParser {
    /// Parses a number starting at the cursor (a digit, a sign, `inf` or `nan`).
    ///
    /// The whole run of characters that can occur in a number is read and
    /// must form exactly one number; whatever follows is checked by the caller.
    mutating func parseNumber() throws(TOMLError) -> TOMLValue {
        let start = index
        if looksLikeDateOrTime(at: start) {
            throw failure("dates and times are not supported")
        }
        var end = start
        while let byte = byte(at: end), NumberLiteral.isNumberCharacter(byte) {
            end += 1
        }
        switch NumberLiteral.parse(Array(bytes[start..<end])) {
        case .success(let value):
            index = end
            return value
        case .failure(.leadingZero):
            throw failure("leading zeros are not allowed in numbers")
        case .failure(.outOfRange):
            throw failure("integer is out of range for a 64-bit signed integer")
        case .failure(.invalid):
            throw failure("invalid number")
        }
    }

    /// A full date (`1979-05-27`) starts with four digits and a dash, a time
    /// (`07:32:00`) with two digits and a colon. Neither can start a valid
    /// number, so this never hides one.
    private func looksLikeDateOrTime(at start: Int) -> Bool {
        func digits(_ count: Int) -> Bool {
            (0..<count).allSatisfy { byte(at: start &+ $0).map(ASCII.isDecimalDigit) ?? false }
        }
        return (digits(4) && byte(at: start &+ 4) == ASCII.minus)
            || (digits(2) && byte(at: start &+ 2) == ASCII.colon)
    }
}

/// Validation and conversion of one number token, exactly as §Integer and
/// §Float define them.
enum NumberLiteral {
    enum Failure: Error {
        case invalid
        case leadingZero
        case outOfRange
    }

    /// Letters, digits, `_`, `.`, `+` and `-`: every character of any number.
    static func isNumberCharacter(_ byte: UInt8) -> Bool {
        ASCII.isLetter(byte) || ASCII.isDecimalDigit(byte)
            || byte == ASCII.underscore || byte == ASCII.dot
            || byte == ASCII.plus || byte == ASCII.minus
    }

    static func parse(_ token: [UInt8]) -> Result<TOMLValue, Failure> {
        var start = 0
        var negative = false
        let signed = token.first == ASCII.plus || token.first == ASCII.minus
        if signed {
            negative = token.first == ASCII.minus
            start = 1
        }
        // §Float: "inf" and "nan", optionally signed.
        let unsigned = token[start...]
        if unsigned.elementsEqual("inf".utf8) {
            return .success(.float(negative ? -Double.infinity : Double.infinity))
        }
        if unsigned.elementsEqual("nan".utf8) {
            return .success(.float(negative ? -Double.nan : Double.nan))
        }
        // §Integer: "0x", "0o" and "0b" prefixes; no sign allowed.
        if !signed, token.count >= 2, token[0] == ASCII.zero, let radix = prefixRadix(token[1]) {
            return parsePrefixed(token, radix: radix)
        }
        return parseDecimal(token, from: start, negative: negative)
    }

    /// Decimal integers and floats. §Integer: "Leading zeros are not
    /// allowed"; "each underscore must be surrounded by at least one digit on
    /// each side". §Float: a fractional part is a decimal point followed by
    /// one or more digits; an exponent is an E (upper or lower case), an
    /// optional sign and digits (leading zeros allowed).
    private static func parseDecimal(_ token: [UInt8], from start: Int, negative: Bool) -> Result<TOMLValue, Failure> {
        guard let integerEnd = scanDigits(token, from: start, radix: 10) else { return .failure(.invalid) }
        var end = integerEnd
        var isFloat = false
        if end < token.count, token[end] == ASCII.dot {
            guard let fractionEnd = scanDigits(token, from: end + 1, radix: 10) else { return .failure(.invalid) }
            end = fractionEnd
            isFloat = true
        }
        if end < token.count, token[end] == 0x65 || token[end] == 0x45 {  // e, E
            var exponentStart = end + 1
            if exponentStart < token.count, token[exponentStart] == ASCII.plus || token[exponentStart] == ASCII.minus {
                exponentStart += 1
            }
            guard let exponentEnd = scanDigits(token, from: exponentStart, radix: 10) else { return .failure(.invalid) }
            end = exponentEnd
            isFloat = true
        }
        guard end == token.count else { return .failure(.invalid) }
        if token[start] == ASCII.zero && integerEnd - start > 1 {
            return .failure(.leadingZero)
        }
        if isFloat {
            let text = String(decoding: token.filter { $0 != ASCII.underscore }, as: UTF8.self)
            guard let value = Double(text) else { return .failure(.invalid) }
            return .success(.float(value))
        }
        return accumulate(token[start..<integerEnd], radix: 10, negative: negative)
    }

    private static func parsePrefixed(_ token: [UInt8], radix: Int64) -> Result<TOMLValue, Failure> {
        guard let end = scanDigits(token, from: 2, radix: radix), end == token.count else {
            return .failure(.invalid)
        }
        return accumulate(token[2...], radix: radix, negative: false)
    }

    private static func prefixRadix(_ byte: UInt8) -> Int64? {
        switch byte {
        case 0x78: 16  // x
        case 0x6F: 8   // o
        case 0x62: 2   // b
        default: nil
        }
    }

    private static func digitValue(_ byte: UInt8, radix: Int64) -> Int64? {
        guard let value = ASCII.hexValue(byte), Int64(value) < radix else { return nil }
        return Int64(value)
    }

    /// Returns the end of a run of digits starting at `start` in which every
    /// underscore sits between two digits, or nil when no digit is at `start`.
    private static func scanDigits(_ token: [UInt8], from start: Int, radix: Int64) -> Int? {
        guard start < token.count, digitValue(token[start], radix: radix) != nil else { return nil }
        var end = start + 1
        while end < token.count {
            if digitValue(token[end], radix: radix) != nil {
                end += 1
            } else if token[end] == ASCII.underscore, end + 1 < token.count,
                      digitValue(token[end + 1], radix: radix) != nil {
                end += 2
            } else {
                break
            }
        }
        return end
    }

    /// Converts validated digits (underscores skipped) with overflow checks;
    /// negative numbers accumulate downwards so that Int64.min is reachable.
    private static func accumulate(_ digits: ArraySlice<UInt8>, radix: Int64, negative: Bool) -> Result<TOMLValue, Failure> {
        var value: Int64 = 0
        for byte in digits where byte != ASCII.underscore {
            guard let digit = digitValue(byte, radix: radix) else { return .failure(.invalid) }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: radix)
            let (next, overflowB) = negative
                ? shifted.subtractingReportingOverflow(digit)
                : shifted.addingReportingOverflow(digit)
            if overflowA || overflowB {
                return .failure(.outOfRange)
            }
            value = next
        }
        return .success(.integer(value))
    }
}
