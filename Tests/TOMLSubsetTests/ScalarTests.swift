import Testing
@testable import TOMLSubset

/// §String, §Integer, §Float, §Boolean.
@Suite struct StringTests {
    @Test func basicStringEscapes() {
        #expect(value(of: #""a\b\t\n\f\r\"\\z""#) == .string("a\u{8}\t\n\u{C}\r\"\\z"))
        #expect(value(of: #""\u00e9\U0001F600\u0041""#) == .string("é😀A"))
        #expect(value(of: "\"tab\tinside\"") == .string("tab\tinside"))
        #expect(value(of: #""""#) == .string(""))
    }

    @Test func escapedNulSurvives() {
        guard case .string(let text)? = value(of: #""ab\u0000cd""#) else {
            Issue.record("not a string")
            return
        }
        #expect(Array(text.utf8) == [0x61, 0x62, 0x00, 0x63, 0x64])
        #expect(parsed(#""\u0000" = 1"#)?["\u{0}"] == .integer(1))
    }

    @Test func literalStrings() {
        #expect(value(of: #"'C:\Users\nodejs\templates'"#) == .string(#"C:\Users\nodejs\templates"#))
        #expect(value(of: "'<\\i\\c*\\s*>'") == .string("<\\i\\c*\\s*>"))
        #expect(value(of: "''") == .string(""))
    }

    @Test func multilineBasicStrings() {
        #expect(value(of: "\"\"\"\nRoses are red\nViolets are blue\"\"\"") == .string("Roses are red\nViolets are blue"))
        #expect(value(of: "\"\"\"\r\none\r\ntwo\"\"\"") == .string("one\ntwo"))
        #expect(value(of: "\"\"\"\nThe quick \\\n\n   brown \\   \n  fox.\"\"\"") == .string("The quick brown fox."))
        #expect(value(of: "\"\"\"a \\\r\n  b\"\"\"") == .string("a b"))
        #expect(value(of: "\"\"\"Here are two quotation marks: \"\". Simple.\"\"\"") == .string("Here are two quotation marks: \"\". Simple."))
        #expect(value(of: "\"\"\"quoted \"x\"\"\"\"") == .string("quoted \"x\""))
        #expect(value(of: "\"\"\"two\"\"\"\"\"") == .string("two\"\""))
        #expect(value(of: "\"\"\"\"\"\"") == .string(""))
        #expect(value(of: "\"\"\"tab\\tnul\\u0000\"\"\"") == .string("tab\tnul\u{0}"))
    }

