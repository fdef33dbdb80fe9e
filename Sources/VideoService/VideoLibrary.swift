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
    /// The conversion made an HLS ladder (`StreamLadder`) beside the MP4; false for videos
    /// converted before there was one.
    public var hlsLadder: Bool
    /// The source's duration when it was longer than the longest-duration limit
    /// (`UsageLimits.longestMinutes`) and the conversion kept only its beginning, `durationSeconds`
    /// long; nil for a video converted whole.
    public var cutFromSeconds: Double?
    /// The converter's id for the video's conversion (MediaConvert's job id), recorded when it was
    /// submitted, so the sweeper (`ConversionSweep`) can ask about it; nil locally and before.
    public var jobId: String?

    public init(id: String, sub: String, title: String, fileName: String, contentType: String, sizeBytes: Int64,
                uploadKey: String, uploadId: String?, partSize: Int64?, status: VideoStatus,
                durationSeconds: Double? = nil, progress: Double? = nil, error: String? = nil, createdAt: Double,
                hlsLadder: Bool = false, cutFromSeconds: Double? = nil, jobId: String? = nil) {
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
        self.hlsLadder = hlsLadder
        self.cutFromSeconds = cutFromSeconds
        self.jobId = jobId
    }
}

/// A change of status, and the status machine in one place: which videos it applies to and what
/// it writes. Each store applies it as one conditional write built from `condition` and `writes`,
/// so the table itself refuses a change the machine does not allow.
public enum VideoChange: Sendable, Equatable {
    /// The upload is complete and its conversion is asked for: `jobId`, the converter's id for it
    /// when it has one.
    case queued(jobId: String? = nil)
    /// Converting; `progress` from 0 to 1 only rises.
    case converting(progress: Double)
    /// `ladder`: the conversion made the HLS ladder too; `cutFromSeconds`: the source's duration
    /// when the conversion kept only its first `durationSeconds` (the longest-duration limit).
    case ready(durationSeconds: Double?, ladder: Bool = false, cutFromSeconds: Double? = nil)
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

    /// What `applies(to:)` asks of the stored video, as a store writes it into its conditional
    /// update: a status among `statuses`, or, for a change to the status the video already has
    /// (progress while converting), that status with a progress below the change's or none yet.
    public struct Condition: Sendable, Equatable {
        /// In the order of `VideoStatus.allCases`.
        public var statuses: [VideoStatus]
        public var rising: Rising?

        /// `status` is allowed only while the stored progress is below `progressBelow`, or unknown.
        public struct Rising: Sendable, Equatable {
            public var status: VideoStatus
            public var progressBelow: Double
        }
    }

    public var condition: Condition {
        let statuses = VideoStatus.allCases.filter(from.contains)
        // Progress only rises: the one change a video may take to the status it already has.
        guard case .converting(let progress) = self, from.contains(status) else { return Condition(statuses: statuses) }
        return Condition(statuses: statuses.filter { $0 != status }, rising: .init(status: status, progressBelow: progress))
    }

    /// Whether the change applies to a video in this state.
    public func applies(to record: VideoRecord) -> Bool {
        let condition = condition
        if condition.statuses.contains(record.status) { return true }
        guard let rising = condition.rising, record.status == rising.status else { return false }
        return record.progress.map { $0 < rising.progressBelow } ?? true
    }

    /// A field the change writes. `field` names it as the record, the SQLite column and the
    /// DynamoDB attribute all do; `value` is nil where the field is cleared.
    public enum Write: Sendable, Equatable {
        case status(VideoStatus)
        case progress(Double?)
        case error(String?)
        case durationSeconds(Double)
        /// Stored as the number 1; absent on videos converted before the ladder.
        case hlsLadder
        case cutFromSeconds(Double)
        case jobId(String)

        public enum Value: Sendable, Equatable {
            case text(String)
            case number(Double)
        }

        public var field: String {
            switch self {
            case .status: "status"
            case .progress: "progress"
            case .error: "error"
            case .durationSeconds: "durationSeconds"
            case .hlsLadder: "hlsLadder"
            case .cutFromSeconds: "cutFromSeconds"
            case .jobId: "jobId"
            }
        }

        public var value: Value? {
            switch self {
            case .status(let status): .text(status.rawValue)
            case .progress(let progress): progress.map(Value.number)
            case .error(let error): error.map(Value.text)
            case .durationSeconds(let seconds): .number(seconds)
            case .hlsLadder: .number(1)
            case .cutFromSeconds(let seconds): .number(seconds)
            case .jobId(let id): .text(id)
            }
        }
    }

    /// What the change writes; the fields it does not name keep their values.
    public var writes: [Write] {
        switch self {
        case .queued(let jobId): [.status(status), .progress(nil)] + (jobId.map { [.jobId($0)] } ?? [])
        case .converting(let progress): [.status(status), .progress(progress)]
        case .ready(let duration, let ladder, let cutFrom):
            [.status(status), .progress(nil), .error(nil)] + (duration.map { [.durationSeconds($0)] } ?? []) + (ladder ? [.hlsLadder] : [])
                + (cutFrom.map { [.cutFromSeconds($0)] } ?? [])
        case .failed(let reason): [.status(status), .progress(nil), .error(reason)]
        }
    }

    /// The record after the change.
    public func applied(to record: VideoRecord) -> VideoRecord {
        var record = record
        for write in writes {
            switch write {
            case .status(let status): record.status = status
            case .progress(let progress): record.progress = progress
            case .error(let error): record.error = error
            case .durationSeconds(let seconds): record.durationSeconds = seconds
            case .hlsLadder: record.hlsLadder = true
            case .cutFromSeconds(let seconds): record.cutFromSeconds = seconds
            case .jobId(let id): record.jobId = id
            }
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
    /// Deletes everything a conversion wrote for the video in the main bucket: the MP4, the
    /// thumbnail and the HLS ladder. No error for files that are not there.
    func deleteConverted(sub: String, id: String) async throws
    /// A presigned URL for one request; `headers` are signed, so the request must send them as given.
    func presign(method: String, bucket: String, key: String, query: [(name: String, value: String)],
                 headers: [(name: String, value: String)], expiresIn: Int) -> String
}
