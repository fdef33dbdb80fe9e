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

    private func route(_ request: VideoRequest) async throws -> VideoResponse {
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
    private func newUpload(_ body: BodyReader, extra: Set<String>, limit: Int64, tooLarge: String) throws -> NewUpload {
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

    private func newKey(_ upload: NewUpload, sub: String, id: String) throws -> String {
        let key = VideoRules.uploadKey(sub: sub, videoId: id, fileName: upload.fileName)
        guard key.utf8.count <= VideoRules.maximumKeyBytes else {
            throw APIFailure.badRequest("The file name is too long for an S3 key (at most 1,024 bytes in all).")
        }
        return key
    }

    private func record(_ upload: NewUpload, sub: String, id: String, key: String, uploadId: String?, partSize: Int64?) -> VideoRecord {
        VideoRecord(id: id, sub: sub, title: VideoRules.title(of: upload.fileName), fileName: upload.fileName,
                    contentType: upload.contentType, sizeBytes: upload.size, uploadKey: key, uploadId: uploadId,
                    partSize: partSize, status: .uploading, createdAt: Date().timeIntervalSince1970)
    }

    private func createUploadURL(_ body: BodyReader, sub: String) async throws -> VideoResponse {
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

    private func createMultipart(_ body: BodyReader, sub: String) async throws -> VideoResponse {
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
    private func checkLimits(newUpload bytes: Int64, sub: String) async throws {
        guard let usage else { return }
        let used = try await usage.usage(sub: sub, videos: try await library.videos(sub: sub))
        if let refusal = LimitExceeded.forNewUpload(bytes: bytes, usage: used, limits: try await usage.limits(sub: sub)) { throw refusal }
    }

    /// At completion, the upload's actual size (its parts were checked against it) with the
    /// caller's other videos, which may have grown since it began: over the limit, the upload is
    /// aborted and its video removed, so a refused upload keeps nothing.
    private func checkStoredBytes(completing video: VideoRecord, sub: String) async throws {
        guard let usage else { return }
        let others = try await library.videos(sub: sub).filter { $0.id != video.id }.reduce(Int64(0)) { $0 + $1.sizeBytes }
        guard let refusal = LimitExceeded.forStoredBytes(video.sizeBytes, storedBefore: others, limits: try await usage.limits(sub: sub))
        else { return }
        if let uploadId = video.uploadId { try? await storage.abortMultipartUpload(key: video.uploadKey, uploadId: uploadId) }
        _ = try await library.remove(sub: sub, id: video.id)
        throw refusal
    }

    private func reportUsage(sub: String) async throws -> VideoResponse {
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

    // MARK: Multipart uploads in progress

    struct Upload {
        var record: VideoRecord
        var partSize: Int64
        var partCount: Int { Int((record.sizeBytes + partSize - 1) / partSize) }
        func expectedSize(_ part: Int) -> Int64 { part < partCount ? partSize : record.sizeBytes - partSize * Int64(partCount - 1) }
    }

    /// The parts of `uploads/<sub>/<videoId>/<fileName>`; 400 for another shape, 403 for another user's.
    private func ownedKey(_ key: String, sub: String) throws -> String {
        guard let parsed = VideoRules.parseUploadKey(key) else {
            throw APIFailure.badRequest("“key” must be a key returned by this API: uploads/<sub>/<videoId>/<fileName>.")
        }
        guard parsed.sub == sub else { throw APIFailure.forbidden }
        return parsed.videoId
    }

    /// The caller's multipart upload named by `key` and `uploadId`.
    private func multipartUpload(key: String, uploadId: String, sub: String) async throws -> Upload {
        let videoId = try ownedKey(key, sub: sub)
        guard !uploadId.isEmpty, uploadId.utf8.count <= 1024 else { throw APIFailure.badRequest("“uploadId” is not a valid upload id.") }
        guard let record = try await library.video(sub: sub, id: videoId), record.uploadKey == key, record.uploadId == uploadId,
              let partSize = record.partSize else { throw APIFailure.uploadNotFound }
        return Upload(record: record, partSize: partSize)
    }

    private func presignParts(_ body: BodyReader, sub: String) async throws -> VideoResponse {
        try body.only(["key", "uploadId", "parts"])
        let (key, uploadId) = (try body.string("key"), try body.string("uploadId"))
        guard case .array(let values)? = body["parts"], (1...100).contains(values.count) else {
            throw APIFailure.badRequest("“parts” must be an array of 1 to 100 parts.")
        }
        var parts: [(number: Int, checksum: ChecksumSHA256)] = []
        for value in values {
            guard case .object(let part) = value, Set(part.keys) == ["partNumber", "checksumSHA256"],
                  let number = BodyReader.partNumber(part["partNumber"]) else {
                throw APIFailure.badRequest("Each part must be {partNumber, checksumSHA256} with a part number from 1 to 10000.")
            }
            let checksum = try BodyReader(object: part).checksum(of: "part \(number)")
            guard !parts.contains(where: { $0.number == number }) else { throw APIFailure.badRequest("Part numbers must not repeat.") }
            parts.append((number, checksum))
        }
        let upload = try await multipartUpload(key: key, uploadId: uploadId, sub: sub)
        guard upload.record.status == .uploading else { throw APIFailure.completed }
        if let beyond = parts.first(where: { $0.number > upload.partCount }) {
            throw APIFailure.badRequest("Part \(beyond.number) is beyond the last part (\(upload.partCount)) of this upload.")
        }
        // Each URL takes one body only: the part's length and SHA-256 are signed.
        let urls = parts.map { part -> JSONValue in
            let url = storage.presign(method: "PUT", bucket: storage.tempBucket, key: key,
                                      query: [("partNumber", String(part.number)), ("uploadId", uploadId)],
                                      headers: [("content-length", String(upload.expectedSize(part.number))),
                                                ("x-amz-checksum-sha256", part.checksum.description)],
                                      expiresIn: VideoRules.partURLLifetime)
            return ["partNumber": .integer(Int64(part.number)), "url": .string(url)]
        }
        return .json(200, ["urls": .array(urls), "expiresIn": .integer(Int64(VideoRules.partURLLifetime))])
    }

    private func queryKeyAndUploadId(_ request: VideoRequest) throws -> (String, String) {
        guard let key = request.queryValue("key"), let uploadId = request.queryValue("uploadId") else {
            throw APIFailure.badRequest("The query needs “key” and “uploadId”.")
        }
        return (key, uploadId)
    }

    private func listParts(_ request: VideoRequest, sub: String) async throws -> VideoResponse {
        let (key, uploadId) = try queryKeyAndUploadId(request)
        _ = try await multipartUpload(key: key, uploadId: uploadId, sub: sub)
        let parts: [UploadedPart]
        do {
            parts = try await storage.listParts(key: key, uploadId: uploadId)
        } catch is StorageRefusal {
            throw APIFailure.uploadNotFound
        }
        return .json(200, ["parts": .array(parts.map {
            ["partNumber": .integer(Int64($0.partNumber)), "etag": .string("\"\($0.etag)\""), "size": .integer($0.size),
             "checksumSHA256": JSONValue($0.checksumSHA256?.description)]
        })])
    }

    private func abortMultipart(_ request: VideoRequest, sub: String) async throws -> VideoResponse {
        let (key, uploadId) = try queryKeyAndUploadId(request)
        let upload = try await multipartUpload(key: key, uploadId: uploadId, sub: sub)
        guard upload.record.status == .uploading else { throw APIFailure.completed }
        try? await storage.abortMultipartUpload(key: key, uploadId: uploadId)
        _ = try await library.remove(sub: sub, id: upload.record.id)
        return .empty(204)
    }

    private func completeMultipart(_ body: BodyReader, sub: String) async throws -> VideoResponse {
        try body.only(["key", "uploadId", "parts"])
        let (key, uploadId) = (try body.string("key"), try body.string("uploadId"))
        guard case .array(let values)? = body["parts"], (1...10_000).contains(values.count) else {
            throw APIFailure.badRequest("“parts” must list every part, 1 to 10000 of them.")
        }
        var parts: [(number: Int, etag: String, checksum: ChecksumSHA256)] = []
        for value in values {
            guard case .object(let part) = value, Set(part.keys) == ["partNumber", "etag", "checksumSHA256"],
                  let number = BodyReader.partNumber(part["partNumber"]),
                  case .string(let etag)? = part["etag"], VideoRules.isETag(etag) else {
                throw APIFailure.badRequest("Each part must be {partNumber, etag, checksumSHA256} with the ETag S3 returned for it.")
            }
            parts.append((number, etag, try BodyReader(object: part).checksum(of: "part \(number)")))
        }
        let upload = try await multipartUpload(key: key, uploadId: uploadId, sub: sub)
        guard upload.record.status == .uploading else { throw APIFailure.completed }
        guard parts.map(\.number) == Array(1...upload.partCount) else {
            throw APIFailure.badRequest("“parts” must list parts 1 to \(upload.partCount) once each, in order.")
        }
        let held: [UploadedPart]
        do {
            held = try await storage.listParts(key: key, uploadId: uploadId)
        } catch is StorageRefusal {
            throw APIFailure.uploadNotFound
        }
        let stored = Dictionary(held.map { ($0.partNumber, $0) }, uniquingKeysWith: { a, _ in a })
        for part in parts {
            guard let held = stored[part.number] else { throw APIFailure.badRequest("Part \(part.number) has not been uploaded.") }
            guard held.etag == VideoRules.unquoted(part.etag) else {
                throw APIFailure.badRequest("The ETag of part \(part.number) does not match the uploaded part.")
            }
            // S3 lists each part's checksum for a SHA256 upload (and checks them again when the
            // parts are joined); a store that lists none leaves the check to that join.
            if let stored = held.checksumSHA256, stored != part.checksum {
                throw APIFailure.badRequest("The checksum of part \(part.number) does not match the uploaded part.")
            }
            guard held.size == upload.expectedSize(part.number) else {
                throw APIFailure.badRequest("Part \(part.number) is \(held.size) bytes; it must be \(upload.expectedSize(part.number)).")
            }
        }
        try await checkStoredBytes(completing: upload.record, sub: sub)
        let checksum: String?
        do {
            checksum = try await storage.completeMultipartUpload(key: key, uploadId: uploadId, parts: parts)
        } catch let refusal as StorageRefusal {
            throw APIFailure.badRequest(refusal.message)
        }
        return .json(200, ["videoId": .string(upload.record.id), "key": .string(key), "checksumSHA256": JSONValue(checksum)])
    }

    // MARK: Media session

    /// Signed cookies that open the caller's media folder, and nothing else, until their access
    /// token expires (an hour at most).
    private func openSession(_ caller: Caller, request: VideoRequest) async throws -> VideoResponse {
        guard let media else { throw APIFailure.noSuchEndpoint }
        let now = Int64(Date().timeIntervalSince1970)
        let expires = min(caller.tokenExpiry ?? Int64.max, now + Int64(MediaCookies.longestLifetime))
        guard expires > now else { throw APIFailure.expiredToken }
        guard let origin = media.origin ?? request.header("host").map({ "http://" + $0 }) else {
            throw APIFailure.badRequest("The request has no Host header.")
        }
        let folder = MediaCookies.folder(sub: caller.sub)
        let values: [(name: String, value: String)]
        do {
            values = try MediaCookies.sign(policy: MediaCookies.policy(resource: origin + folder + "*", expires: expires),
                                           with: try await media.keys.signingKey())
        } catch {
            log("error: cannot sign media cookies: \(error)")
            throw APIFailure.internalError
        }
        var response = VideoResponse.json(200, ["mediaPath": .string(folder), "expiresAt": .string(Self.iso8601(Double(expires))),
                                                "expiresIn": .integer(expires - now)],
                                          headers: ["Cache-Control": "no-store"])
        response.cookies = MediaCookies.setCookieHeaders(values, path: folder, maxAge: Int(expires - now), secure: media.secure)
        return response
    }

    /// Removes the caller's media cookies (sign-out), and the media the browser cached (`private`,
    /// for a day) with them: `Clear-Site-Data` empties the site's HTTP cache.
    private func closeSession(sub: String) throws -> VideoResponse {
        guard let media else { throw APIFailure.noSuchEndpoint }
        var response = VideoResponse.empty(204)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Clear-Site-Data"] = "\"cache\""
        response.cookies = MediaCookies.setCookieHeaders(nil, path: MediaCookies.folder(sub: sub), maxAge: 0, secure: media.secure)
        return response
    }

    // MARK: Library

    private func json(_ video: VideoRecord) -> JSONValue {
        let keys = VideoRules.mainKeys(sub: video.sub, id: video.id)
        let ready = video.status == .ready
        // Plain paths on the site's origin: the session's cookies open them.
        func playback(_ key: String) -> JSONValue { ready ? .string(MediaCookies.path(ofKey: key)) : .null }
        return [
            "id": .string(video.id), "title": .string(video.title), "status": .string(video.status.rawValue),
            "sizeBytes": .integer(video.sizeBytes), "durationSeconds": JSONValue(video.durationSeconds),
            "createdAt": .string(Self.iso8601(video.createdAt)),
            "playbackUrl": playback(keys.video), "thumbnailUrl": playback(keys.thumbnail),
            "streamUrl": video.hlsLadder ? playback(StreamLadder.masterKey(sub: video.sub, id: video.id)) : .null,
            "error": video.status == .failed ? .string(video.error ?? "The conversion failed.") : .null,
            "progress": video.status == .converting ? .number(video.progress ?? 0) : .null,
            // Set when only the first `durationSeconds` of a longer source were converted.
            "cutFromSeconds": ready ? JSONValue(video.cutFromSeconds) : .null,
        ]
    }

    /// `2026-01-02T03:04:05.678Z`, in UTC.
    static func iso8601(_ seconds: Double) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = max(0, min(999, Int(((seconds - Double(time)) * 1000).rounded())))
        func padded(_ value: Int, _ width: Int = 2) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(Int(parts.tm_year) + 1900, 4))-\(padded(Int(parts.tm_mon) + 1))-\(padded(Int(parts.tm_mday)))T"
            + "\(padded(Int(parts.tm_hour))):\(padded(Int(parts.tm_min))):\(padded(Int(parts.tm_sec))).\(padded(millis, 3))Z"
    }

    private func listVideos(sub: String) async throws -> VideoResponse {
        .json(200, ["videos": .array(try await library.videos(sub: sub).map(json))])
    }

    private func getVideo(_ id: String, sub: String) async throws -> VideoResponse {
        guard let video = try await library.video(sub: sub, id: id) else { throw APIFailure.notFound }
        return .json(200, json(video))
    }

    private func deleteVideo(_ id: String, sub: String) async throws -> VideoResponse {
        guard let video = try await library.remove(sub: sub, id: id) else { throw APIFailure.notFound }
        if let uploadId = video.uploadId {
            try? await storage.abortMultipartUpload(key: video.uploadKey, uploadId: uploadId)
        }
        try await storage.delete(bucket: storage.tempBucket, key: video.uploadKey)
        try await storage.deleteConverted(sub: sub, id: id)
        return .empty(204)
    }
}
