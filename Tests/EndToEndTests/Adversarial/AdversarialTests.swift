import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Attacks that must fail, end to end: the real executable over a socket.
// - bursts of simultaneous guesses start no more credential checks than the per-source
//   limits allow, because a check takes its slot before it runs (README, Abuse resistance);
// - identifiers that look alike (KELVIN SIGN, NFD against NFC) cannot be created or pass
//   for one another (README, Commands: identifiers are checked when they are created);
// - control characters in a form are refused, never truncated (RFC 6749 Appendix A);
// - the data folder and its files are private whatever the umask;
// - request framing the server does not serve is refused before routing (RFC 9112);
// - secrets and tokens can be given on stdin instead of argv;
// - a refresh token introspects as active only to its own client and the super admin (RFC 7662 §2.2);
// - the username echoed in an error is bounded.
// Every test has a server of its own, so one test's failures never count against another's.
// No expectation message ever holds a token, a secret or a password: replies are described
// by status and error code, and secrets are compared into a Bool first.
@Suite("Adversarial: attacks that must fail")
struct AdversarialTests {}
