import Crypto
import Foundation
import VideoService
import NIOCore
import SigV4
#if canImport(Glibc)
import Glibc
#endif

/// Multipart uploads: parts stream to files of their own like a put, and complete joins them into
/// one new object file committed like a put; S3's `-N` ETag and SHA-256 composite checksum.
extension ObjectStore {
    /// Starts a multipart upload. With a `checksumAlgorithm` every part must carry its checksum and
    /// the object gets S3's composite checksum of them.
    public func createUpload(bucket: String, key: String, contentType: String, metadata: [String: String],
                             checksumAlgorithm: ChecksumAlgorithm? = nil) async throws -> String {
        let uploadId = Self.randomToken(bytes: 32)
        let metadataText = String(decoding: try JSONEncoder().encode(metadata), as: UTF8.self)
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO uploads (uploadId, bucket, key, contentType, metadata, createdAt, checksumAlgorithm) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [uploadId, bucket, key, contentType, metadataText, Date().timeIntervalSince1970, checksumAlgorithm?.rawValue])
        }
        return uploadId
    }

    public struct Upload: Sendable {
        public var uploadId: String
        public var bucket: String
        public var key: String
        public var contentType: String
        public var metadata: [String: String]
        public var checksumAlgorithm: ChecksumAlgorithm?
    }

    public func upload(_ uploadId: String, bucket: String, key: String) async throws -> Upload {
        let row = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM uploads WHERE uploadId = ? AND bucket = ? AND key = ?",
                             arguments: [uploadId, bucket, key])
        }
        guard let row else { throw StoreError.noSuchUpload() }
        let metadataText: String = row["metadata"]
        return Upload(uploadId: uploadId, bucket: bucket, key: key, contentType: row["contentType"],
                      metadata: (try? JSONDecoder().decode([String: String].self, from: Data(metadataText.utf8))) ?? [:],
                      checksumAlgorithm: (row["checksumAlgorithm"] as String?).flatMap(ChecksumAlgorithm.init(rawValue:)))
    }

    /// Stores part `partNumber`, checked like a put. An upload created with SHA256 refuses a part
    /// without `checksumSHA256`; `otherChecksum` names the algorithm of another checksum the request
    /// carried instead (for the refusal's message).
    public func putPart<Body: AsyncSequence>(uploadId: String, bucket: String, key: String, partNumber: Int, body: Body,
                                             expectedLength: Int64?, expectedSHA256: String?,
                                             expectedMD5: String? = nil, checksumSHA256: ChecksumSHA256? = nil,
                                             otherChecksum: String? = nil) async throws -> StoredPart
    where Body.Element == ByteBuffer {
        let upload = try await upload(uploadId, bucket: bucket, key: key)
        if let algorithm = upload.checksumAlgorithm, checksumSHA256 == nil {
            throw StoreError.checksumTypeMismatch(expected: algorithm, actual: otherChecksum ?? "null")
        }
        let written = try await receive(body, expectedLength: expectedLength, expectedSHA256: expectedSHA256,
                                        expectedMD5: expectedMD5, checksumSHA256: checksumSHA256, folder: "parts")
        let part = StoredPart(partNumber: partNumber, size: written.size, etag: written.md5, lastModified: Date(),
                              checksumSHA256: checksumSHA256)
        let replaced: String?
        do {
            replaced = try await database.write { db -> String? in
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM uploads WHERE uploadId = ?", arguments: [uploadId]) != nil else {
                    throw StoreError.noSuchUpload()
                }
                let old = try String.fetchOne(db, sql: "SELECT file FROM parts WHERE uploadId = ? AND partNumber = ?",
                                              arguments: [uploadId, partNumber])
                try db.execute(sql: """
                    INSERT OR REPLACE INTO parts (uploadId, partNumber, file, size, etag, lastModified, checksumSHA256) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [uploadId, partNumber, written.file, written.size, written.md5, part.lastModified.timeIntervalSince1970,
                                     checksumSHA256?.description])
                return old
            }
        } catch {
            unlink(path(written.file))
            throw error
        }
        if let replaced { unlink(path(replaced)) }
        return part
    }

    public func parts(uploadId: String) async throws -> [(StoredPart, file: String)] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM parts WHERE uploadId = ? ORDER BY partNumber", arguments: [uploadId]).map { row in
                (StoredPart(partNumber: row["partNumber"], size: row["size"], etag: row["etag"],
                            lastModified: Date(timeIntervalSince1970: row["lastModified"]),
                            checksumSHA256: (row["checksumSHA256"] as String?).flatMap(ChecksumSHA256.init(base64:))),
                 file: row["file"] as String)
            }
        }
    }

    /// One part named in a complete request.
    public struct CompletedPart: Sendable {
        public var number: Int
        public var etag: String
        /// The part's `ChecksumSHA256` as the request gave it, if it gave one.
        public var checksumSHA256: String?

        public init(number: Int, etag: String, checksumSHA256: String? = nil) {
            self.number = number
            self.etag = etag
            self.checksumSHA256 = checksumSHA256
        }
    }

    /// Joins the listed parts into the object. Every part but the last must be at least 5 MiB. A
    /// part's checksum, when given, must be the stored one; an upload created with SHA256 needs
    /// every part's, and its object gets S3's composite checksum.
    public func complete(uploadId: String, bucket: String, key: String, parts requested: [CompletedPart]) async throws -> StoredObject {
        let upload = try await upload(uploadId, bucket: bucket, key: key)
        let stored = Dictionary(try await parts(uploadId: uploadId).map { ($0.0.partNumber, $0) }, uniquingKeysWith: { a, _ in a })
        guard !requested.isEmpty else {
            throw StoreError(code: "MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema.", status: 400)
        }
        var previous = 0
        var chosen: [(StoredPart, file: String)] = []
        for (index, wanted) in requested.enumerated() {
            guard wanted.number > previous else {
                throw StoreError(code: "InvalidPartOrder", message: "The list of parts was not in ascending order. The parts list must be specified in order by part number.", status: 400)
            }
            previous = wanted.number
            let etag = wanted.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            guard let part = stored[wanted.number], part.0.etag == etag else {
                throw StoreError.invalidPart("part \(wanted.number)")
            }
            if let checksum = wanted.checksumSHA256 {
                guard checksum == part.0.checksumSHA256?.description else {
                    throw StoreError.invalidPart("the checksum of part \(wanted.number)")
                }
            } else if let algorithm = upload.checksumAlgorithm {
                let name = algorithm.rawValue.lowercased()
                throw StoreError(code: "InvalidRequest", message: "The upload was created using a \(name) checksum. The complete request must include the checksum for each part. It was missing for part \(wanted.number) in the request.", status: 400)
            }
            if index < requested.count - 1, part.0.size < Self.minimumPartSize {
                throw StoreError(code: "EntityTooSmall", message: "Your proposed upload is smaller than the minimum allowed object size (part \(wanted.number) is \(part.0.size) bytes; every part but the last must be at least 5 MiB).", status: 400)
            }
            chosen.append(part)
        }
        // Concatenate into a new file, then commit it like a PUT.
        var digest = Insecure.MD5()
        var total: Int64 = 0
        let final = try await writeAtomically(into: "objects") { output in
            for (part, file) in chosen {
                let input = open(path(file), O_RDONLY | O_CLOEXEC)
                guard input >= 0 else { throw StoreError.invalidPart("part \(part.partNumber) is missing on disk") }
                defer { Glibc.close(input) }
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    let count = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
                    if count < 0 { throw POSIXError(.EIO) }
                    if count == 0 { break }
                    try buffer.withUnsafeBytes { try output.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    total += Int64(count)
                }
                digest.update(data: hexDecoded(part.etag))
            }
        }
        let etag = hexEncoded(digest.finalize()) + "-\(chosen.count)"
        // Every part of such an upload was stored with its checksum and matched the request's above.
        let checksum = upload.checksumAlgorithm == .sha256 ? ChecksumSHA256.composite(chosen.compactMap(\.0.checksumSHA256)) : nil
        let object = StoredObject(bucket: bucket, key: key, file: final, size: total, etag: etag,
                                  contentType: upload.contentType, metadata: upload.metadata, lastModified: Date(),
                                  checksumSHA256: checksum, checksumType: checksum == nil ? nil : "COMPOSITE")
        try await commit(object)
        try await discardUpload(uploadId)
        return object
    }

    public func abort(uploadId: String, bucket: String, key: String) async throws {
        _ = try await upload(uploadId, bucket: bucket, key: key)
        try await discardUpload(uploadId)
    }

    private func discardUpload(_ uploadId: String) async throws {
        let files = try await database.write { db -> [String] in
            let files = try String.fetchAll(db, sql: "SELECT file FROM parts WHERE uploadId = ?", arguments: [uploadId])
            try db.execute(sql: "DELETE FROM uploads WHERE uploadId = ?", arguments: [uploadId])
            return files
        }
        for file in files { unlink(path(file)) }
    }
}
