/// The code a user types at `/device` (RFC 8628 §6.1): 8 characters of an alphabet
/// without vowels (no words) and without look-alikes, shown as `XXXX-XXXX`, about 34 bits.
/// Case, dashes and spaces the user types do not matter.
public enum UserCode {
    public static let alphabet = Array("BCDFGHJKLMNPQRSTVWXZ")
    public static let length = 8

    /// A new code, canonical (no dash).
    public static func generate() -> String {
        var generator = SecureRandomGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// `XXXX-XXXX`.
    public static func display(_ code: String) -> String {
        String(code.prefix(4)) + "-" + String(code.dropFirst(4))
    }

    /// What the user typed as a canonical code; `nil` when it cannot be one.
    public static func canonical(_ typed: String) -> String? {
        let letters = typed.uppercased().filter { $0 != "-" && $0 != " " }
        guard letters.count == length, letters.allSatisfy(alphabet.contains) else { return nil }
        return letters
    }
}
