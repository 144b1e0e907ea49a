import HTTPTypes
import Testing
@testable import TokenAuthorityServer

/// The form check of docs/token-endpoint.md: an OAuth request's body is read only when
/// its one `Content-Type` is `application/x-www-form-urlencoded`, parameters and case
/// aside (RFC 9110 §8.3.1).
@Suite("Form content type")
struct FormContentTypeTests {
    @Test(
        "the form media type, in any case, with parameters and optional whitespace",
        arguments: [
            "application/x-www-form-urlencoded", "Application/X-WWW-Form-URLEncoded",
            "application/x-www-form-urlencoded; charset=UTF-8", " application/x-www-form-urlencoded\t;charset=utf-8",
            "APPLICATION/X-WWW-FORM-URLENCODED ",
        ])
    func accepted(_ contentType: String) {
        #expect(OAuthHTTP.isForm([.contentType: contentType]))
    }

    @Test(
        "another media type, a near miss or an empty value",
        arguments: [
            "application/json", "multipart/form-data", "text/plain", "application/x-www-form-urlencodedx",
            "application/x-www-form-urlencode", "application/x-www-form-urlencoded, application/json",
            "application/x-www-form-urlencoded\u{301}", "", " ", ";charset=utf-8",
        ])
    func refused(_ contentType: String) {
        #expect(!OAuthHTTP.isForm([.contentType: contentType]))
    }

    @Test("no Content-Type, or two of them, even both the form's")
    func missingOrRepeated() {
        #expect(!OAuthHTTP.isForm([:]))
        #expect(!OAuthHTTP.isForm([.authorization: "Basic eDp5"]))
        var twice = HTTPFields()
        twice.append(HTTPField(name: .contentType, value: "application/x-www-form-urlencoded"))
        twice.append(HTTPField(name: .contentType, value: "application/x-www-form-urlencoded"))
        #expect(!OAuthHTTP.isForm(twice))
    }
}
