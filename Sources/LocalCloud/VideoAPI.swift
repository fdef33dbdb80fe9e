import Foundation
import GRDB
import HTTPServing
import Hummingbird
import NIOCore
import SigV4

/// The video API of `Resources/openapi.yaml`: presigned uploads into the temporary bucket and the
/// caller's library. Every call needs a valid access token and reaches only keys under its `sub`.
struct VideoAPI: Sendable {
    static let tempBucket = "video-temp-conversion"
    static let mainBucket = "video-main"
    static let singlePutLimit: Int64 = 5 * 1024 * 1024 * 1024
    static let multipartLimit: Int64 = 5 * 1024 * 1024 * 1024 * 1024
    static let uploadURLLifetime = 900
    static let partURLLifetime = 3600
    static let playbackLifetime = 3600

    let cognito: CognitoService
    let store: ObjectStore
    let database: CloudDatabase
    let signer: Signer
    /// `http://127.0.0.1:PORT`, where presigned URLs point.
    let s3Origin: String
    let document: [UInt8]?

    struct Failure: Error {
        var status: Int
        var code: String
        var message: String
        var headers: [(String, String)] = []

        static func badRequest(_ message: String) -> Failure { .init(status: 400, code: "BadRequest", message: message) }
        static let notFound = Failure(status: 404, code: "NotFound", message: "This video does not exist or has been deleted.")
        static let uploadNotFound = Failure(status: 404, code: "NotFound", message: "This upload does not exist or has already finished.")
        static let forbidden = Failure(status: 403, code: "Forbidden", message: "This upload does not belong to your account.")
    }

    func handle(_ request: Request, path: String, signable: SignableRequest) async -> Response {
        do {
            return try await route(request, path: path, signable: signable)
        } catch let failure as Failure {
            return Reply.json(failure.status, ["error": ["code": failure.code, "message": failure.message]], headers: failure.headers)
        } catch {
            return Reply.json(500, ["error": ["code": "InternalError", "message": "Something went wrong on our side. Please try again."]])
        }
    }

    /// The fixed paths and their methods; `/videos/<id>` takes GET and DELETE.
    private static let routes: [String: Set<String>] = [
        "/videos/upload-url": ["POST"], "/videos/multipart": ["POST", "DELETE"],
        "/videos/multipart/parts": ["POST", "GET"], "/videos/multipart/complete": ["POST"], "/videos": ["GET"],
    ]

    private func route(_ request: Request, path: String, signable: SignableRequest) async throws -> Response {
        let method = signable.method
        if path == "/openapi.yaml", let document {
            return Reply.bytes(200, document, type: "application/yaml; charset=utf-8")
        }
        var videoId: String?
        if let methods = Self.routes[path] {
            guard methods.contains(method) else { throw methodNotAllowed(methods) }
        } else if path.hasPrefix("/videos/"), !path.dropFirst(8).contains("/") {
            guard ["GET", "DELETE"].contains(method) else { throw methodNotAllowed(["GET", "DELETE"]) }
            videoId = String(path.dropFirst(8))
        } else {
            throw Failure(status: 404, code: "NotFound", message: "There is no such API endpoint.")
        }
        let sub = try await caller(signable)
        if let videoId {
            guard Self.isVideoId(videoId) else { throw Failure.badRequest("A video id is 26 characters of lowercase base32.") }
            return method == "GET" ? try await getVideo(videoId, sub: sub) : try await deleteVideo(videoId, sub: sub)
        }
        switch (method, path) {
        case ("GET", "/videos"): return try await listVideos(sub: sub)
        case ("POST", "/videos/upload-url"): return try await createUploadURL(try await body(request), sub: sub)
        case ("POST", "/videos/multipart"): return try await createMultipart(try await body(request), sub: sub)
        case ("DELETE", "/videos/multipart"): return try await abortMultipart(signable, sub: sub)
        case ("POST", "/videos/multipart/parts"): return try await presignParts(try await body(request), sub: sub)
        case ("GET", "/videos/multipart/parts"): return try await listParts(signable, sub: sub)
        case ("POST", "/videos/multipart/complete"): return try await completeMultipart(try await body(request), sub: sub)
        default: throw Failure(status: 404, code: "NotFound", message: "There is no such API endpoint.")
        }
    }

