import AWSClient
import Crypto
import Foundation
import SigV4

/// The S3 calls publishing needs, on one bucket: the shared client's, and the publisher's own
/// listing, heads, whole-object uploads and batch deletes. A refused call names the permission it
/// needed from `infra/publish-policy.json`.
public struct S3Client: Sendable {
    let s3: S3
    public let bucket: String

    public init(transport: AWSTransport, bucket: String, region: String, endpoint: Endpoint, pathStyle: Bool) {
        s3 = S3(transport: transport, region: region, endpoint: endpoint, pathStyle: pathStyle, policy: Permission.publishPolicy)
        self.bucket = bucket
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
            let response = try await s3.send(s3.request("GET", bucket: bucket, key: nil, query: query,
                                                        operation: "ListObjectsV2 \(url(prefix))", action: "s3:ListBucket"))
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
            let response = try await s3.send(s3.request("HEAD", bucket: bucket, key: key, operation: "HEAD \(url(key))",
                                                        action: "s3:GetObject"))
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
            return try await s3.send(s3.request("GET", bucket: bucket, key: key, operation: "GET \(url(key))", action: "s3:GetObject")).body
        } catch let error as AWSError where error.status == 404 {
            return nil
        }
    }

    /// Uploads a whole object in one request, with `Content-MD5` and the signed SHA-256 so S3
    /// rejects a body damaged on the way. Returns the new ETag.
    @discardableResult
    public func put(_ key: String, body: AWSRequest.Body, sha256: String, headers: [SignableRequest.Header]) async throws -> String {
        let put = s3.request("PUT", bucket: bucket, key: key, headers: headers + [.init("Content-MD5", try digests(body).md5Base64)],
                             body: body, payloadHash: sha256, operation: "PUT \(url(key))", action: "s3:PutObject")
        return try await s3.send(put).header("etag") ?? ""
    }

    /// Starts a multipart upload with the object's headers; returns its upload id.
    public func createMultipartUpload(_ key: String, headers: [SignableRequest.Header]) async throws -> String {
        try await s3.createMultipartUpload(bucket: bucket, key: key, headers: headers)
    }

    /// Uploads part `number` (from 1) of a multipart upload, with `Content-MD5` and its signed
    /// SHA-256; returns its ETag.
    public func uploadPart(_ key: String, uploadId: String, number: Int, body: AWSRequest.Body) async throws -> String {
        let (md5, sha) = try digests(body, sha256: true)
        return try await s3.uploadPart(bucket: bucket, key: key, uploadId: uploadId, number: number, body: body,
                                       payloadHash: sha ?? Signer.unsignedPayload, headers: [.init("Content-MD5", md5)])
    }

    /// Joins the uploaded parts (in order) into the object; returns its ETag.
    @discardableResult
    public func completeMultipartUpload(_ key: String, uploadId: String, partETags: [String]) async throws -> String {
        try await s3.completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadId,
                                             parts: partETags.enumerated().map { ($0.offset + 1, $0.element, nil) })
            .etag ?? ""
    }

    public func abortMultipartUpload(_ key: String, uploadId: String) async throws {
        try await s3.abortMultipartUpload(bucket: bucket, key: key, uploadId: uploadId)
    }

    /// Deletes up to 1,000 keys in one request and checks the answer key by key.
    public func deleteObjects(_ keys: [String]) async throws {
        precondition(keys.count <= 1000, "DeleteObjects takes at most 1,000 keys")
        guard !keys.isEmpty else { return }
        let xml = "<Delete><Quiet>true</Quiet>" + keys.map { "<Object><Key>\(xmlEscape($0))</Key></Object>" }.joined() + "</Delete>"
        let body = Array(xml.utf8)
        var delete = s3.request("POST", bucket: bucket, key: nil, query: [.init("delete", "")],
                                headers: [.init("Content-MD5", try digests(.bytes(body)).md5Base64), .init("Content-Type", "application/xml")],
                                body: .bytes(body), operation: "DeleteObjects s3://\(bucket) (\(keys.count) keys)", action: "s3:DeleteObject")
        // Named by the first key: deleting needs s3:DeleteObject on the objects, not the bucket.
        delete.permission = s3.permission("s3:DeleteObject", bucket: bucket, key: keys[0])
        let response = try await s3.send(delete)
        let failures = try XMLElement.parse(response.body).all("Error")
        if let first = failures.first {
            throw AWSError(status: response.status, code: first.value("Code") ?? "DeleteFailed",
                           message: "\(failures.count) of \(keys.count) deletes failed; first: \(first.value("Key") ?? "?"): \(first.value("Message") ?? "")",
                           requestId: response.header("x-amz-request-id"), operation: "DeleteObjects s3://\(bucket)",
                           permission: s3.permission("s3:DeleteObject", bucket: bucket, key: first.value("Key") ?? keys[0]))
        }
    }

    func url(_ key: String) -> String { S3.url(bucket: bucket, key: key) }
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
