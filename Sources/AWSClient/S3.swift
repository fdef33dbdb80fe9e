import SigV4

/// S3's REST API on one endpoint, as `site publish` and the video functions call it: how a bucket
/// is addressed, the multipart calls, deletes, the failure S3 reports inside a 200 answer, and
/// presigned URLs. What only one of them needs stays with it: the publisher's listing, heads and
/// batch deletes (`Publish.S3Client`), the functions' storage for the video service
/// (`VideoFunctions.S3Storage`).
public struct S3: Sendable {
    public let transport: AWSTransport
    public let region: String
    public let endpoint: Endpoint
    /// Path-style (`host/bucket/key`) rather than virtual-hosted (`bucket.host/key`).
    public let pathStyle: Bool
    /// The file in this repository whose policy grants these calls. When it is set, a refused call
    /// names the permission it needed and the file; when nil, refusals name none.
    public let policy: String?

    public init(transport: AWSTransport, region: String, endpoint: Endpoint, pathStyle: Bool, policy: String? = nil) {
        self.transport = transport
        self.region = region
        self.endpoint = endpoint
        self.pathStyle = pathStyle
        self.policy = policy
    }

    // MARK: Addressing

    /// Where S3 is reached for these buckets and how they are addressed: the endpoint the variables
    /// set (`AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`), addressed path-style, or the regional
    /// host. Virtual-hosted addressing needs a bucket name that is one DNS label under TLS, so a
    /// name with dots is addressed path-style too, as is everything when `AWS_S3_FORCE_PATH_STYLE`
    /// is `true`.
    public static func addressing(region: String, buckets: [String],
                                  variables: [String: String]) throws(Endpoint.InvalidURL) -> (endpoint: Endpoint, pathStyle: Bool) {
        let custom = try Endpoint.custom(service: "s3", variables: variables)
        let pathStyle = custom != nil || buckets.contains { $0.contains(".") } || variables["AWS_S3_FORCE_PATH_STYLE"] == "true"
        return (custom ?? Endpoint(scheme: "https", host: "s3.\(region).amazonaws.com"), pathStyle)
    }

    /// The endpoint and decoded path of a bucket (`key` nil) or an object in it.
    public func location(bucket: String, key: String?) -> (endpoint: Endpoint, path: String) {
        if pathStyle { return (endpoint, "/" + bucket + (key.map { "/" + $0 } ?? "")) }
        var target = endpoint
        target.host = bucket + "." + endpoint.host
        return (target, "/" + (key ?? ""))
    }

    /// The same buckets through S3 Transfer Acceleration (`bucket.s3-accelerate.amazonaws.com`,
    /// the edge location nearest the client): virtual-hosted, as acceleration needs a bucket name
    /// without dots, and still signed as `s3` in the buckets' region. The bucket must have
    /// acceleration enabled.
    public var accelerated: S3 {
        S3(transport: transport, region: region, endpoint: Endpoint(scheme: "https", host: "s3-accelerate.amazonaws.com"),
           pathStyle: false, policy: policy)
    }

    /// `s3://bucket/key`: how calls name what they act on, in errors and logs.
    public static func url(bucket: String, key: String) -> String { "s3://\(bucket)/\(key)" }

    /// What a call needs: `action` on the object `key`, or on the bucket when `key` is nil, in the
    /// region's partition.
    public static func permission(_ action: String, bucket: String, key: String?, region: String, policy: String?) -> Permission {
        Permission(action, on: "arn:\(Permission.partition(ofRegion: region)):s3:::\(bucket)" + (key.map { "/" + $0 } ?? ""),
                   policy: policy)
    }

    /// What a call needs, when this client names permissions (`policy` is set).
    public func permission(_ action: String, bucket: String, key: String?) -> Permission? {
        policy.map { Self.permission(action, bucket: bucket, key: key, region: region, policy: $0) }
    }

