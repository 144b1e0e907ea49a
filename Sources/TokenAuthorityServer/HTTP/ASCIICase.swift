extension StringProtocol {
    /// Whether this is `lowercase` ignoring ASCII case, as field names, media types
    /// and transfer codings compare (RFC 9110 §5.1, §8.3.1): byte by byte, without a
    /// lowercased copy, since it runs on every request.
    func equalsIgnoringASCIICase(_ lowercase: StaticString) -> Bool {
        utf8.equalsIgnoringASCIICase(lowercase)
    }
}

extension Sequence<UInt8> {
    /// Whether these UTF-8 bytes spell `lowercase` ignoring ASCII case.
    func equalsIgnoringASCIICase(_ lowercase: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        return elementsEqual(expected) { byte, expected in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 == expected : byte == expected
        }
    }
}
