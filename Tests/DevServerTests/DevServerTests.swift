import Foundation
import HTTPServing
import Testing
@testable import DevServer

@Suite("Dev server rules")
struct DevServerTests {
    @Test("the development policy lets the page reach its own event stream and drops the https upgrade")
    func policy() {
        #expect(SiteFiles.developmentPolicy("default-src 'none'; connect-src https://api.example; upgrade-insecure-requests")
                == "default-src 'none'; connect-src 'self' https://api.example")
        #expect(SiteFiles.developmentPolicy("default-src 'none'") == "default-src 'none'; connect-src 'self'")
        #expect(SiteFiles.developmentPolicy("connect-src 'self' x") == "connect-src 'self' x")
        #expect(SiteFiles.developmentPolicy("default-src 'none'; connect-src 'none'") == "default-src 'none'; connect-src 'self'")
    }

    @Test("ranges: single, suffix, open-ended, clamped and unsatisfiable", arguments: [
        ("bytes=0-9", ByteRange.range(0, 9)),
        ("bytes=-5", .range(95, 99)),
        ("bytes=97-", .range(97, 99)),
        ("bytes=90-500", .range(90, 99)),
        ("bytes=100-", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=9-3", .whole),
        ("bytes=0-1,4-5", .whole),
    ])
    func ranges(header: String, expected: ByteRange) {
        #expect(ByteRange.parse(header, size: 100) == expected)
    }

    @Test("gzip is chosen unless refused with q=0")
    func gzip() {
        #expect(DevResponder.acceptsGzip("gzip, deflate, br"))
        #expect(DevResponder.acceptsGzip("br;q=1, gzip;q=0.5"))
        #expect(DevResponder.acceptsGzip("*"))
        #expect(!DevResponder.acceptsGzip("gzip;q=0, identity"))
        #expect(!DevResponder.acceptsGzip("br"))
        #expect(!DevResponder.acceptsGzip(nil))
    }

    @Test("paths that could smuggle a separator or NUL are refused before lookup",
          arguments: ["/%2e%2e%2fsite", "/a%2Fb", "/a%5cb", "/a%00", "/%252e%252e/x", "/%ff%fe"])
    func smuggled(path: String) {
        #expect(DevResponder.decodePath(path) == nil)
    }

    @Test("ETag lists, weak forms and * match")
    func etags() {
        #expect(etagListMatches("\"a\", \"b\"", "\"b\""))
        #expect(etagListMatches("W/\"b\"", "\"b\""))
        #expect(etagListMatches("*", "\"b\""))
        #expect(!etagListMatches("\"a\"", "\"b\""))
        #expect(!etagListMatches("b", "\"b\""))
        #expect(etagListMatches("b", "\"b\"", acceptingUnquoted: true))
        #expect(!etagListMatches(nil, "\"b\""))
    }

    @Test("the Date header is RFC 9110's IMF-fixdate")
    func date() {
        #expect(HTTPDate.rfc1123(Date(timeIntervalSince1970: 784_111_777)) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.rfc1123(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.rfc1123(Date(timeIntervalSince1970: 1_795_000_000)) == "Wed, 18 Nov 2026 11:06:40 GMT")
    }
}
