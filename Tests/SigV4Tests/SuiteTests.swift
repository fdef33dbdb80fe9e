import Foundation
import SigV4
import Testing

/// One case of the AWS SigV4 test suite in `Tests/Vectors/sigv4/` (a copy of `shared/testdata/sigv4`).
struct SuiteCase: CustomTestStringConvertible, Sendable {
    let name: String
    let folder: URL
    var testDescription: String { name }

    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors/sigv4")

    static var all: [SuiteCase] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().compactMap { name in
            let folder = root.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("context.json").path) else { return nil }
            return SuiteCase(name: name, folder: folder)
        }
    }

    func text(_ file: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
    }

    struct Context {
        var credentials: Credentials
        var region: String
        var service: String
        var time: Timestamp
        var normalize: Bool
        var signBody: Bool
        var expires: Int
        var omitSessionToken: Bool

        /// The signer the case's context describes.
        var signer: Signer {
            Signer(credentials: credentials, region: region, service: service,
                   normalizePath: normalize, omitSessionTokenFromSignature: omitSessionToken)
        }
    }

    func context() throws -> Context {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("context.json"))) as! [String: Any]
        let credentials = object["credentials"] as! [String: Any]
        return Context(
            credentials: Credentials(accessKeyId: credentials["access_key_id"] as! String,
                                     secretAccessKey: credentials["secret_access_key"] as! String,
                                     sessionToken: credentials["token"] as? String),
            region: object["region"] as! String, service: object["service"] as! String,
            time: Timestamp(iso8601: object["timestamp"] as! String)!,
            normalize: object["normalize"] as! Bool, signBody: object["sign_body"] as! Bool,
            expires: object["expiration_in_seconds"] as! Int,
            omitSessionToken: object["omit_session_token"] as? Bool ?? false)
    }

    /// `request.txt`: a request line, header lines (continuation lines start with whitespace), a blank line, the body.
    func request() throws -> (request: SignableRequest, body: String) {
        let raw = try text("request.txt")
        let (head, body) = raw.range(of: "\n\n").map { (String(raw[..<$0.lowerBound]), String(raw[$0.upperBound...])) } ?? (raw, "")
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        var headers: [SignableRequest.Header] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
            } else {
                let colon = line.firstIndex(of: ":")!
                headers.append(.init(String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        return (SignableRequest(method: method, target: target, headers: headers)!, body)
    }
}

@Suite("The AWS SigV4 test suite")
struct SuiteTests {
    /// The parameterised tests below would pass with no cases at all: this one fails instead when
    /// the suite is not where the tests look for it.
    @Test("the suite is present")
    func suiteIsPresent() {
        #expect(SuiteCase.all.count == 38, "expected the 38 cases of the AWS SigV4 test suite in \(SuiteCase.root.path)")
    }

    @Test("header signing matches canonical request, string to sign and signature", arguments: SuiteCase.all)
    func headerSigning(_ suiteCase: SuiteCase) throws {
        let context = try suiteCase.context()
        var (request, body) = try suiteCase.request()
        let signer = context.signer
        let result = signer.sign(&request, payloadHash: hexSHA256(body.utf8), at: context.time, contentSHA256Header: context.signBody)
        #expect(result.canonicalRequest == (try suiteCase.text("header-canonical-request.txt")))
        #expect(result.stringToSign == (try suiteCase.text("header-string-to-sign.txt")))
        #expect(result.signature == (try suiteCase.text("header-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))

        let verifier = Verifier(region: context.region, service: context.service, normalizePath: context.normalize)
        if !context.omitSessionToken {
            let identity = try verifier.verify(request, now: context.time, payloadHash: hexSHA256(body.utf8)) { _ in context.credentials }
            #expect(identity.accessKeyId == context.credentials.accessKeyId)
        }
    }

    @Test("query signing matches canonical request, string to sign and signature", arguments: SuiteCase.all)
    func querySigning(_ suiteCase: SuiteCase) throws {
        let context = try suiteCase.context()
        let (request, body) = try suiteCase.request()
        let signer = context.signer
        let headerNames = Set(request.headers.map { $0.name.lowercased() })
        let result = signer.presign(request, expiresIn: context.expires, at: context.time,
                                    payloadHash: hexSHA256(body.utf8), signedHeaders: headerNames)
        #expect(result.signature.canonicalRequest == (try suiteCase.text("query-canonical-request.txt")))
        #expect(result.signature.stringToSign == (try suiteCase.text("query-string-to-sign.txt")))
        #expect(result.signature.signature == (try suiteCase.text("query-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

@Suite("S3 signing examples from the S3 API reference")
struct S3ExampleTests {
    let credentials = Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    let time = Timestamp(amzDate: "20130524T000000Z")!

    @Test("GET with Range, signed in the Authorization header")
    func headerSignedGet() throws {
        var request = SignableRequest(method: "GET", path: "/test.txt",
                                      headers: [.init("Host", "examplebucket.s3.amazonaws.com"), .init("Range", "bytes=0-9")])
        let signer = Signer(credentials: credentials, region: "us-east-1", service: "s3")
        let result = signer.sign(&request, payloadHash: Signer.emptyPayloadHash, at: time, contentSHA256Header: true)
        #expect(result.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(result.signedHeaders == "host;range;x-amz-content-sha256;x-amz-date")

        let verifier = Verifier(region: "us-east-1", service: "s3")
        #expect(try verifier.verify(request, now: time) { _ in credentials }.accessKeyId == "AKIAIOSFODNN7EXAMPLE")
        var tampered = request
        tampered.headers[1].value = "bytes=0-10"
        #expect(throws: Verifier.Failure.self) { try verifier.verify(tampered, now: time) { _ in credentials } }
        let later = Timestamp(secondsSince1970: time.secondsSince1970 + 901)
        #expect { try verifier.verify(request, now: later) { _ in credentials } } throws: {
            ($0 as? Verifier.Failure)?.code == .timeSkewed
        }
    }

    @Test("presigned GET, valid for a day")
    func presignedGet() throws {
        let request = SignableRequest(method: "GET", path: "/test.txt", headers: [.init("Host", "examplebucket.s3.amazonaws.com")])
        let signer = Signer(credentials: credentials, region: "us-east-1", service: "s3")
        let (presigned, result) = signer.presign(request, expiresIn: 86_400, at: time)
        #expect(result.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")

        let verifier = Verifier(region: "us-east-1", service: "s3")
        let received = SignableRequest(method: "GET", target: presigned.target, headers: presigned.headers)!
        #expect(try verifier.verify(received, now: Timestamp(secondsSince1970: time.secondsSince1970 + 3600)) { _ in credentials }.presigned)
        #expect { try verifier.verify(received, now: Timestamp(secondsSince1970: time.secondsSince1970 + 86_401)) { _ in credentials } } throws: {
            ($0 as? Verifier.Failure)?.code == .expired
        }
        var otherKey = received
        otherKey.path = "/other.txt"
        #expect { try verifier.verify(otherKey, now: time) { _ in credentials } } throws: {
            ($0 as? Verifier.Failure)?.code == .signatureMismatch
        }
        #expect { try verifier.verify(received, now: time) { _ in nil } } throws: {
            ($0 as? Verifier.Failure)?.code == .unknownAccessKey
        }
        // A caller that knows the body's hash gets it checked: this URL signed no body.
        #expect { try verifier.verify(received, now: time, payloadHash: hexSHA256("{}".utf8)) { _ in credentials } } throws: {
            ($0 as? Verifier.Failure)?.code == .signatureMismatch
        }
    }

    @Test("a presigned URL is the reference's, and binds the headers it signs")
    func presignedURL() throws {
        let signer = Signer(credentials: credentials, region: "us-east-1", service: "s3")
        #expect(signer.presignedURL(method: "GET", scheme: "https", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
                                    expiresIn: 86_400, at: time)
            == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
            + "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")

        let url = signer.presignedURL(method: "PUT", scheme: "http", host: "127.0.0.1:9400", path: "/bucket/a b.mp4",
                                      query: [.init("partNumber", "2"), .init("uploadId", "u1")],
                                      headers: [.init("x-amz-checksum-sha256", "abc=")], expiresIn: 600, at: time)
        #expect(url.hasPrefix("http://127.0.0.1:9400/bucket/a%20b.mp4?partNumber=2&uploadId=u1&"))
        #expect(url.contains("X-Amz-SignedHeaders=host%3Bx-amz-checksum-sha256&"))
        let target = String(url.dropFirst("http://127.0.0.1:9400".count))
        let verifier = Verifier(region: "us-east-1", service: "s3")
        let sent = try #require(SignableRequest(method: "PUT", target: target,
                                                headers: [.init("Host", "127.0.0.1:9400"), .init("x-amz-checksum-sha256", "abc=")]))
        #expect(try verifier.verify(sent, now: time) { _ in credentials }.signedHeaders == ["host", "x-amz-checksum-sha256"])
        var changed = sent
        changed.headers[1].value = "abd="
        #expect { try verifier.verify(changed, now: time) { _ in credentials } } throws: {
            ($0 as? Verifier.Failure)?.code == .signatureMismatch
        }
    }
}

@Suite("Timestamps and encoding")
struct EncodingTests {
    @Test("timestamps round-trip across leap years and centuries")
    func timestamps() {
        for seconds: Int64 in [0, 951_782_400, 1_440_938_160, 4_107_542_399, 1_709_164_800] {
            let time = Timestamp(secondsSince1970: seconds)
            #expect(Timestamp(amzDate: time.amzDate) == time)
        }
        #expect(Timestamp(secondsSince1970: 1_440_938_160).amzDate == "20150830T123600Z")
        #expect(Timestamp(secondsSince1970: 951_782_400).amzDate == "20000229T000000Z")
        #expect(Timestamp(amzDate: "20150830T1236Z") == nil)
    }

    @Test("URI encoding keeps only unreserved bytes, and slashes in paths")
    func encoding() {
        #expect(uriEncode("a b+c%/~é") == "a%20b%2Bc%25%2F~%C3%A9")
        #expect(uriEncode("/dir/a b", keepSlash: true) == "/dir/a%20b")
        #expect(percentDecode("a%20b%2Bc+%zz%") == "a b+c+%zz%")
        #expect(percentDecode("%FF") == nil)
    }
}