    /// A call to send: `method` on the bucket or object, `operation` naming it in errors, `action`
    /// the permission it needs. A body in bytes is signed by its SHA-256; a file range carries the
    /// `payloadHash` given (its SHA-256, or `UNSIGNED-PAYLOAD`).
    public func request(_ method: String, bucket: String, key: String?, query: [SignableRequest.QueryItem] = [],
                        headers: [SignableRequest.Header] = [], body: AWSRequest.Body = .empty, payloadHash: String? = nil,
                        operation: String, action: String) -> AWSRequest {
        let (target, path) = location(bucket: bucket, key: key)
        let hash: String = switch body {
        case .empty: payloadHash ?? Signer.emptyPayloadHash
        case .bytes(let bytes): payloadHash ?? hexSHA256(bytes)
        case .file: payloadHash ?? Signer.unsignedPayload
        }
        return AWSRequest(service: "s3", region: region, endpoint: target, method: method, path: path, query: query,
                          headers: headers, body: body, payloadHash: hash, operation: operation,
                          permission: permission(action, bucket: bucket, key: key))
    }

    /// Sends a call; an error answer is thrown as `AWSError` (after the transport's retries).
    public func send(_ request: AWSRequest) async throws -> AWSResponse {
        try await transport.send(request)
    }

    /// The XML of a 200 answer. S3 can fail a call after it has begun that answer (a
    /// CompleteMultipartUpload that fails late), and then sends an `<Error>` document in it: that
    /// is thrown as the `AWSError` it is, with the 200 S3 sent.
    public func document(_ response: AWSResponse, of request: AWSRequest) throws -> XMLElement {
        let root = try XMLElement.parse(response.body)
        guard root.name == "Error" else { return root }
        var error = AWSError.parse(status: response.status, headers: response.headers, body: response.body, operation: request.operation)
        error.permission = request.permission
        throw error
    }

    // MARK: Multipart uploads

    /// Starts a multipart upload of an object with its headers (type, caching, metadata, checksum
    /// algorithm); returns its upload id.
    public func createMultipartUpload(bucket: String, key: String, headers: [SignableRequest.Header]) async throws -> String {
        let create = request("POST", bucket: bucket, key: key, query: [.init("uploads", "")], headers: headers,
                             operation: "CreateMultipartUpload \(Self.url(bucket: bucket, key: key))", action: "s3:PutObject")
        let response = try await send(create)
        guard let id = try document(response, of: create).value("UploadId") else {
            throw AWSError(status: response.status, code: "MalformedResponse", message: "S3 answered CreateMultipartUpload without an UploadId.",
                           requestId: response.header("x-amz-request-id"), operation: create.operation, permission: create.permission)
        }
        return id
    }

    /// Uploads part `number` (from 1); returns its ETag as S3 gives it (quoted).
    public func uploadPart(bucket: String, key: String, uploadId: String, number: Int, body: AWSRequest.Body,
                           payloadHash: String, headers: [SignableRequest.Header] = []) async throws -> String {
        let part = request("PUT", bucket: bucket, key: key, query: [.init("partNumber", String(number)), .init("uploadId", uploadId)],
                           headers: headers, body: body, payloadHash: payloadHash,
                           operation: "UploadPart \(number) \(Self.url(bucket: bucket, key: key))", action: "s3:PutObject")
        return try await send(part).header("etag") ?? ""
    }

    /// A part as ListParts shows it.
    public struct Part: Sendable, Equatable {
        public var number: Int
        /// As S3 gives it (quoted).
        public var etag: String
        public var size: Int64
        /// Base64, for an upload started with the SHA256 checksum algorithm.
        public var checksumSHA256: String?
    }

    /// Every part uploaded so far, following the part-number markers (1,000 parts a page).
    public func listParts(bucket: String, key: String, uploadId: String) async throws -> [Part] {
        var parts: [Part] = []
        var marker: String?
        repeat {
            var query: [SignableRequest.QueryItem] = [.init("uploadId", uploadId)]
            if let marker { query.append(.init("part-number-marker", marker)) }
            let list = request("GET", bucket: bucket, key: key, query: query,
                               operation: "ListParts \(Self.url(bucket: bucket, key: key))", action: "s3:ListMultipartUploadParts")
            let root = try document(try await send(list), of: list)
            for part in root.all("Part") {
                guard let number = part.value("PartNumber").flatMap(Int.init), let etag = part.value("ETag"),
                      let size = part.value("Size").flatMap(Int64.init) else { continue }
                parts.append(Part(number: number, etag: etag, size: size, checksumSHA256: part.value("ChecksumSHA256")))
            }
            marker = root.value("IsTruncated") == "true" ? root.value("NextPartNumberMarker") : nil
        } while marker != nil
        return parts
    }