    private func methodNotAllowed(_ methods: Set<String>) -> Failure {
        Failure(status: 405, code: "BadRequest", message: "This endpoint accepts \(methods.sorted().joined(separator: " and ")) only.",
                headers: [("Allow", methods.sorted().joined(separator: ", "))])
    }

    // MARK: Authentication

    private func caller(_ signable: SignableRequest) async throws -> String {
        let challenge = "Bearer realm=\"sstech-video\""
        guard let header = signable.header("authorization") else {
            throw Failure(status: 401, code: "Unauthorized", message: "Please sign in.", headers: [("WWW-Authenticate", challenge)])
        }
        guard header.lowercased().hasPrefix("bearer "), case let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces), !token.isEmpty else {
            throw Failure(status: 401, code: "Unauthorized", message: "The Authorization header must be “Bearer <access token>”.",
                          headers: [("WWW-Authenticate", challenge + ", error=\"invalid_request\"")])
        }
        do {
            return try await cognito.authenticated(token).sub
        } catch let error as CognitoError {
            let expired = error.message.contains("expired")
            let description = expired ? "The access token expired" : "The access token is not valid"
            throw Failure(status: 401, code: "Unauthorized",
                          message: expired ? "Your session has expired. Please sign in again." : "Your session is not valid. Please sign in again.",
                          headers: [("WWW-Authenticate", challenge + ", error=\"invalid_token\", error_description=\"\(description)\"")])
        }
    }

    // MARK: Request bodies

    private func body(_ request: Request) async throws -> [String: JSONValue] {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 1 << 20)
        } catch {
            throw Failure(status: 413, code: "PayloadTooLarge", message: "The request body is larger than 1 MiB.")
        }
        guard case .object(let object)? = JSONValue.parse(buffer.readableBytesView) else {
            throw Failure.badRequest("The request body must be a JSON object.")
        }
        return object
    }

    private func only(_ object: [String: JSONValue], _ allowed: Set<String>) throws {
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw Failure.badRequest("Unknown property “\(unknown)”.")
        }
        if let missing = allowed.sorted().first(where: { object[$0] == nil }) {
            throw Failure.badRequest("The property “\(missing)” is required.")
        }
    }

    private func string(_ object: [String: JSONValue], _ name: String) throws -> String {
        guard case .string(let value)? = object[name] else {
            throw Failure.badRequest("“\(name)” must be a string, not \(object[name]?.typeName ?? "missing").")
        }
        return value
    }

    private func integer(_ object: [String: JSONValue], _ name: String) throws -> Int64 {
        switch object[name] {
        case .integer(let value)?: return value
        case .number(let value)? where value.rounded() == value && abs(value) < 9e15: return Int64(value)
        default: throw Failure.badRequest("“\(name)” must be an integer.")
        }
    }

    /// The object's `checksumSHA256`: the base64 of `what`'s 32-byte SHA-256 digest.
    private func checksum(_ object: [String: JSONValue], of what: String) throws -> ChecksumSHA256 {
        guard case .string(let text)? = object["checksumSHA256"], let value = ChecksumSHA256(base64: text) else {
            throw Failure.badRequest("“checksumSHA256” must be the base64 of \(what)'s 32-byte SHA-256 digest (44 characters ending in “=”).")
        }
        return value
    }

    struct NewUpload {
        var fileName: String
        var contentType: String
        var size: Int64
    }

    /// The properties every new upload has, besides `extra` (which the caller reads).
    private func newUpload(_ object: [String: JSONValue], extra: Set<String>, limit: Int64, tooLarge: String) throws -> NewUpload {
        try only(object, extra.union(["fileName", "contentType", "size"]))
        let fileName = try string(object, "fileName")
        if let problem = Self.fileNameProblem(fileName) { throw Failure.badRequest(problem) }
        let contentType = try string(object, "contentType")
        guard Self.isVideoType(contentType) else {
            throw Failure.badRequest("“contentType” must be a video type such as video/mp4.")
        }
        let size = try integer(object, "size")
        guard size >= 1 else { throw Failure.badRequest("“size” must be at least 1 byte.") }
        guard size <= limit else { throw Failure(status: 413, code: "PayloadTooLarge", message: tooLarge) }
        return NewUpload(fileName: fileName, contentType: contentType, size: size)
    }

    /// Why a file name is refused, or nil: 1–255 code points, no `/`, `\` or control characters, not `.` or `..`.
    static func fileNameProblem(_ name: String) -> String? {
        let scalars = name.unicodeScalars
        if scalars.isEmpty { return "The file name must not be empty." }
        if scalars.count > 255 { return "The file name must be at most 255 characters." }
        if name == "." || name == ".." { return "The file name must not be “.” or “..”." }
        if scalars.contains(where: { $0 == "/" || $0 == "\\" || $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            return "The file name must not contain “/”, “\\” or control characters."
        }
        return nil
    }

    static func isVideoType(_ type: String) -> Bool {
        guard type.utf8.count <= 100, type.hasPrefix("video/"), type.count > 6 else { return false }
        return type.dropFirst(6).unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "+" || $0 == "-"
        }
    }

    static func isVideoId(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard bytes.count == 26 else { return false }
        let alphabet = Set("abcdefghijklmnopqrstuvwxyz234567".utf8)
        return bytes.allSatisfy { alphabet.contains($0) } && Set("aeimquy4".utf8).contains(bytes[25])
    }

    static func isSub(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) { if byte != UInt8(ascii: "-") { return false } }
            else if !((48...57).contains(byte) || (97...102).contains(byte)) { return false }
        }
        return true
    }

    static func newVideoId() -> String {
        Base32.encode(randomBytes(16)).lowercased()
    }

    static func title(of fileName: String) -> String {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return fileName }
        return String(fileName[..<dot])
    }

    /// The parts of `uploads/<sub>/<videoId>/<fileName>`; 400 for another shape, 403 for another user's.
    private func ownedKey(_ key: String, sub: String) throws -> (videoId: String, fileName: String) {
        let pieces = key.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard key.utf8.count <= ObjectStore.maximumKeyBytes, pieces.count == 4, pieces[0] == "uploads", Self.isSub(pieces[1]),
              Self.isVideoId(String(pieces[2])), Self.fileNameProblem(String(pieces[3])) == nil else {
            throw Failure.badRequest("“key” must be a key returned by this API: uploads/<sub>/<videoId>/<fileName>.")
        }
        guard pieces[1] == sub else { throw Failure.forbidden }
        return (String(pieces[2]), String(pieces[3]))
    }

    // MARK: Presigning

    private func presign(method: String, bucket: String, key: String, query: [SignableRequest.QueryItem] = [],
                         headers: [(String, String)] = [], expiresIn: Int) -> String {
        let host = s3Origin.replacingOccurrences(of: "http://", with: "")
        let request = SignableRequest(method: method, path: "/\(bucket)/\(key)", query: query,
                                      headers: [.init("host", host)] + headers.map { .init($0.0, $0.1) })
        let signed = signer.presign(request, expiresIn: expiresIn, at: Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970)),
                                    signedHeaders: Set(headers.map { $0.0.lowercased() }))
        return s3Origin + signed.request.target
    }

    // MARK: Uploads

    private func createUploadURL(_ object: [String: JSONValue], sub: String) async throws -> Response {
        let upload = try newUpload(object, extra: ["checksumSHA256"], limit: Self.singlePutLimit,
                                   tooLarge: "Files larger than 5 GiB must be sent as a multipart upload.")
        let checksum = try checksum(object, of: "the file")
        let (id, key) = try await createVideo(upload, sub: sub, uploadId: nil, partSize: nil)
        // S3 hashes the body and refuses one whose SHA-256 is not the signed checksum.
        let url = presign(method: "PUT", bucket: Self.tempBucket, key: key,
                          headers: [("content-type", upload.contentType), ("content-length", String(upload.size)),
                                    ("x-amz-checksum-sha256", checksum.description)],
                          expiresIn: Self.uploadURLLifetime)
        return Reply.json(200, ["uploadUrl": url, "key": key, "expiresIn": Self.uploadURLLifetime, "videoId": id])
    }

    private func createVideo(_ upload: NewUpload, sub: String, uploadId: String?, partSize: Int64?,
                             id: String = VideoAPI.newVideoId()) async throws -> (String, String) {
        let key = "uploads/\(sub)/\(id)/\(upload.fileName)"
        guard key.utf8.count <= ObjectStore.maximumKeyBytes else {
            throw Failure.badRequest("The file name is too long for an S3 key (at most 1,024 bytes in all).")
        }
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO videos (id, sub, title, fileName, contentType, sizeBytes, uploadKey, uploadId, partSize, status, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'uploading', ?)
                """, arguments: [id, sub, Self.title(of: upload.fileName), upload.fileName, upload.contentType, upload.size,
                                 key, uploadId, partSize, Date().timeIntervalSince1970])
        }
        return (id, key)
    }

    static func partSize(for size: Int64) -> Int64 {
        let mebibyte: Int64 = 1024 * 1024
        let needed = (size + 9_999) / 10_000
        return max(16 * mebibyte, (needed + mebibyte - 1) / mebibyte * mebibyte)
    }

    private func createMultipart(_ object: [String: JSONValue], sub: String) async throws -> Response {
        let upload = try newUpload(object, extra: ["checksumAlgorithm"], limit: Self.multipartLimit,
                                   tooLarge: "Files larger than 5 TiB cannot be uploaded.")
        guard case .string(let name)? = object["checksumAlgorithm"], let algorithm = ChecksumAlgorithm(rawValue: name) else {
            throw Failure.badRequest("“checksumAlgorithm” must be “SHA256”: every part is sent with its SHA-256.")
        }
        let partSize = Self.partSize(for: upload.size)
        let id = Self.newVideoId()
        let key = "uploads/\(sub)/\(id)/\(upload.fileName)"
        guard key.utf8.count <= ObjectStore.maximumKeyBytes else {
            throw Failure.badRequest("The file name is too long for an S3 key (at most 1,024 bytes in all).")
        }
        let uploadId = try await store.createUpload(bucket: Self.tempBucket, key: key, contentType: upload.contentType, metadata: [:],
                                                    checksumAlgorithm: algorithm)
        _ = try await createVideo(upload, sub: sub, uploadId: uploadId, partSize: partSize, id: id)
        return Reply.json(200, ["key": key, "uploadId": uploadId, "partSize": partSize, "videoId": id,
                                "checksumAlgorithm": algorithm.rawValue])
    }

    struct Upload {
        var videoId: String
        var size: Int64
        var partSize: Int64
        var status: String
        var partCount: Int { Int((size + partSize - 1) / partSize) }
        func expectedSize(_ part: Int) -> Int64 { part < partCount ? partSize : size - partSize * Int64(partCount - 1) }
    }

    /// The caller's multipart upload named by `key` and `uploadId`.
    private func multipartUpload(key: String, uploadId: String, sub: String) async throws -> Upload {
        let owned = try ownedKey(key, sub: sub)
        guard !uploadId.isEmpty, uploadId.utf8.count <= 1024 else { throw Failure.badRequest("“uploadId” is not a valid upload id.") }
        let row = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM videos WHERE id = ? AND sub = ? AND uploadKey = ? AND uploadId = ?",
                             arguments: [owned.videoId, sub, key, uploadId])
        }
        guard let row, let partSize = row["partSize"] as Int64? else { throw Failure.uploadNotFound }
        return Upload(videoId: owned.videoId, size: row["sizeBytes"], partSize: partSize, status: row["status"])
    }

    private func keyAndUploadId(_ object: [String: JSONValue]) throws -> (String, String) {
        (try string(object, "key"), try string(object, "uploadId"))
    }

    /// `value` as a part number from 1 to 10000, or nil.
    private func partNumber(_ value: JSONValue?) -> Int? {
        guard case .integer(let number)? = value, (1...10_000).contains(number) else { return nil }
        return Int(number)
    }

    private func presignParts(_ object: [String: JSONValue], sub: String) async throws -> Response {
        try only(object, ["key", "uploadId", "parts"])
        let (key, uploadId) = try keyAndUploadId(object)
        guard case .array(let values)? = object["parts"], (1...100).contains(values.count) else {
            throw Failure.badRequest("“parts” must be an array of 1 to 100 parts.")
        }
        var parts: [(number: Int, checksum: ChecksumSHA256)] = []
        for value in values {
            guard case .object(let part) = value, Set(part.keys) == ["partNumber", "checksumSHA256"],
                  let number = partNumber(part["partNumber"]) else {
                throw Failure.badRequest("Each part must be {partNumber, checksumSHA256} with a part number from 1 to 10000.")
            }
            let checksum = try checksum(part, of: "part \(number)")
            guard !parts.contains(where: { $0.number == number }) else { throw Failure.badRequest("Part numbers must not repeat.") }
            parts.append((number, checksum))
        }
        let upload = try await multipartUpload(key: key, uploadId: uploadId, sub: sub)
        guard upload.status == "uploading" else { throw Failure(status: 409, code: "Conflict", message: "This upload has already been completed.") }
        if let beyond = parts.first(where: { $0.number > upload.partCount }) {
            throw Failure.badRequest("Part \(beyond.number) is beyond the last part (\(upload.partCount)) of this upload.")
        }
        // Each URL takes one body only: the part's length and SHA-256 are signed.
        let urls = parts.map { part -> [String: Any] in
            let url = presign(method: "PUT", bucket: Self.tempBucket, key: key,
                              query: [.init("partNumber", String(part.number)), .init("uploadId", uploadId)],
                              headers: [("content-length", String(upload.expectedSize(part.number))),
                                        ("x-amz-checksum-sha256", part.checksum.description)],
                              expiresIn: Self.partURLLifetime)
            return ["partNumber": part.number, "url": url]
        }
        return Reply.json(200, ["urls": urls, "expiresIn": Self.partURLLifetime])
    }

    private func queryKeyAndUploadId(_ signable: SignableRequest) throws -> (String, String) {
        guard let key = signable.queryValue("key"), let uploadId = signable.queryValue("uploadId") else {
            throw Failure.badRequest("The query needs “key” and “uploadId”.")
        }
        return (key, uploadId)
    }

    private func listParts(_ signable: SignableRequest, sub: String) async throws -> Response {
        let (key, uploadId) = try queryKeyAndUploadId(signable)
        _ = try await multipartUpload(key: key, uploadId: uploadId, sub: sub)
        let parts: [(StoredPart, file: String)]
        do {
            parts = try await store.parts(uploadId: uploadId)
        } catch {
            throw Failure.uploadNotFound
        }
        return Reply.json(200, ["parts": parts.map {
            ["partNumber": $0.0.partNumber, "etag": "\"\($0.0.etag)\"", "size": $0.0.size,
             "checksumSHA256": $0.0.checksumSHA256.map { $0.description as Any } ?? NSNull()]
        }])
    }

    private func abortMultipart(_ signable: SignableRequest, sub: String) async throws -> Response {
        let (key, uploadId) = try queryKeyAndUploadId(signable)
        let upload = try await multipartUpload(key: key, uploadId: uploadId, sub: sub)
        guard upload.status == "uploading" else { throw Failure(status: 409, code: "Conflict", message: "This upload has already been completed.") }
        try? await store.abort(uploadId: uploadId, bucket: Self.tempBucket, key: key)
        try await database.write { db in
            try db.execute(sql: "DELETE FROM videos WHERE id = ? AND sub = ?", arguments: [upload.videoId, sub])
        }
        return Reply.empty(204)
    }

    private func completeMultipart(_ object: [String: JSONValue], sub: String) async throws -> Response {
        try only(object, ["key", "uploadId", "parts"])
        let (key, uploadId) = try keyAndUploadId(object)
        guard case .array(let values)? = object["parts"], (1...10_000).contains(values.count) else {
            throw Failure.badRequest("“parts” must list every part, 1 to 10000 of them.")
        }
        var parts: [(number: Int, etag: String, checksum: ChecksumSHA256)] = []
        for value in values {
            guard case .object(let part) = value, Set(part.keys) == ["partNumber", "etag", "checksumSHA256"],
                  let number = partNumber(part["partNumber"]),
                  case .string(let etag)? = part["etag"], Self.isETag(etag) else {
                throw Failure.badRequest("Each part must be {partNumber, etag, checksumSHA256} with the ETag S3 returned for it.")
            }
            parts.append((number, etag, try checksum(part, of: "part \(number)")))
        }
        let upload = try await multipartUpload(key: key, uploadId: uploadId, sub: sub)
        guard upload.status == "uploading" else { throw Failure(status: 409, code: "Conflict", message: "This upload has already been completed.") }
        guard parts.map(\.number) == Array(1...upload.partCount) else {
            throw Failure.badRequest("“parts” must list parts 1 to \(upload.partCount) once each, in order.")
        }
        let stored = Dictionary(try await store.parts(uploadId: uploadId).map { ($0.0.partNumber, $0.0) }, uniquingKeysWith: { a, _ in a })
        for part in parts {
            guard let held = stored[part.number] else { throw Failure.badRequest("Part \(part.number) has not been uploaded.") }
            guard held.etag == part.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) else {
                throw Failure.badRequest("The ETag of part \(part.number) does not match the uploaded part.")
            }
            guard held.checksumSHA256 == part.checksum else {
                throw Failure.badRequest("The checksum of part \(part.number) does not match the uploaded part.")
            }
            guard held.size == upload.expectedSize(part.number) else {
                throw Failure.badRequest("Part \(part.number) is \(held.size) bytes; it must be \(upload.expectedSize(part.number)).")
            }
        }
        let object: StoredObject
        do {
            object = try await store.complete(uploadId: uploadId, bucket: Self.tempBucket, key: key,
                                              parts: parts.map { .init(number: $0.number, etag: $0.etag, checksumSHA256: $0.checksum.description) })
        } catch let error as StoreError {
            throw Failure.badRequest(error.message)
        }
        return Reply.json(200, ["videoId": upload.videoId, "key": key, "checksumSHA256": object.checksumSHA256.map { $0 as Any } ?? NSNull()])
    }

    static func isETag(_ text: String) -> Bool {
        let bare = text.hasPrefix("\"") && text.hasSuffix("\"") && text.count == 34 ? String(text.dropFirst().dropLast()) : text
        return bare.utf8.count == 32 && bare.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    // MARK: Library

    static func mainKeys(sub: String, id: String) -> (video: String, thumbnail: String) {
        ("videos/\(sub)/\(id)/video.mp4", "videos/\(sub)/\(id)/thumbnail.jpg")
    }

    private func video(_ row: Row) -> [String: Any] {
        let id: String = row["id"]
        let sub: String = row["sub"]
        let status: String = row["status"]
        let keys = Self.mainKeys(sub: sub, id: id)
        let ready = status == "ready"
        return [
            "id": id, "title": row["title"] as String, "status": status, "sizeBytes": row["sizeBytes"] as Int64,
            "durationSeconds": (row["durationSeconds"] as Double?).map { $0 as Any } ?? NSNull(),
            "createdAt": HTTPDate.iso8601(Date(timeIntervalSince1970: row["createdAt"])),
            "playbackUrl": ready ? presign(method: "GET", bucket: Self.mainBucket, key: keys.video, expiresIn: Self.playbackLifetime) : NSNull(),
            "thumbnailUrl": ready ? presign(method: "GET", bucket: Self.mainBucket, key: keys.thumbnail, expiresIn: Self.playbackLifetime) : NSNull(),
            "error": status == "failed" ? (row["error"] as String? ?? "The conversion failed.") : NSNull(),
            "progress": status == "converting" ? (row["progress"] as Double? ?? 0) : NSNull(),
        ]
    }

    private func listVideos(sub: String) async throws -> Response {
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM videos WHERE sub = ? ORDER BY createdAt DESC, id", arguments: [sub])
        }
        return Reply.json(200, ["videos": rows.map(video)])
    }

    private func getVideo(_ id: String, sub: String) async throws -> Response {
        let row = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM videos WHERE id = ? AND sub = ?", arguments: [id, sub])
        }
        guard let row else { throw Failure.notFound }
        return Reply.json(200, video(row))
    }

    private func deleteVideo(_ id: String, sub: String) async throws -> Response {
        let row = try await database.write { db -> Row? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM videos WHERE id = ? AND sub = ?", arguments: [id, sub]) else { return nil }
            try db.execute(sql: "UPDATE jobs SET state = 'cancelled', updatedAt = ? WHERE videoId = ? AND state IN ('queued', 'running')",
                           arguments: [Date().timeIntervalSince1970, id])
            try db.execute(sql: "DELETE FROM videos WHERE id = ?", arguments: [id])
            return row
        }
        guard let row else { throw Failure.notFound }
        let key: String = row["uploadKey"]
        if let uploadId = row["uploadId"] as String? {
            try? await store.abort(uploadId: uploadId, bucket: Self.tempBucket, key: key)
        }
        try await store.delete(bucket: Self.tempBucket, key: key)
        let keys = Self.mainKeys(sub: sub, id: id)
        try await store.delete(bucket: Self.mainBucket, key: keys.video)
        try await store.delete(bucket: Self.mainBucket, key: keys.thumbnail)
        return Reply.empty(204)
    }
}
