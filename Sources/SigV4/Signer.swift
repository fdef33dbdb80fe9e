import Crypto

/// Signs requests for one service in one region with AWS Signature Version 4.
public struct Signer: Sendable {
    public var credentials: Credentials
    public var region: String
    public var service: String
    /// Resolve `.`/`..` and empty path segments before signing. True for every service but S3.
    public var normalizePath: Bool
    /// Send the session token unsigned, added after signing (a few services want it so).
    public var omitSessionTokenFromSignature: Bool

    /// The hash S3 accepts in place of the body's SHA-256 when the body is not signed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(credentials: Credentials, region: String, service: String,
                normalizePath: Bool? = nil, omitSessionTokenFromSignature: Bool = false) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.normalizePath = normalizePath ?? (service != "s3")
        self.omitSessionTokenFromSignature = omitSessionTokenFromSignature
    }

    /// The intermediate results of a signature, kept for tests and for error messages.
    public struct Signature: Sendable, Equatable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
    }

    /// Signs with the `Authorization` header: adds `X-Amz-Date`, `X-Amz-Security-Token` and, when
    /// `contentSHA256Header` is set, `X-Amz-Content-SHA256` (S3 requires it), then `Authorization`.
    /// Every header present is signed; `Host` must be among them.
    @discardableResult
    public func sign(_ request: inout SignableRequest, payloadHash: String, at time: Timestamp,
                     contentSHA256Header: Bool = false) -> Signature {
        request.headers.removeAll { ["authorization", "x-amz-date", "x-amz-security-token"].contains($0.name.lowercased()) }
        request.headers.append(.init("X-Amz-Date", time.amzDate))
        if contentSHA256Header, request.header("x-amz-content-sha256") == nil {
            request.headers.append(.init("X-Amz-Content-SHA256", payloadHash))
        }
        if let token = credentials.sessionToken, !omitSessionTokenFromSignature {
            request.headers.append(.init("X-Amz-Security-Token", token))
        }
        let names = Set(request.headers.map { $0.name.lowercased() })
        let result = signature(for: request, signing: names, payloadHash: payloadHash, at: time)
        request.headers.append(.init("Authorization",
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope(time)), SignedHeaders=\(result.signedHeaders), Signature=\(result.signature)"))
        if let token = credentials.sessionToken, omitSessionTokenFromSignature {
            request.headers.append(.init("X-Amz-Security-Token", token))
        }
        return result
    }

    /// Presigns with query parameters: returns the request with `X-Amz-Algorithm`, `-Credential`,
    /// `-Date`, `-Expires`, `-SignedHeaders`, `-Security-Token` and `-Signature` added to its query.
    /// `signedHeaders` names the headers (besides `host`) the user of the URL must send unchanged.
    public func presign(_ request: SignableRequest, expiresIn seconds: Int, at time: Timestamp,
                        payloadHash: String = Signer.unsignedPayload,
                        signedHeaders: Set<String> = []) -> (request: SignableRequest, signature: Signature) {
        var signed = request
        let names = Set(signedHeaders.map { $0.lowercased() }).union(["host"])
        let signedList = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined(separator: ";")
        signed.query.removeAll { $0.name.hasPrefix("X-Amz-") && Signer.presignParameters.contains($0.name) }
        signed.query.append(.init("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        signed.query.append(.init("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(time))"))
        signed.query.append(.init("X-Amz-Date", time.amzDate))
        signed.query.append(.init("X-Amz-Expires", String(seconds)))
        signed.query.append(.init("X-Amz-SignedHeaders", signedList))
        if let token = credentials.sessionToken, !omitSessionTokenFromSignature {
            signed.query.append(.init("X-Amz-Security-Token", token))
        }
        let result = signature(for: signed, signing: names, payloadHash: payloadHash, at: time)
        signed.query.append(.init("X-Amz-Signature", result.signature))
        if let token = credentials.sessionToken, omitSessionTokenFromSignature {
            signed.query.append(.init("X-Amz-Security-Token", token))
        }
        return (signed, result)
    }

    /// The URL of a presigned request to `scheme://host` (the `Host` header, with its port when
    /// not the default): `method` on the decoded `path` with `query`, valid for `expiresIn`
    /// seconds from `time`. `headers` are signed with `host`, so whoever uses the URL must send
    /// them exactly as given. The local cloud and the video functions hand these to the browser
    /// for its uploads.
    public func presignedURL(method: String, scheme: String, host: String, path: String,
                             query: [SignableRequest.QueryItem] = [], headers: [SignableRequest.Header] = [],
                             expiresIn seconds: Int, at time: Timestamp = .now) -> String {
        let request = SignableRequest(method: method, path: path, query: query, headers: [.init("host", host)] + headers)
        let signed = presign(request, expiresIn: seconds, at: time, signedHeaders: Set(headers.map { $0.name.lowercased() }))
        return "\(scheme)://\(host)\(signed.request.target)"
    }

    static let presignParameters: Set<String> = [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
    ]

    /// `20150830/us-east-1/service/aws4_request`.
    public func scope(_ time: Timestamp) -> String { "\(time.scopeDate)/\(region)/\(service)/aws4_request" }

    /// The canonical request, string to sign and signature over the named headers, as they stand.
    public func signature(for request: SignableRequest, signing names: Set<String>, payloadHash: String,
                          at time: Timestamp) -> Signature {
        let headers = Canonical.headers(request.headers, signing: names)
        let canonicalRequest = [
            request.method,
            Canonical.uri(request.path, normalize: normalizePath),
            Canonical.query(request.query.filter { $0.name != "X-Amz-Signature" }),
            headers.block,
            headers.signed,
            payloadHash,
        ].joined(separator: "\n")
        let stringToSign = [
            "AWS4-HMAC-SHA256",
            time.amzDate,
            scope(time),
            hexSHA256(canonicalRequest.utf8),
        ].joined(separator: "\n")
        let key = SigningKey(secret: credentials.secretAccessKey, date: time.scopeDate, region: region, service: service)
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign,
                         signature: key.sign(stringToSign), signedHeaders: headers.signed)
    }
}

/// The derived key `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
public struct SigningKey: Sendable {
    let key: SymmetricKey

    public init(secret: String, date: String, region: String, service: String) {
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        self.key = key
    }

    /// Hex HMAC-SHA256 of `text` under this key.
    public func sign(_ text: String) -> String {
        hexEncoded(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
    }
}

/// Lower-case hex SHA-256 of some bytes: the payload hash SigV4 wants.
public func hexSHA256<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    hexEncoded(SHA256.hash(data: Array(bytes)))
}

/// Lower-case hex of some bytes (a digest).
public func hexEncoded<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