    /// The object a completed upload made: its ETag, and its composite checksum when the upload
    /// had one.
    public struct CompletedObject: Sendable, Equatable {
        public var etag: String?
        public var checksumSHA256: String?
    }

    /// Joins the parts, in order, into the object: each by its number, its ETag as S3 gave it
    /// (quoted) and its checksum when the upload has one. A join that fails late, inside S3's 200
    /// answer, is thrown like any other refusal.
    public func completeMultipartUpload(bucket: String, key: String, uploadId: String,
                                        parts: [(number: Int, etag: String, checksumSHA256: String?)]) async throws -> CompletedObject {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(xmlEscape(part.etag))</ETag>"
                + (part.checksumSHA256.map { "<ChecksumSHA256>\(xmlEscape($0))</ChecksumSHA256>" } ?? "") + "</Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let complete = request("POST", bucket: bucket, key: key, query: [.init("uploadId", uploadId)],
                               headers: [.init("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)),
                               operation: "CompleteMultipartUpload \(Self.url(bucket: bucket, key: key))", action: "s3:PutObject")
        let root = try document(try await send(complete), of: complete)
        return CompletedObject(etag: root.value("ETag"), checksumSHA256: root.value("ChecksumSHA256"))
    }

    public func abortMultipartUpload(bucket: String, key: String, uploadId: String) async throws {
        _ = try await send(request("DELETE", bucket: bucket, key: key, query: [.init("uploadId", uploadId)],
                                   operation: "AbortMultipartUpload \(Self.url(bucket: bucket, key: key))",
                                   action: "s3:AbortMultipartUpload"))
    }

    // MARK: Objects

    /// Part of an object (a ranged GetObject): the bytes of `range` there are, fewer at its end and
    /// none past it (S3's 416 for a range that starts past the end), and the object's whole size
    /// when S3 says it (`Content-Range`, or the length of a whole-object answer).
    public func getObject(bucket: String, key: String, range: Range<Int64>) async throws -> (bytes: [UInt8], size: Int64?) {
        guard !range.isEmpty, range.lowerBound >= 0 else { return ([], nil) }
        let get = request("GET", bucket: bucket, key: key, headers: [.init("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")],
                          operation: "GetObject \(Self.url(bucket: bucket, key: key))", action: "s3:GetObject")
        let response: AWSResponse
        do {
            response = try await send(get)
        } catch let error as AWSError where error.status == 416 {
            return ([], nil)
        }
        if response.status == 206 {
            // `bytes 0-65535/1048576`; the size is `*` when S3 does not know it.
            let size = response.header("content-range")?.split(separator: "/").last.flatMap { Int64($0) }
            return (response.body, size)
        }
        // A 200 is the whole object (a server that ignores ranges): the range is cut from it.
        let whole = response.body
        let lower = Int(clamping: min(range.lowerBound, Int64(whole.count)))
        let upper = Int(clamping: min(range.upperBound, Int64(whole.count)))
        return (Array(whole[lower..<upper]), Int64(whole.count))
    }

    /// Deletes one object; S3 answers the same whether or not it was there.
    public func deleteObject(bucket: String, key: String) async throws {
        _ = try await send(request("DELETE", bucket: bucket, key: key,
                                   operation: "DeleteObject \(Self.url(bucket: bucket, key: key))", action: "s3:DeleteObject"))
    }

    /// A URL that lets its holder make one request (`method` on the object, with `query` and the
    /// signed `headers`) for `expiresIn` seconds, signed with `credentials`.
    public func presignedURL(method: String, bucket: String, key: String, query: [SignableRequest.QueryItem] = [],
                             headers: [SignableRequest.Header] = [], expiresIn: Int, credentials: Credentials,
                             at time: Timestamp = .now) -> String {
        let (target, path) = location(bucket: bucket, key: key)
        return Signer(credentials: credentials, region: region, service: "s3")
            .presignedURL(method: method, scheme: target.scheme, host: target.hostHeader, path: target.basePath + path,
                          query: query, headers: headers, expiresIn: expiresIn, at: time)
    }
}
