/// Compares two byte strings in time that depends only on their length, so a
/// caller cannot learn how much of a secret's hash it guessed right.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}
