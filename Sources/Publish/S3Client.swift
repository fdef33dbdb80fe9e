import AWSClient
import Crypto
import Foundation
import SigV4

/// The S3 calls publishing needs, on one bucket.
public struct S3Client: Sendable {
    let transport: AWSTransport
    public let bucket: String
    let region: String
    let endpoint: Endpoint
    let pathStyle: Bool

    public init(transport: AWSTransport, bucket: String, region: String, endpoint: Endpoint, pathStyle: Bool) {
        self.transport = transport
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.pathStyle = pathStyle
    }

    /// An object as ListObjectsV2 shows it.
    public struct ObjectSummary: Sendable, Equatable {
        public var key: String
        public var size: Int64
        public var etag: String
        public var lastModified: Timestamp?
    }

    /// An object's headers as HeadObject shows them.
    public struct ObjectHead: Sendable, Equatable {
        public var size: Int64
        public var etag: String
        /// `x-amz-meta-*` values by lower-case name without the prefix.
        public var metadata: [String: String]
    }

    /// Every object under `prefix`, following continuation tokens (1,000 keys a page).
    public func list(prefix: String) async throws -> [ObjectSummary] {
        var objects: [ObjectSummary] = []
        var token: String?
        repeat {
            var query: [SignableRequest.QueryItem] = [.init("list-type", "2")]
            if !prefix.isEmpty { query.append(.init("prefix", prefix)) }
            if let token { query.append(.init("continuation-token", token)) }
            let response = try await transport.send(request("GET", key: nil, query: query, operation: "ListObjectsV2 s3://\(bucket)/\(prefix)",
                                                            needs: permission("s3:ListBucket", key: nil)))
            let root = try XMLElement.parse(response.body)
            for content in root.all("Contents") {
                guard let key = content.value("Key") else { continue }
                objects.append(ObjectSummary(key: key, size: Int64(content.value("Size") ?? "") ?? 0,
                                             etag: content.value("ETag") ?? "",
                                             lastModified: content.value("LastModified").flatMap { Timestamp(iso8601: $0) }))
            }
            token = root.value("IsTruncated") == "true" ? root.value("NextContinuationToken") : nil
        } while token != nil
        return objects
    }

    /// The object's size, ETag and metadata; nil when there is no such key.
    public func head(_ key: String) async throws -> ObjectHead? {
        do {
            let response = try await transport.send(request("HEAD", key: key, operation: "HEAD \(url(key))",
                                                            needs: permission("s3:GetObject", key: key)))
            var metadata: [String: String] = [:]
            for (name, value) in response.headers where name.lowercased().hasPrefix("x-amz-meta-") {
                metadata[String(name.lowercased().dropFirst("x-amz-meta-".count))] = value
            }
            return ObjectHead(size: Int64(response.header("content-length") ?? "") ?? 0,
                              etag: response.header("etag") ?? "", metadata: metadata)
        } catch let error as AWSError where error.status == 404 {
            return nil
        }
    }

    /// The object's bytes; nil when there is no such key.
    public func get(_ key: String) async throws -> [UInt8]? {
        do {
            return try await transport.send(request("GET", key: key, operation: "GET \(url(key))",
                                                    needs: permission("s3:GetObject", key: key))).body
        } catch let error as AWSError where error.status == 404 {
            return nil
        }
    }

    /// Uploads a whole object in one request, with `Content-MD5` and the signed SHA-256 so S3
    /// rejects a body damaged on the way. Returns the new ETag.
    @discardableResult
    public func put(_ key: String, body: AWSRequest.Body, sha256: String, headers: [SignableRequest.Header]) async throws -> String {
        var all = headers
        all.append(.init("Content-MD5", try digests(body).md5Base64))
        var put = request("PUT", key: key, headers: all, operation: "PUT \(url(key))", needs: permission("s3:PutObject", key: key))
        put.body = body
        put.payloadHash = sha256
        return try await transport.send(put).header("etag") ?? ""
    }

    /// Starts a multipart upload with the object's headers; returns its upload id.
    public func createMultipartUpload(_ key: String, headers: [SignableRequest.Header]) async throws -> String {
        let response = try await transport.send(request("POST", key: key, query: [.init("uploads", "")], headers: headers,
                                                         operation: "CreateMultipartUpload \(url(key))",
                                                         needs: permission("s3:PutObject", key: key)))
        guard let id = try XMLElement.parse(response.body).value("UploadId") else {
            throw AWSError(status: response.status, code: "MalformedResponse", message: "no UploadId in the answer",
                           requestId: nil, operation: "CreateMultipartUpload \(url(key))")
        }
        return id
    }

    /// Uploads part `number` (from 1) of a multipart upload; returns its ETag.
    public func uploadPart(_ key: String, uploadId: String, number: Int, body: AWSRequest.Body) async throws -> String {
        let (md5, sha) = try digests(body, sha256: true)
        var part = request("PUT", key: key, query: [.init("partNumber", String(number)), .init("uploadId", uploadId)],
                           headers: [.init("Content-MD5", md5)],
                           operation: "UploadPart \(number) \(url(key))", needs: permission("s3:PutObject", key: key))
        part.body = body
        part.payloadHash = sha ?? Signer.unsignedPayload
        return try await transport.send(part).header("etag") ?? ""
    }

