import Foundation
import VideoService
import NIOCore
import SigV4
#if canImport(Glibc)
import Glibc
#endif

/// What the store knows about one object.
public struct StoredObject: Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var file: String
    public var size: Int64
    public var etag: String
    public var contentType: String
    public var metadata: [String: String]
    public var lastModified: Date
    /// The object's SHA-256 checksum when it was uploaded with one: a plain base64 digest, or for a
    /// multipart object S3's composite `<base64>-<parts>`.
    public var checksumSHA256: String? = nil
    /// `FULL_OBJECT` or `COMPOSITE`, as S3 names the two kinds; nil without a checksum.
    public var checksumType: String? = nil
}

public struct StoredPart: Sendable, Equatable {
    public var partNumber: Int
    public var size: Int64
    public var etag: String
    public var lastModified: Date
    public var checksumSHA256: ChecksumSHA256? = nil
}

/// Why a store operation failed, in S3's terms.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var status: Int
    public var description: String { "\(code): \(message)" }

    static func noSuchKey() -> StoreError { .init(code: "NoSuchKey", message: "The specified key does not exist.", status: 404) }
    static func noSuchUpload() -> StoreError {
        .init(code: "NoSuchUpload", message: "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", status: 404)
    }
    static func invalidPart(_ detail: String) -> StoreError {
        .init(code: "InvalidPart", message: "One or more of the specified parts could not be found or did not match: \(detail)", status: 400)
    }
    static func badDigest() -> StoreError {
        .init(code: "BadDigest", message: "The SHA256 you specified did not match the calculated checksum.", status: 400)
    }
    /// S3's answer to a part whose checksum is not of the upload's algorithm (`actual` is "null" for none).
    static func checksumTypeMismatch(expected: ChecksumAlgorithm, actual: String) -> StoreError {
        .init(code: "InvalidRequest",
              message: "Checksum Type mismatch occurred, expected checksum Type: \(expected.rawValue.lowercased()), actual checksum Type: \(actual). "
                  + "The upload was created with the \(expected.rawValue) checksum algorithm, so each part must carry x-amz-checksum-\(expected.rawValue.lowercased()).",
              status: 400)
    }
}

/// Objects on disk, described in SQLite. A body streams to a temporary file, is flushed, and is
/// renamed to a fresh file name; only then does one transaction point the key at it. A killed
/// upload therefore leaves no object (at worst an orphan temporary file, swept on start).
public final class ObjectStore: Sendable {
    public static let minimumPartSize: Int64 = 5 * 1024 * 1024
    public static let maximumKeyBytes = 1024

    let database: CloudDatabase
    let root: URL
    let buckets: Set<String>
    /// Called inside the transaction that creates an object, so an event and the object are one commit.
    let onCreated: @Sendable (Database, StoredObject) throws -> Void

    init(database: CloudDatabase, root: URL, buckets: Set<String>,
         onCreated: @escaping @Sendable (Database, StoredObject) throws -> Void = { _, _ in }) throws {
        self.database = database
        self.root = root
        self.buckets = buckets
        self.onCreated = onCreated
        let manager = FileManager.default
        for folder in ["objects", "parts", "tmp"] {
            try manager.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        // Temporary files belong to uploads that were cut off; nothing refers to them.
        for name in (try? manager.contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path)) ?? [] {
            try? manager.removeItem(at: root.appendingPathComponent("tmp").appendingPathComponent(name))
        }
    }

    func path(_ file: String) -> String { root.appendingPathComponent(file).path }

    // MARK: Objects

