#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The video API of `openapi.yaml`: presigned uploads into the temporary bucket and the caller's
/// library. Both hosts run this: the local cloud behind its HTTP server, the Lambda behind API
/// Gateway. Every call needs the caller's identity and reaches only keys under its `sub`.
public struct VideoService: Sendable {
    public static let maximumBodyBytes = 1 << 20

    let identity: any CallerIdentity
    let library: any VideoLibrary
    let storage: any VideoStorage
    /// Signs the cookies `POST /session` sets for the user's media; nil: the host serves no media.
    let media: MediaSettings?
    /// The user's limits and what counts against them; nil: a host without limits (tests).
    let usage: UsagePolicy?
    /// Each user's request rate; nil: a host without one (tests).
    let rateLimit: RateLimit?
    let log: @Sendable (String) -> Void

    public init(identity: any CallerIdentity, library: any VideoLibrary, storage: any VideoStorage, media: MediaSettings?,
                usage: UsagePolicy? = nil, rateLimit: RateLimit? = nil, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.identity = identity
        self.library = library
        self.storage = storage
        self.media = media
        self.usage = usage
        self.rateLimit = rateLimit
        self.log = log
    }

    public func handle(_ request: VideoRequest) async -> VideoResponse {
        do {
            return try await route(request)
        } catch let failure as APIFailure {
            return failure.response
        } catch let refusal as LimitExceeded {
            return refusal.response
        } catch {
            log("error: \(request.method) \(request.path): \(error)")
            return APIFailure.internalError.response
        }
    }

    /// The fixed paths and their methods; `/videos/<id>` takes GET and DELETE.
    static let routes: [String: Set<String>] = [
        "/videos/upload-url": ["POST"], "/videos/multipart": ["POST", "DELETE"],
        "/videos/multipart/parts": ["POST", "GET"], "/videos/multipart/complete": ["POST"], "/videos": ["GET"],
        "/videos/usage": ["GET"],
        "/session": ["POST", "DELETE"],
    ]

    func route(_ request: VideoRequest) async throws -> VideoResponse {
        let (method, path) = (request.method, request.path)
        var videoId: String?
        if let methods = Self.routes[path] {
            guard methods.contains(method) else { throw Self.methodNotAllowed(methods) }
        } else if path.hasPrefix("/videos/"), !path.dropFirst(8).contains("/") {
            guard ["GET", "DELETE"].contains(method) else { throw Self.methodNotAllowed(["GET", "DELETE"]) }
            videoId = String(path.dropFirst(8))
        } else {
            throw APIFailure.noSuchEndpoint
        }
        let caller = try await identity.caller(of: request)
        let sub = caller.sub
        try await rateLimit?.check(sub: sub)
        if let videoId {
            guard VideoRules.isVideoId(videoId) else { throw APIFailure.badRequest("A video id is 26 characters of lowercase base32.") }
            return method == "GET" ? try await getVideo(videoId, sub: sub) : try await deleteVideo(videoId, sub: sub)
        }
        switch (method, path) {
        case ("GET", "/videos"): return try await listVideos(sub: sub)
        case ("GET", "/videos/usage"): return try await reportUsage(sub: sub)
        case ("POST", "/videos/upload-url"): return try await createUploadURL(try BodyReader(request), sub: sub)
        case ("POST", "/videos/multipart"): return try await createMultipart(try BodyReader(request), sub: sub)
        case ("DELETE", "/videos/multipart"): return try await abortMultipart(request, sub: sub)
        case ("POST", "/videos/multipart/parts"): return try await presignParts(try BodyReader(request), sub: sub)
        case ("GET", "/videos/multipart/parts"): return try await listParts(request, sub: sub)
        case ("POST", "/videos/multipart/complete"): return try await completeMultipart(try BodyReader(request), sub: sub)
        case ("POST", "/session"): return try await openSession(caller, request: request)
        case ("DELETE", "/session"): return try closeSession(sub: sub)
        default: throw APIFailure.noSuchEndpoint
        }
    }

    static func methodNotAllowed(_ methods: Set<String>) -> APIFailure {
        APIFailure(status: 405, code: "BadRequest", message: "This endpoint accepts \(methods.sorted().joined(separator: " and ")) only.",
                   headers: ["Allow": methods.sorted().joined(separator: ", ")])
    }

    // MARK: New uploads

    struct NewUpload {
        var fileName: String
        var contentType: String
        var size: Int64
    }

    /// The properties every new upload has, besides `extra` (which the caller reads).
    func newUpload(_ body: BodyReader, extra: Set<String>, limit: Int64, tooLarge: String) throws -> NewUpload {
        try body.only(extra.union(["fileName", "contentType", "size"]))
        let fileName = try body.string("fileName")
        if let problem = VideoRules.fileNameProblem(fileName) { throw APIFailure.badRequest(problem) }
        let contentType = try body.string("contentType")
        guard VideoRules.isVideoType(contentType) else {
            throw APIFailure.badRequest("“contentType” must be a video type such as video/mp4.")
        }
        let size = try body.integer("size")
        guard size >= 1 else { throw APIFailure.badRequest("“size” must be at least 1 byte.") }
        guard size <= limit else { throw APIFailure(status: 413, code: "PayloadTooLarge", message: tooLarge) }
        return NewUpload(fileName: fileName, contentType: contentType, size: size)
    }