    /// Joins the uploaded parts (in order) into the object; returns its ETag.
    @discardableResult
    public func completeMultipartUpload(_ key: String, uploadId: String, partETags: [String]) async throws -> String {
        let xml = "<CompleteMultipartUpload>" + partETags.enumerated().map {
            "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(xmlEscape($0.element))</ETag></Part>"
        }.joined() + "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        var complete = request("POST", key: key, query: [.init("uploadId", uploadId)],
                               operation: "CompleteMultipartUpload \(url(key))", needs: permission("s3:PutObject", key: key))
        complete.body = .bytes(body)
        complete.payloadHash = hexSHA256(body)
        let response = try await transport.send(complete)
        // S3 may answer 200 with an <Error> body when the join fails late.
        let root = try XMLElement.parse(response.body)
        if root.name == "Error" {
            var error = AWSError.parse(status: 500, headers: response.headers, body: response.body,
                                       operation: "CompleteMultipartUpload \(url(key))")
            error.permission = complete.permission
            throw error
        }
        return root.value("ETag") ?? ""
    }

    public func abortMultipartUpload(_ key: String, uploadId: String) async throws {
        _ = try await transport.send(request("DELETE", key: key, query: [.init("uploadId", uploadId)],
                                             operation: "AbortMultipartUpload \(url(key))",
                                             needs: permission("s3:AbortMultipartUpload", key: key)))
    }

    /// Deletes up to 1,000 keys in one request and checks the answer key by key.
    public func deleteObjects(_ keys: [String]) async throws {
        precondition(keys.count <= 1000, "DeleteObjects takes at most 1,000 keys")
        guard !keys.isEmpty else { return }
        let xml = "<Delete><Quiet>true</Quiet>" + keys.map { "<Object><Key>\(xmlEscape($0))</Key></Object>" }.joined() + "</Delete>"
        let body = Array(xml.utf8)
        var delete = request("POST", key: nil, query: [.init("delete", "")],
                             headers: [.init("Content-MD5", try digests(.bytes(body)).md5Base64), .init("Content-Type", "application/xml")],
                             operation: "DeleteObjects s3://\(bucket) (\(keys.count) keys)",
                             needs: permission("s3:DeleteObject", key: keys[0]))
        delete.body = .bytes(body)
        delete.payloadHash = hexSHA256(body)
        let response = try await transport.send(delete)
        let failures = try XMLElement.parse(response.body).all("Error")
        if let first = failures.first {
            throw AWSError(status: response.status, code: first.value("Code") ?? "DeleteFailed",
                           message: "\(failures.count) of \(keys.count) deletes failed; first: \(first.value("Key") ?? "?"): \(first.value("Message") ?? "")",
                           requestId: response.header("x-amz-request-id"), operation: "DeleteObjects s3://\(bucket)",
                           permission: permission("s3:DeleteObject", key: first.value("Key") ?? keys[0]))
        }
    }

    func url(_ key: String) -> String { "s3://\(bucket)/\(key)" }

    /// What a call needs: `action` on the object `key`, or on the bucket when `key` is nil.
    static func permission(_ action: String, bucket: String, key: String?, region: String) -> Permission {
        Permission(action, on: "arn:\(Permission.partition(ofRegion: region)):s3:::\(bucket)" + (key.map { "/" + $0 } ?? ""),
                   policy: Permission.publishPolicy)
    }

    private func permission(_ action: String, key: String?) -> Permission {
        Self.permission(action, bucket: bucket, key: key, region: region)
    }

    private func request(_ method: String, key: String?, query: [SignableRequest.QueryItem] = [],
                         headers: [SignableRequest.Header] = [], operation: String, needs permission: Permission) -> AWSRequest {
        var target = endpoint
        var path: String
        if pathStyle {
            path = "/" + bucket + (key.map { "/" + $0 } ?? "")
        } else {
            target.host = bucket + "." + endpoint.host
            path = "/" + (key ?? "")
        }
        return AWSRequest(service: "s3", region: region, endpoint: target, method: method, path: path,
                          query: query, headers: headers, operation: operation, permission: permission)
    }
}

/// Base64 MD5 of a body (`Content-MD5`) and, when asked, its hex SHA-256 (the signed payload
/// hash), in one read of a file range.
func digests(_ body: AWSRequest.Body, sha256 wantSHA256: Bool = false) throws -> (md5Base64: String, sha256Hex: String?) {
    var md5 = Insecure.MD5()
    var sha = wantSHA256 ? SHA256() : nil
    let consume: ([UInt8]) -> Void = { chunk in
        md5.update(data: chunk)
        sha?.update(data: chunk)
    }
    switch body {
    case .empty: break
    case .bytes(let bytes): consume(bytes)
    case .file(let path, let offset, let length):
        var reader = FileRangeReader(path: path, position: offset, end: offset + length)
        defer { reader.close() }
        while let chunk = try reader.next(maximum: 1 << 20) { consume(chunk) }
    }
    return (Data(md5.finalize()).base64EncodedString(), sha.map { hexEncoded($0.finalize()) })
}