    public func object(bucket: String, key: String) async throws -> StoredObject? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM objects WHERE bucket = ? AND key = ?", arguments: [bucket, key])
                .map(Self.object)
        }
    }

    static func object(_ row: Row) -> StoredObject {
        let metadataText: String = row["metadata"]
        let metadata = (try? JSONDecoder().decode([String: String].self, from: Data(metadataText.utf8))) ?? [:]
        return StoredObject(bucket: row["bucket"], key: row["key"], file: row["file"], size: row["size"],
                            etag: row["etag"], contentType: row["contentType"], metadata: metadata,
                            lastModified: Date(timeIntervalSince1970: row["lastModified"]),
                            checksumSHA256: row["checksumSHA256"], checksumType: row["checksumType"])
    }

    /// Streams `body` into the store as `bucket/key`. `expectedLength` (Content-Length),
    /// `expectedSHA256` (a signed `x-amz-content-sha256`, hex) and `checksumSHA256`
    /// (`x-amz-checksum-sha256`, kept with the object) are checked before the object appears.
    public func put<Body: AsyncSequence>(bucket: String, key: String, contentType: String, metadata: [String: String],
                                         body: Body, expectedLength: Int64?, expectedSHA256: String?,
                                         expectedMD5: String? = nil, checksumSHA256: ChecksumSHA256? = nil) async throws -> StoredObject
    where Body.Element == ByteBuffer {
        let written = try await receive(body, expectedLength: expectedLength, expectedSHA256: expectedSHA256,
                                        expectedMD5: expectedMD5, checksumSHA256: checksumSHA256, folder: "objects")
        let object = StoredObject(bucket: bucket, key: key, file: written.file, size: written.size,
                                  etag: written.md5, contentType: contentType, metadata: metadata, lastModified: Date(),
                                  checksumSHA256: checksumSHA256?.description, checksumType: checksumSHA256 == nil ? nil : "FULL_OBJECT")
        try await commit(object)
        return object
    }

    func commit(_ object: StoredObject) async throws {
        let metadata = String(decoding: try JSONEncoder().encode(object.metadata), as: UTF8.self)
        let replaced: String?
        do {
            replaced = try await database.write { [onCreated] db -> String? in
                let old = try String.fetchOne(db, sql: "SELECT file FROM objects WHERE bucket = ? AND key = ?",
                                              arguments: [object.bucket, object.key])
                try db.execute(sql: """
                    INSERT OR REPLACE INTO objects (bucket, key, file, size, etag, contentType, metadata, lastModified,
                                                    checksumSHA256, checksumType)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [object.bucket, object.key, object.file, object.size, object.etag,
                                     object.contentType, metadata, object.lastModified.timeIntervalSince1970,
                                     object.checksumSHA256, object.checksumType])
                try onCreated(db, object)
                return old
            }
        } catch {
            unlink(path(object.file))
            throw error
        }
        if let replaced { unlink(path(replaced)) }
    }

    /// Stores a file that is already on disk (the conversion's output), by copying it in atomically.
    /// Reads it 1 MiB at a time as the store writes (never the whole file in memory); a read error
    /// fails the put rather than storing a short object.
    public func putFile(bucket: String, key: String, contentType: String, from source: URL) async throws -> StoredObject {
        let handle = try FileHandle(forReadingFrom: source)
        defer { try? handle.close() }
        let size = (try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? NSNumber)?.int64Value
        let chunks = AsyncThrowingStream<ByteBuffer, Error>(unfolding: {
            guard let data = try handle.read(upToCount: 1 << 20), !data.isEmpty else { return nil }
            return ByteBuffer(bytes: data)
        })
        return try await put(bucket: bucket, key: key, contentType: contentType, metadata: [:], body: chunks,
                             expectedLength: size, expectedSHA256: nil)
    }

    @discardableResult
    public func delete(bucket: String, key: String) async throws -> Bool {
        let file = try await database.write { db -> String? in
            let file = try String.fetchOne(db, sql: "SELECT file FROM objects WHERE bucket = ? AND key = ?", arguments: [bucket, key])
            try db.execute(sql: "DELETE FROM objects WHERE bucket = ? AND key = ?", arguments: [bucket, key])
            return file
        }
        if let file { unlink(path(file)) }
        return file != nil
    }

    /// Deletes every object under `prefix`, a page of the listing at a time.
    public func deleteAll(bucket: String, prefix: String) async throws {
        while true {
            let page = try await list(bucket: bucket, prefix: prefix, delimiter: nil, after: nil, maxKeys: 1000)
            for object in page.objects { try await delete(bucket: bucket, key: object.key) }
            if !page.truncated || page.objects.isEmpty { return }
        }
    }

    public struct Listing: Sendable {
        public var objects: [StoredObject]
        public var commonPrefixes: [String]
        public var truncated: Bool
        /// The last key or prefix returned, where the next page starts after.
        public var last: String?
    }

    public func list(bucket: String, prefix: String, delimiter: String?, after: String?, maxKeys: Int) async throws -> Listing {
        try await database.read { db in
            var objects: [StoredObject] = []
            var prefixes: [String] = []
            var cursor = after ?? ""
            var last: String?
            var truncated = false
            let limit = max(0, maxKeys)
            // SQLite's substr counts code points, as Swift's unicodeScalars do (not characters).
            let prefixLength = prefix.unicodeScalars.count
            scan: while true {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT * FROM objects WHERE bucket = ? AND key > ? AND key >= ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT 1000
                    """, arguments: [bucket, cursor, prefix, prefixLength, prefix])
                if rows.isEmpty { break }
                for row in rows {
                    let object = Self.object(row)
                    cursor = object.key
                    var entry: String? = nil
                    if let delimiter, !delimiter.isEmpty {
                        let rest = String(String.UnicodeScalarView(object.key.unicodeScalars.dropFirst(prefixLength)))
                        if let range = rest.range(of: delimiter) {
                            entry = prefix + rest[..<range.upperBound]
                        }
                    }
                    // The page before ended on this common prefix (the marker or token names it).
                    if let entry, entry == after {
                        cursor = entry + "\u{10FFFF}"
                        continue scan
                    }
                    if objects.count + prefixes.count == limit {
                        truncated = true
                        break scan
                    }
                    if let entry {
                        prefixes.append(entry)
                        last = entry
                        // Skip every key under this common prefix.
                        cursor = entry + "\u{10FFFF}"
                    } else {
                        objects.append(object)
                        last = object.key
                    }
                    if entry != nil { continue scan }
                }
            }
            return Listing(objects: objects, commonPrefixes: prefixes, truncated: truncated, last: last)
        }
    }


    // MARK: Streaming to disk

    struct Written {
        var file: String
        var size: Int64
        var md5: String
    }

    /// Writes the body to a temporary file, hashing as it goes; checks length, MD5 and SHA-256 (the
    /// signed payload hash and the checksum); flushes it to disk and renames it into `folder`. The
    /// temporary file is removed on any failure.
    func receive<Body: AsyncSequence>(_ body: Body, expectedLength: Int64?, expectedSHA256: String?,
                                              expectedMD5: String?, checksumSHA256: ChecksumSHA256?, folder: String) async throws -> Written
    where Body.Element == ByteBuffer {
        var size: Int64 = 0
        var md5Digest: [UInt8] = []
        let final = try await writeAtomically(into: folder) { output in
            // Hashing runs on its own thread, overlapping the copy into the page cache.
            let digest = BackgroundDigest(sha256: expectedSHA256 != nil || checksumSHA256 != nil)
            for try await buffer in body {
                digest.update(buffer)
                try buffer.withUnsafeReadableBytes { try output.write($0) }
                size += Int64(buffer.readableBytes)
                if let expectedLength, size > expectedLength {
                    throw StoreError(code: "IncompleteBody", message: "The request body is longer than its Content-Length.", status: 400)
                }
            }
            if let expectedLength, size != expectedLength {
                throw StoreError(code: "IncompleteBody", message: "You did not provide the number of bytes specified by the Content-Length HTTP header.", status: 400)
            }
            let digests = digest.finish()
            md5Digest = digests.md5
            if let expectedMD5, Data(base64Encoded: expectedMD5).map(Array.init) != md5Digest {
                throw StoreError(code: "BadDigest", message: "The Content-MD5 you specified did not match what we received.", status: 400)
            }
            if let expectedSHA256, digests.sha256.map(hexEncoded) != expectedSHA256.lowercased() {
                throw StoreError(code: "XAmzContentSHA256Mismatch", message: "The provided 'x-amz-content-sha256' header does not match what was computed.", status: 400)
            }
            if let checksumSHA256, digests.sha256 != checksumSHA256.digest {
                throw StoreError.badDigest()
            }
        }
        return Written(file: final, size: size, md5: hexEncoded(md5Digest))
    }

    /// Makes a new file in `folder` atomically: `fill` writes a temporary file, which is flushed to
    /// disk and renamed into place. On any failure the temporary file is removed. Returns its store path.
    func writeAtomically(into folder: String, _ fill: (FileWriter) async throws -> Void) async throws -> String {
        let temporary = "tmp/" + Self.randomToken(bytes: 16)
        let final = folder + "/" + Self.randomToken(bytes: 16)
        do {
            let output = try FileWriter(path: path(temporary))
            defer { output.close() }
            try await fill(output)
            try output.sync()
            output.close()
            guard rename(path(temporary), path(final)) == 0 else { throw POSIXError(.EIO) }
        } catch {
            unlink(path(temporary))
            throw error
        }
        return final
    }

    static func randomToken(bytes count: Int) -> String {
        hexEncoded(randomBytes(count))
    }
}

/// A file opened for writing with plain POSIX calls (no buffering beyond the kernel's).
final class FileWriter {
    private var descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            offset += written
        }
    }

    func sync() throws {
        guard fsync(descriptor) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor); descriptor = -1 }
    }

    deinit { close() }
}
