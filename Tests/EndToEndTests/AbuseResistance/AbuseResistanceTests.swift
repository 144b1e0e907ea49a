import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TokenAuthorityTesting

// Abuse resistance, end to end (README, "Abuse resistance"): the real executable over a socket.
// - failed client authentications and failed logins limited per source address (429 + Retry-After);
// - the defaults never throttle a well-behaved client;
// - WSO2's account locking, answered exactly like a wrong password, and `user unlock`;
// - optional per-client request limits on the token and introspection endpoints;
// - bounded bodies and headers; slow clients time out;
// - the `[security]` keys of deployment.toml, checked like every other key.
// Every test has a server of its own, so one test's failures never count against another's.
// Bursts of simultaneous attempts are the adversarial suite's (Tests/EndToEndTests/Adversarial).

@Suite("Abuse resistance")
struct AbuseResistanceTests {}