    @Test func multilineLiteralStrings() {
        #expect(value(of: "'''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''")
            == .string("The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n"))
        #expect(value(of: "'''I [dw]on't need \\d{2} apples'''") == .string("I [dw]on't need \\d{2} apples"))
        #expect(value(of: "''''That,' she said, 'is still pointless.''''") == .string("'That,' she said, 'is still pointless.'"))
        #expect(value(of: "'''a'''''") == .string("a''"))
        #expect(value(of: "'''a\r\nb'''") == .string("a\nb"))
    }

    @Test func stringErrors() {
        expectFailure(#"s = "abc"#, line: 1, column: 5, "unterminated string")
        expectFailure("s = \"ab\ncd\"", line: 1, column: 8, "must end on its line")
        expectFailure(#"s = "a\qb""#, line: 1, column: 7, "invalid escape")
        expectFailure(#"s = "\uD800""#, line: 1, column: 6, "not a Unicode scalar")
        expectFailure(#"s = "\U00110000""#, line: 1, column: 6, "not a Unicode scalar")
        expectFailure(#"s = "\u12G4""#, line: 1, column: 6, "hexadecimal digits")
        expectFailure(#"s = "\u12""#, line: 1, column: 6, "hexadecimal digits")
        expectFailure("s = \"a\u{1}b\"", line: 1, column: 7, "control characters")
        expectFailure("s = \"a\u{7F}b\"", line: 1, column: 7, "control characters")
        expectFailure("s = 'a\u{0}b'", line: 1, column: 7, "control characters")
        expectFailure("s = 'ab", line: 1, column: 5, "unterminated string")
        expectFailure("s = \"\"\"ab\n\ncd", line: 1, column: 5, "unterminated multi-line string")
        expectFailure("s = '''ab", line: 1, column: 5, "unterminated multi-line string")
        expectFailure("s = \"\"\"a\rb\"\"\"", line: 1, column: 9, "carriage return")
        expectFailure("s = '''a\u{8}b'''", line: 1, column: 9, "control characters")
        expectFailure("s = \"\"\"a\\ b\"\"\"", line: 1, column: 9, "invalid escape")
        expectFailure("s = \"\"\"a\"\"\"\"\"\"", line: 1, column: 14, "expected a newline")
    }
}

@Suite struct NumberTests {
    @Test func integers() {
        #expect(value(of: "+99") == .integer(99))
        #expect(value(of: "42") == .integer(42))
        #expect(value(of: "0") == .integer(0))
        #expect(value(of: "-17") == .integer(-17))
        #expect(value(of: "-0") == .integer(0))
        #expect(value(of: "1_000") == .integer(1000))
        #expect(value(of: "5_349_221") == .integer(5_349_221))
        #expect(value(of: "1_2_3_4_5") == .integer(12345))
        #expect(value(of: "0xDEADBEEF") == .integer(0xDEAD_BEEF))
        #expect(value(of: "0xdead_beef") == .integer(0xDEAD_BEEF))
        #expect(value(of: "0o01234567") == .integer(0o1234567))
        #expect(value(of: "0o755") == .integer(0o755))
        #expect(value(of: "0b11010110") == .integer(0b1101_0110))
        #expect(value(of: "0x00") == .integer(0))
        #expect(value(of: "9223372036854775807") == .integer(.max))
        #expect(value(of: "-9223372036854775808") == .integer(.min))
        #expect(value(of: "0x7FFFFFFFFFFFFFFF") == .integer(.max))
    }

    @Test func integerErrors() {
        expectFailure("n = 9223372036854775808", line: 1, column: 5, "out of range")
        expectFailure("n = -9223372036854775809", line: 1, column: 5, "out of range")
        expectFailure("n = 0x8000000000000000", line: 1, column: 5, "out of range")
        expectFailure("n = 012", line: 1, column: 5, "leading zeros")
        expectFailure("n = -01", line: 1, column: 5, "leading zeros")
        expectFailure("n = 1__000", line: 1, column: 5, "invalid number")
        expectFailure("n = _1", line: 1, column: 5, "expected a value")
        expectFailure("n = 1_", line: 1, column: 5, "invalid number")
        expectFailure("n = +0x10", line: 1, column: 5, "invalid number")
        expectFailure("n = 0X10", line: 1, column: 5, "invalid number")
        expectFailure("n = 0x", line: 1, column: 5, "invalid number")
        expectFailure("n = 0b102", line: 1, column: 5, "invalid number")
        expectFailure("n = 0x_1", line: 1, column: 5, "invalid number")
        expectFailure("a = 1--------- 1", line: 1, column: 5, "invalid number")
        expectFailure("n = 1 2", line: 1, column: 7, "expected a newline")
    }

    @Test func floats() {
        #expect(value(of: "+1.0") == .float(1.0))
        #expect(value(of: "3.1415") == .float(3.1415))
        #expect(value(of: "-0.01") == .float(-0.01))
        #expect(value(of: "5e+22") == .float(5e22))
        #expect(value(of: "1e06") == .float(1e6))
        #expect(value(of: "-2E-2") == .float(-2e-2))
        #expect(value(of: "6.626e-34") == .float(6.626e-34))
        #expect(value(of: "224_617.445_991_228") == .float(224_617.445_991_228))
        #expect(value(of: "1e1_0") == .float(1e10))
        #expect(value(of: "0e0") == .float(0))
        #expect(value(of: "1e400") == .float(.infinity))
        #expect(value(of: "inf") == .float(.infinity))
        #expect(value(of: "+inf") == .float(.infinity))
        #expect(value(of: "-inf") == .float(-.infinity))
        #expect(value(of: "nan") == .float(.nan))
        #expect(value(of: "-nan") == .float(.nan))
        #expect(value(of: "+nan") == .float(.nan))
        guard case .float(let negativeZero)? = value(of: "-0.0") else {
            Issue.record("not a float")
            return
        }
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
    }

    @Test func floatErrors() {
        expectFailure("f = .7", line: 1, column: 5, "expected a value")
        expectFailure("f = 7.", line: 1, column: 5, "invalid number")
        expectFailure("f = 3.e+20", line: 1, column: 5, "invalid number")
        expectFailure("f = 1e", line: 1, column: 5, "invalid number")
        expectFailure("f = 1e_1", line: 1, column: 5, "invalid number")
        expectFailure("f = 1.5_", line: 1, column: 5, "invalid number")
        expectFailure("f = 01.5", line: 1, column: 5, "leading zeros")
        expectFailure("f = infinity", line: 1, column: 5, "invalid number")
        expectFailure("f = NaN", line: 1, column: 5, "expected a value")
        expectFailure("f = 1.0.0", line: 1, column: 5, "invalid number")
    }

    @Test func booleans() {
        #expect(value(of: "true") == .boolean(true))
        #expect(value(of: "false") == .boolean(false))
        expectFailure("b = True", line: 1, column: 5, "expected a value")
        expectFailure("b = truex", line: 1, column: 5, "invalid value")
        expectFailure("b = tru", line: 1, column: 5, "expected a value")
    }

    @Test func datesAndTimesAreNotSupported() {
        expectFailure("d = 1979-05-27", line: 1, column: 5, "not supported")
        expectFailure("d = 1979-05-27T07:32:00Z", line: 1, column: 5, "not supported")
        expectFailure("d = 1979-05-27 07:32:00", line: 1, column: 5, "not supported")
        expectFailure("d = 07:32:00", line: 1, column: 5, "not supported")
        expectFailure("port = 1979-05-2- 1", line: 1, column: 8, "not supported")
        expectFailure("d = [1, 1979-05-27]", line: 1, column: 9, "not supported")
        // A date is fine as a bare key.
        #expect(parsed("1979-05-27 = 1")?["1979-05-27"] == .integer(1))
    }

    @Test func typeNames() {
        #expect(TOMLValue.string("").typeName == "a string")
        #expect(TOMLValue.integer(0).typeName == "an integer")
        #expect(TOMLValue.float(0).typeName == "a floating-point number")
        #expect(TOMLValue.boolean(true).typeName == "a boolean")
        #expect(TOMLValue.array([]).typeName == "an array")
        #expect(TOMLValue.table(TOMLTable()).typeName == "a table")
    }
}