    func newKey(_ upload: NewUpload, sub: String, id: String) throws -> String {
        let key = VideoRules.uploadKey(sub: sub, videoId: id, fileName: upload.fileName)
        guard key.utf8.count <= VideoRules.maximumKeyBytes else {
            throw APIFailure.badRequest("The file name is too long for an S3 key (at most 1,024 bytes in all).")
        }
        return key
    }

    func record(_ upload: NewUpload, sub: String, id: String, key: String, uploadId: String?, partSize: Int64?) -> VideoRecord {
        VideoRecord(id: id, sub: sub, title: VideoRules.title(of: upload.fileName), fileName: upload.fileName,
                    contentType: upload.contentType, sizeBytes: upload.size, uploadKey: key, uploadId: uploadId,
                    partSize: partSize, status: .uploading, createdAt: Date().timeIntervalSince1970)
    }

    func createUploadURL(_ body: BodyReader, sub: String) async throws -> VideoResponse {
        let upload = try newUpload(body, extra: ["checksumSHA256"], limit: VideoRules.singlePutLimit,
                                   tooLarge: "Files larger than 5 GiB must be sent as a multipart upload.")
        let checksum = try body.checksum(of: "the file")
        try await checkLimits(newUpload: upload.size, sub: sub)
        let id = VideoRules.newVideoId()
        let key = try newKey(upload, sub: sub, id: id)
        try await library.insert(record(upload, sub: sub, id: id, key: key, uploadId: nil, partSize: nil))
        // S3 hashes the body and refuses one whose SHA-256 is not the signed checksum.
        let url = storage.presign(method: "PUT", bucket: storage.tempBucket, key: key, query: [],
                                  headers: [("content-type", upload.contentType), ("content-length", String(upload.size)),
                                            ("x-amz-checksum-sha256", checksum.description)],
                                  expiresIn: VideoRules.uploadURLLifetime)
        return .json(200, ["uploadUrl": .string(url), "key": .string(key), "expiresIn": .integer(Int64(VideoRules.uploadURLLifetime)),
                           "videoId": .string(id)])
    }

    func createMultipart(_ body: BodyReader, sub: String) async throws -> VideoResponse {
        let upload = try newUpload(body, extra: ["checksumAlgorithm"], limit: VideoRules.multipartLimit,
                                   tooLarge: "Files larger than 5 TiB cannot be uploaded.")
        guard case .string(let name)? = body["checksumAlgorithm"], let algorithm = ChecksumAlgorithm(rawValue: name) else {
            throw APIFailure.badRequest("“checksumAlgorithm” must be “SHA256”: every part is sent with its SHA-256.")
        }
        try await checkLimits(newUpload: upload.size, sub: sub)
        let partSize = VideoRules.partSize(for: upload.size)
        let id = VideoRules.newVideoId()
        let key = try newKey(upload, sub: sub, id: id)
        let uploadId = try await storage.createMultipartUpload(key: key, contentType: upload.contentType)
        try await library.insert(record(upload, sub: sub, id: id, key: key, uploadId: uploadId, partSize: partSize))
        return .json(200, ["key": .string(key), "uploadId": .string(uploadId), "partSize": .integer(partSize), "videoId": .string(id),
                           "checksumAlgorithm": .string(algorithm.rawValue)])
    }

    // MARK: Limits

    /// A new upload of `bytes` is refused (403) when it would pass one of the caller's limits.
    func checkLimits(newUpload bytes: Int64, sub: String) async throws {
        guard let usage else { return }
        let used = try await usage.usage(sub: sub, videos: try await library.videos(sub: sub))
        if let refusal = LimitExceeded.forNewUpload(bytes: bytes, usage: used, limits: try await usage.limits(sub: sub)) { throw refusal }
    }

    /// At completion, the upload's actual size (its parts were checked against it) with the
    /// caller's other videos, which may have grown since it began: over the limit, the upload is
    /// aborted and its video removed, so a refused upload keeps nothing.
    func checkStoredBytes(completing video: VideoRecord, sub: String) async throws {
        guard let usage else { return }
        let others = try await library.videos(sub: sub).filter { $0.id != video.id }.reduce(Int64(0)) { $0 + $1.sizeBytes }
        guard let refusal = LimitExceeded.forStoredBytes(video.sizeBytes, storedBefore: others, limits: try await usage.limits(sub: sub))
        else { return }
        if let uploadId = video.uploadId { try? await storage.abortMultipartUpload(key: video.uploadKey, uploadId: uploadId) }
        _ = try await library.remove(sub: sub, id: video.id)
        throw refusal
    }

    func reportUsage(sub: String) async throws -> VideoResponse {
        guard let usage else { throw APIFailure.noSuchEndpoint }
        let used = try await usage.usage(sub: sub, videos: try await library.videos(sub: sub))
        let limits = try await usage.limits(sub: sub)
        return .json(200, [
            "usage": ["storedBytes": .integer(used.storedBytes), "videos": .integer(used.videos),
                      "convertedMinutes": .integer(used.convertedMinutes), "month": .string(used.month)],
            "limits": ["storedBytes": .integer(limits.storedBytes), "videos": .integer(limits.videos),
                       "fileBytes": .integer(limits.fileBytes), "convertedMinutesPerMonth": .integer(limits.convertedMinutesPerMonth),
                       "longestMinutes": .number(limits.longestMinutes)],
        ], headers: ["Cache-Control": "no-store"])
    }
}
