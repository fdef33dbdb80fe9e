/// Checks SigV4 signatures on incoming requests, by `Authorization` header or presigned query.
///
/// The server side of `Signer`: it rebuilds the canonical request from what arrived, looks up the
/// secret for the access key, and compares signatures in constant time.
public struct Verifier: Sendable {
    public var region: String
    public var service: String
    public var normalizePath: Bool
    /// How far a header-signed request's `X-Amz-Date` may be from now (AWS allows 15 minutes).
    public var allowedSkewSeconds: Int64
    /// The longest `X-Amz-Expires` accepted on a presigned URL (AWS allows 7 days).
    public var maximumExpiresSeconds: Int64

    public init(region: String, service: String, normalizePath: Bool? = nil,
                allowedSkewSeconds: Int64 = 900, maximumExpiresSeconds: Int64 = 604_800) {
        self.region = region
        self.service = service
        self.normalizePath = normalizePath ?? (service != "s3")
        self.allowedSkewSeconds = allowedSkewSeconds
        self.maximumExpiresSeconds = maximumExpiresSeconds
    }

    /// Why a request was refused, with the error code S3 uses for it.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Code: String, Sendable {
            case missingAuthentication = "AccessDenied"
            case malformed = "AuthorizationQueryParametersError"
            case unknownAccessKey = "InvalidAccessKeyId"
            case signatureMismatch = "SignatureDoesNotMatch"
            case timeSkewed = "RequestTimeTooSkewed"
            case expired = "ExpiredRequest"
            case wrongScope = "AuthorizationHeaderMalformed"
        }
        public var code: Code
        public var message: String
        public var description: String { "\(code.rawValue): \(message)" }
    }

    /// Who signed a request that verified.
    public struct Identity: Sendable, Equatable {
        public var accessKeyId: String
        public var signedHeaders: [String]
        public var presigned: Bool
    }

    /// Verifies `request` (as received: decoded path and query, all headers) at `now`.
    /// `payloadHash` is what the body hashes to, or nil to accept the client's `X-Amz-Content-SHA256`
    /// (S3 checks the body against it while streaming); given, it holds for presigned URLs too, so
    /// their body is signed as well. `secret` returns the credentials for an
    /// access key id, or nil when the key is unknown.
    public func verify(_ request: SignableRequest, now: Timestamp, payloadHash: String? = nil,
                       secret: (String) -> Credentials?) throws(Failure) -> Identity {
        if let authorization = request.header("authorization") {
            return try verifyHeader(authorization, request: request, now: now, payloadHash: payloadHash, secret: secret)
        }
        if request.queryValue("X-Amz-Signature") != nil {
            return try verifyQuery(request, now: now, payloadHash: payloadHash, secret: secret)
        }
        throw Failure(code: .missingAuthentication, message: "Request is not signed.")
    }

    private func verifyHeader(_ authorization: String, request: SignableRequest, now: Timestamp, payloadHash: String?,
                              secret: (String) -> Credentials?) throws(Failure) -> Identity {
        let prefix = "AWS4-HMAC-SHA256 "
        guard authorization.hasPrefix(prefix) else {
            throw Failure(code: .wrongScope, message: "Only AWS4-HMAC-SHA256 authorization is supported.")
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst(prefix.count).split(separator: ",") {
            let pair = trimSpaces(part).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
              let signature = fields["Signature"] else {
            throw Failure(code: .wrongScope, message: "The authorization header needs Credential, SignedHeaders and Signature.")
        }
        guard let dateText = request.header("x-amz-date"), let time = Timestamp(amzDate: dateText) else {
            throw Failure(code: .missingAuthentication, message: "X-Amz-Date is missing or malformed.")
        }
        guard abs(time.secondsSince1970 - now.secondsSince1970) <= allowedSkewSeconds else {
            throw Failure(code: .timeSkewed, message: "The difference between the request time and the current time is too large.")
        }
        let hash = payloadHash ?? request.header("x-amz-content-sha256") ?? Signer.emptyPayloadHash
        return try check(credential: credential, signedHeaders: signedHeaders, signature: signature, time: time,
                         request: request, payloadHash: hash, presigned: false, secret: secret)
    }

    private func verifyQuery(_ request: SignableRequest, now: Timestamp, payloadHash: String?,
                             secret: (String) -> Credentials?) throws(Failure) -> Identity {
        guard request.queryValue("X-Amz-Algorithm") == "AWS4-HMAC-SHA256",
              let credential = request.queryValue("X-Amz-Credential"),
              let signedHeaders = request.queryValue("X-Amz-SignedHeaders"),
              let signature = request.queryValue("X-Amz-Signature"),
              let dateText = request.queryValue("X-Amz-Date"), let time = Timestamp(amzDate: dateText),
              let expiresText = request.queryValue("X-Amz-Expires"), let expires = Int64(expiresText)
        else {
            throw Failure(code: .malformed, message: "Presigned URLs need X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders and -Signature.")
        }
        guard expires > 0, expires <= maximumExpiresSeconds else {
            throw Failure(code: .malformed, message: "X-Amz-Expires must be between 1 and \(maximumExpiresSeconds) seconds.")
        }
        guard now.secondsSince1970 >= time.secondsSince1970 - allowedSkewSeconds else {
            throw Failure(code: .malformed, message: "The request is dated in the future.")
        }
        guard now.secondsSince1970 <= time.secondsSince1970 + expires else {
            throw Failure(code: .expired, message: "Request has expired.")
        }
        let hash = payloadHash ?? request.header("x-amz-content-sha256") ?? Signer.unsignedPayload
        return try check(credential: credential, signedHeaders: signedHeaders, signature: signature, time: time,
                         request: request, payloadHash: hash, presigned: true, secret: secret)
    }

    private func check(credential: String, signedHeaders: String, signature: String, time: Timestamp,
                       request: SignableRequest, payloadHash: String, presigned: Bool,
                       secret: (String) -> Credentials?) throws(Failure) -> Identity {
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request" else {
            throw Failure(code: .wrongScope, message: "The credential scope is malformed.")
        }
        guard scope[1] == time.scopeDate, scope[2] == region, scope[3] == service else {
            throw Failure(code: .wrongScope,
                          message: "The credential scope \(scope[1...3].joined(separator: "/")) should be \(time.scopeDate)/\(region)/\(service).")
        }
        guard let credentials = secret(scope[0]) else {
            throw Failure(code: .unknownAccessKey, message: "The AWS access key ID you provided does not exist in our records.")
        }
        let names = signedHeaders.split(separator: ";").map { $0.lowercased() }
        guard names.contains("host") else {
            throw Failure(code: .wrongScope, message: "The host header must be signed.")
        }
        for name in names where request.header(name) == nil {
            throw Failure(code: .signatureMismatch, message: "Signed header \(name) is missing from the request.")
        }
        if !presigned, let token = credentials.sessionToken, request.header("x-amz-security-token") != token {
            throw Failure(code: .signatureMismatch, message: "The security token is missing or does not match.")
        }
        let signer = Signer(credentials: credentials, region: region, service: service, normalizePath: normalizePath)
        let expected = signer.signature(for: request, signing: Set(names), payloadHash: payloadHash, at: time)
        guard constantTimeEqual(expected.signature, signature) else {
            throw Failure(code: .signatureMismatch,
                          message: "The request signature we calculated does not match the signature you provided.")
        }
        return Identity(accessKeyId: scope[0], signedHeaders: names, presigned: presigned)
    }
}

func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for index in x.indices { difference |= x[index] ^ y[index] }
    return difference == 0
}

func trimSpaces(_ text: Substring) -> Substring {
    guard let first = text.firstIndex(where: { $0 != " " }), let last = text.lastIndex(where: { $0 != " " }) else { return "" }
    return text[first...last]
}
