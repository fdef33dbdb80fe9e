#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AWSClient
import SigV4
import VideoService

/// The temporary and main buckets in S3, through the shared client: multipart uploads with SHA-256
/// checksums, deletes, and URLs presigned with the function's own (temporary) credentials.
public struct S3Storage: VideoStorage {
    let aws: AWSServices
    public let tempBucket: String
    public let mainBucket: String
    /// Whether the browser's uploads (presigned URLs to the temporary bucket) go through S3
    /// Transfer Acceleration; the function's own calls stay on the regional endpoint.
    public let accelerateUploads: Bool

    public init(aws: AWSServices, tempBucket: String, mainBucket: String, accelerateUploads: Bool = false) {
        self.aws = aws
        self.tempBucket = tempBucket
        self.mainBucket = mainBucket
        self.accelerateUploads = accelerateUploads
    }

    /// S3's refusals of the request (a 4xx other than 403) as `StorageRefusal`s with S3's reason,
    /// which the video service can answer; a 403 or a failure of S3 stays the error it is.
    private func refusals<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let error as AWSError where error.status < 500 && error.status != 403 {
            throw StorageRefusal(code: error.code, message: error.message.isEmpty ? error.description : error.message)
        }
    }

    public func createMultipartUpload(key: String, contentType: String) async throws -> String {
        try await refusals {
            try await aws.s3.createMultipartUpload(bucket: tempBucket, key: key, headers: [
                .init("Content-Type", contentType), .init("x-amz-checksum-algorithm", "SHA256")])
        }
    }

    public func listParts(key: String, uploadId: String) async throws -> [UploadedPart] {
        try await refusals {
            try await aws.s3.listParts(bucket: tempBucket, key: key, uploadId: uploadId).map {
                UploadedPart(partNumber: $0.number, etag: VideoRules.unquoted($0.etag), size: $0.size,
                             checksumSHA256: $0.checksumSHA256.flatMap { ChecksumSHA256(base64: $0) })
            }
        }
    }

    public func abortMultipartUpload(key: String, uploadId: String) async throws {
        try await refusals { try await aws.s3.abortMultipartUpload(bucket: tempBucket, key: key, uploadId: uploadId) }
    }

    public func completeMultipartUpload(key: String, uploadId: String, parts: [(number: Int, etag: String, checksum: ChecksumSHA256)]) async throws -> String? {
        try await refusals {
            try await aws.s3.completeMultipartUpload(bucket: tempBucket, key: key, uploadId: uploadId, parts: parts.map {
                ($0.number, "\"" + VideoRules.unquoted($0.etag) + "\"", $0.checksum.description)
            }).checksumSHA256
        }
    }

    public func delete(bucket: String, key: String) async throws {
        try await refusals { try await aws.s3.deleteObject(bucket: bucket, key: key) }
    }

    /// Every key MediaConvert's job writes (`ConversionSettings.mediaConvertOutputKeys`), deleted
    /// one by one: the job's outputs are fixed, so no listing (and no s3:ListBucket) is needed.
    public func deleteConverted(sub: String, id: String) async throws {
        for key in ConversionSettings.mediaConvertOutputKeys(sub: sub, id: id) {
            try await delete(bucket: mainBucket, key: key)
        }
    }

    public func presign(method: String, bucket: String, key: String, query: [(name: String, value: String)],
                        headers: [(name: String, value: String)], expiresIn: Int) -> String {
        let s3 = accelerateUploads && bucket == tempBucket ? aws.s3.accelerated : aws.s3
        return s3.presignedURL(method: method, bucket: bucket, key: key, query: query.map { .init($0.name, $0.value) },
                               headers: headers.map { .init($0.name, $0.value) }, expiresIn: expiresIn, credentials: aws.credentials)
    }
}

/// MediaConvert on its regional endpoint (no DescribeEndpoints): `CreateJob` with the shared
/// settings. The video id is the job's `ClientRequestToken`, so submitting twice makes one job.
/// Before it, the upload's container header is read from the temporary bucket (`MediaHeader`, a
/// few ranged GETs), so the job asks only for the rungs the source's height can fill, and clips a
/// source longer than the longest-duration cap (when the header states its duration).
public struct MediaConvertConverter: Converter {
    let aws: AWSServices
    let role: String
    let queue: String?
    let log: @Sendable (String) -> Void

    public init(aws: AWSServices, role: String, queue: String?, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.aws = aws
        self.role = role
        self.queue = queue
        self.log = log
    }

    public func submit(_ job: ConversionJob) async throws -> String? {
        var job = job
        let read = try await sourceHeader(bucket: job.inputBucket, key: job.inputKey)
        // What the file is, by its content whatever its name says: no job is paid for a file that is
        // no media container (a text file named .mp4, a playlist, an archive).
        if let read, read.container == nil {
            log("video \(job.videoId): refused, its first bytes are no media container")
            throw ConversionRefused.notMedia
        }
        let header = read ?? .unknown
        job.sourceSize = header.size
        job.sourceDurationSeconds = header.durationSeconds
        let renditions = ConversionSettings.mediaConvertRenditions(sourceSize: header.size).map { "\($0.rung.height)p" }
        log("video \(job.videoId): " + (header.size.map { "source \($0.width)x\($0.height)" } ?? "source size unknown")
            + " (\(header.container?.rawValue ?? "container unknown")), renditions \(renditions.joined(separator: ","))"
            + (job.cutAtSeconds.map { ", cut at \(Int($0)) s of \(Int(header.durationSeconds ?? 0)) s" } ?? ""))
        let answer = try await aws.json(service: "mediaconvert", endpoint: aws.mediaConvert, path: "/2017-08-29/jobs",
                               contentType: "application/json", body: ConversionSettings.mediaConvertJob(job, role: role, queue: queue),
                               operation: "MediaConvert CreateJob for video \(job.videoId)")
        return answer["job"]?["id"]?.stringValue
    }

    /// The upload's header, from ranged GetObjects; nil when the upload is gone (the job then fails
    /// with MediaConvert's own reason). Any other failure — a refusal, S3 down — is thrown, so the
    /// message is retried rather than a job started blind.
    func sourceHeader(bucket: String, key: String) async throws -> MediaHeader? {
        do {
            return try await MediaHeader.read { range in
                let part = try await aws.s3.getObject(bucket: bucket, key: key, range: range)
                return (part.bytes, part.size)
            }
        } catch let error as AWSError where error.status == 404 {
            return nil
        }
    }
}
