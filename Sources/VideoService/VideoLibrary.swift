#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A video's status. It only moves forward — `uploading` → `queued` → `converting` → `ready` or
/// `failed` — so an event that arrives twice or late cannot move a video back.
public enum VideoStatus: String, Sendable, CaseIterable {
    case uploading, queued, converting, ready, failed

    public var rank: Int {
        switch self {
        case .uploading: 0
        case .queued: 1
        case .converting: 2
        case .ready, .failed: 3
        }
    }
}

/// One video in a user's library, as both stores keep it.
public struct VideoRecord: Sendable, Equatable {
    public var id: String
    public var sub: String
    public var title: String
    public var fileName: String
    public var contentType: String
    public var sizeBytes: Int64
    /// The original's key in the temporary bucket.
    public var uploadKey: String
    /// The multipart upload's id and part size; nil for a single PUT.
    public var uploadId: String?
    public var partSize: Int64?
    public var status: VideoStatus
    public var durationSeconds: Double?
    /// 0 to 1 while converting.
    public var progress: Double?
    /// Why the conversion failed, for a person.
    public var error: String?
    /// Seconds since 1970.
    public var createdAt: Double

    public init(id: String, sub: String, title: String, fileName: String, contentType: String, sizeBytes: Int64,
                uploadKey: String, uploadId: String?, partSize: Int64?, status: VideoStatus,
                durationSeconds: Double? = nil, progress: Double? = nil, error: String? = nil, createdAt: Double) {
        self.id = id
        self.sub = sub
        self.title = title
        self.fileName = fileName
        self.contentType = contentType
        self.sizeBytes = sizeBytes
        self.uploadKey = uploadKey
        self.uploadId = uploadId
        self.partSize = partSize
        self.status = status
        self.durationSeconds = durationSeconds
        self.progress = progress
        self.error = error
        self.createdAt = createdAt
    }
}

/// A change of status. Each store applies it as one conditional write, allowed only from the
/// statuses `from` names (and, for progress, only upwards).
public enum VideoChange: Sendable, Equatable {
    /// The upload is complete and its conversion is asked for.
    case queued
    /// Converting; `progress` from 0 to 1 only rises.
    case converting(progress: Double)
    case ready(durationSeconds: Double?)
    case failed(reason: String)

    public var status: VideoStatus {
        switch self {
        case .queued: .queued
        case .converting: .converting
        case .ready: .ready
        case .failed: .failed
        }
    }

    /// The statuses this change may be applied to.
    public var from: Set<VideoStatus> {
        switch self {
        case .queued: [.uploading]
        // A completion can arrive before any progress event.
        case .converting, .ready, .failed: [.queued, .converting]
        }
    }

    /// Whether the change applies to a video in this state: the status machine in one place.
    public func applies(to record: VideoRecord) -> Bool {
        guard from.contains(record.status) else { return false }
        if case .converting(let progress) = self, record.status == .converting {
            return record.progress.map { $0 < progress } ?? true
        }
        return true
    }

    /// The record after the change.
    public func applied(to record: VideoRecord) -> VideoRecord {
        var record = record
        record.status = status
        switch self {
        case .queued: record.progress = nil
        case .converting(let progress): record.progress = progress
        case .ready(let duration):
            record.progress = nil
            record.error = nil
            if let duration { record.durationSeconds = duration }
        case .failed(let reason):
            record.progress = nil
            record.error = reason
        }
        return record
    }
}

/// The library's state: SQLite in the local cloud, DynamoDB in production. Every method is scoped
/// by the owner's `sub`; there is no call that reaches across users.
public protocol VideoLibrary: Sendable {
    func insert(_ video: VideoRecord) async throws
    func video(sub: String, id: String) async throws -> VideoRecord?
    /// The user's videos, newest first.
    func videos(sub: String) async throws -> [VideoRecord]
    /// Removes the video and returns what it was; nil when there was none.
    func remove(sub: String, id: String) async throws -> VideoRecord?
    /// Applies the change when `change.applies(to:)` the stored video, atomically; false otherwise
    /// (no such video, or its status does not allow it).
    func apply(_ change: VideoChange, sub: String, id: String) async throws -> Bool
}

/// A part of a multipart upload as the bucket holds it.
public struct UploadedPart: Sendable, Equatable {
    public var partNumber: Int
    /// Without quotes.
    public var etag: String
    public var size: Int64
    public var checksumSHA256: ChecksumSHA256?

    public init(partNumber: Int, etag: String, size: Int64, checksumSHA256: ChecksumSHA256?) {
        self.partNumber = partNumber
        self.etag = etag
        self.size = size
        self.checksumSHA256 = checksumSHA256
    }
}

/// The bucket refused a request with a reason the caller can act on (S3's message).
public struct StorageRefusal: Error, Sendable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// The buckets: the local cloud's S3 store, or S3 itself.
public protocol VideoStorage: Sendable {
    var tempBucket: String { get }
    var mainBucket: String { get }
    /// A multipart upload whose parts must each carry their SHA-256.
    func createMultipartUpload(key: String, contentType: String) async throws -> String
    /// Throws `StorageRefusal` with code `NoSuchUpload` when the upload is gone.
    func listParts(key: String, uploadId: String) async throws -> [UploadedPart]
    func abortMultipartUpload(key: String, uploadId: String) async throws
    /// Joins the parts; answers the object's composite checksum. Throws `StorageRefusal` when S3 refuses.
    func completeMultipartUpload(key: String, uploadId: String, parts: [(number: Int, etag: String, checksum: ChecksumSHA256)]) async throws -> String?
    /// Deletes one object; no error when it is already gone.
    func delete(bucket: String, key: String) async throws
    /// A presigned URL for one request; `headers` are signed, so the request must send them as given.
    func presign(method: String, bucket: String, key: String, query: [(name: String, value: String)],
                 headers: [(name: String, value: String)], expiresIn: Int) -> String
}
