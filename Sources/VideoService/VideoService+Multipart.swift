#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The video API's multipart uploads in progress: their parts presigned, listed, aborted and
/// completed, each checked against the caller's `sub` and the upload's record.
extension VideoService {
    // MARK: Multipart uploads in progress

    struct Upload {
        var record: VideoRecord
        var partSize: Int64
        var partCount: Int { Int((record.sizeBytes + partSize - 1) / partSize) }
        func expectedSize(_ part: Int) -> Int64 { part < partCount ? partSize : record.sizeBytes - partSize * Int64(partCount - 1) }
    }

    /// The parts of `uploads/<sub>/<videoId>/<fileName>`; 400 for another shape, 403 for another user's.
    func ownedKey(_ key: String, sub: String) throws -> String {
        guard let parsed = VideoRules.parseUploadKey(key) else {
            throw APIFailure.badRequest("“key” must be a key returned by this API: uploads/<sub>/<videoId>/<fileName>.")
        }
        guard parsed.sub == sub else { throw APIFailure.forbidden }
        return parsed.videoId
    }

    /// The caller's multipart upload named by `key` and `uploadId`.
    func multipartUpload(key: String, uploadId: String, sub: String) async throws -> Upload {
        let videoId = try ownedKey(key, sub: sub)
        guard !uploadId.isEmpty, uploadId.utf8.count <= 1024 else { throw APIFailure.badRequest("“uploadId” is not a valid upload id.") }
        guard let record = try await library.video(sub: sub, id: videoId), record.uploadKey == key, record.uploadId == uploadId,
              let partSize = record.partSize else { throw APIFailure.uploadNotFound }
        return Upload(record: record, partSize: partSize)
    }

    func presignParts(_ body: BodyReader, sub: String) async throws -> VideoResponse {
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

    func queryKeyAndUploadId(_ request: VideoRequest) throws -> (String, String) {
        guard let key = request.queryValue("key"), let uploadId = request.queryValue("uploadId") else {
            throw APIFailure.badRequest("The query needs “key” and “uploadId”.")
        }
        return (key, uploadId)
    }

    func listParts(_ request: VideoRequest, sub: String) async throws -> VideoResponse {
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

    func abortMultipart(_ request: VideoRequest, sub: String) async throws -> VideoResponse {
        let (key, uploadId) = try queryKeyAndUploadId(request)
        let upload = try await multipartUpload(key: key, uploadId: uploadId, sub: sub)
        guard upload.record.status == .uploading else { throw APIFailure.completed }
        try? await storage.abortMultipartUpload(key: key, uploadId: uploadId)
        _ = try await library.remove(sub: sub, id: upload.record.id)
        return .empty(204)
    }

    func completeMultipart(_ body: BodyReader, sub: String) async throws -> VideoResponse {
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
}
