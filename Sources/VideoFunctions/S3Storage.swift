#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AWSClient
import SigV4
import VideoService

/// The temporary and main buckets in S3: multipart uploads with SHA-256 checksums, deletes, and
/// URLs presigned with the function's own (temporary) credentials.
public struct S3Storage: VideoStorage {
    let aws: AWSServices
    public let tempBucket: String
    public let mainBucket: String

    public init(aws: AWSServices, tempBucket: String, mainBucket: String) {
        self.aws = aws
        self.tempBucket = tempBucket
        self.mainBucket = mainBucket
    }

    /// The endpoint and path of an object, path-style or virtual-hosted.
    private func location(bucket: String, key: String) -> (endpoint: Endpoint, path: String) {
        if aws.s3PathStyle { return (aws.s3, "/\(bucket)/\(key)") }
        var endpoint = aws.s3
        endpoint.host = "\(bucket).\(endpoint.host)"
        return (endpoint, "/\(key)")
    }

    private func send(_ method: String, bucket: String, key: String, query: [SignableRequest.QueryItem],
                      headers: [SignableRequest.Header] = [], body: [UInt8]? = nil, operation: String) async throws -> AWSResponse {
        let (endpoint, path) = location(bucket: bucket, key: key)
        var request = AWSRequest(service: "s3", region: aws.region, endpoint: endpoint, method: method, path: path,
                                 query: query, headers: headers, operation: "\(operation) s3://\(bucket)/\(key)")
        if let body {
            request.body = .bytes(body)
            request.payloadHash = hexSHA256(body)
        }
        do {
            return try await aws.transport.send(request)
        } catch let error as AWSError where error.status < 500 && error.status != 403 {
            throw StorageRefusal(code: error.code, message: error.message.isEmpty ? error.description : error.message)
        }
    }

    public func createMultipartUpload(key: String, contentType: String) async throws -> String {
        let response = try await send("POST", bucket: tempBucket, key: key, query: [.init("uploads", "")],
                                      headers: [.init("Content-Type", contentType), .init("x-amz-checksum-algorithm", "SHA256")],
                                      operation: "CreateMultipartUpload")
        guard let id = try XMLElement.parse(response.body).value("UploadId") else {
            throw StorageRefusal(code: "MalformedResponse", message: "S3 answered CreateMultipartUpload without an UploadId.")
        }
        return id
    }

    public func listParts(key: String, uploadId: String) async throws -> [UploadedPart] {
        var parts: [UploadedPart] = []
        var marker: String?
        repeat {
            var query: [SignableRequest.QueryItem] = [.init("uploadId", uploadId)]
            if let marker { query.append(.init("part-number-marker", marker)) }
            let root = try XMLElement.parse(try await send("GET", bucket: tempBucket, key: key, query: query, operation: "ListParts").body)
            for part in root.all("Part") {
                guard let number = part.value("PartNumber").flatMap(Int.init), let etag = part.value("ETag"),
                      let size = part.value("Size").flatMap(Int64.init) else { continue }
                parts.append(UploadedPart(partNumber: number, etag: VideoRules.unquoted(etag),
                                          size: size, checksumSHA256: part.value("ChecksumSHA256").flatMap { ChecksumSHA256(base64: $0) }))
            }
            marker = root.value("IsTruncated") == "true" ? root.value("NextPartNumberMarker") : nil
        } while marker != nil
        return parts
    }

    public func abortMultipartUpload(key: String, uploadId: String) async throws {
        _ = try await send("DELETE", bucket: tempBucket, key: key, query: [.init("uploadId", uploadId)], operation: "AbortMultipartUpload")
    }

    public func completeMultipartUpload(key: String, uploadId: String, parts: [(number: Int, etag: String, checksum: ChecksumSHA256)]) async throws -> String? {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            let etag = "\"" + VideoRules.unquoted(part.etag) + "\""
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(escaped(etag))</ETag><ChecksumSHA256>\(part.checksum)</ChecksumSHA256></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let response = try await send("POST", bucket: tempBucket, key: key, query: [.init("uploadId", uploadId)],
                                      headers: [.init("Content-Type", "application/xml")], body: Array(xml.utf8),
                                      operation: "CompleteMultipartUpload")
        // S3 can answer 200 with an error document when the join fails late.
        let root = try XMLElement.parse(response.body)
        if root.name == "Error" {
            throw StorageRefusal(code: root.value("Code") ?? "InternalError", message: root.value("Message") ?? "The upload could not be completed.")
        }
        return root.value("ChecksumSHA256")
    }

    public func delete(bucket: String, key: String) async throws {
        _ = try await send("DELETE", bucket: bucket, key: key, query: [], operation: "DeleteObject")
    }

    public func presign(method: String, bucket: String, key: String, query: [(name: String, value: String)],
                        headers: [(name: String, value: String)], expiresIn: Int) -> String {
        let (endpoint, path) = location(bucket: bucket, key: key)
        let request = SignableRequest(method: method, path: endpoint.basePath + path, query: query.map { .init($0.name, $0.value) },
                                      headers: [.init("host", endpoint.hostHeader)] + headers.map { .init($0.name, $0.value) })
        let signer = Signer(credentials: aws.credentials, region: aws.region, service: "s3")
        let signed = signer.presign(request, expiresIn: expiresIn, at: Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970)),
                                    signedHeaders: Set(headers.map { $0.name.lowercased() }))
        return "\(endpoint.scheme)://\(endpoint.hostHeader)\(signed.request.target)"
    }

    private func escaped(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing("\"", with: "&quot;")
    }
}

/// MediaConvert on its regional endpoint (no DescribeEndpoints): `CreateJob` with the shared
/// settings. The video id is the job's `ClientRequestToken`, so submitting twice makes one job.
public struct MediaConvertConverter: Converter {
    let aws: AWSServices
    let role: String
    let queue: String?

    public init(aws: AWSServices, role: String, queue: String?) {
        self.aws = aws
        self.role = role
        self.queue = queue
    }

    public func submit(_ job: ConversionJob) async throws {
        _ = try await aws.json(service: "mediaconvert", endpoint: aws.mediaConvert, path: "/2017-08-29/jobs",
                               contentType: "application/json", body: ConversionSettings.mediaConvertJob(job, role: role, queue: queue),
                               operation: "MediaConvert CreateJob for video \(job.videoId)")
    }
}
