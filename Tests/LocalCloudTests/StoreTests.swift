import Crypto
import Foundation
import NIOCore
import SigV4
import HTTPServing
import Testing
import VideoService
@testable import LocalCloud

@Suite("Byte ranges")
struct ByteRangeTests {
    @Test("single, open-ended, suffix and clamped ranges", arguments: [
        ("bytes=2-5", ByteRange.range(2, 5)),
        ("bytes=10-", .range(10, 99)),
        ("bytes=-4", .range(96, 99)),
        ("bytes=-500", .range(0, 99)),
        ("bytes=90-200", .range(90, 99)),
        ("bytes=100-", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=5-2", .whole),
        ("bytes=0-1,5-6", .whole),
        ("items=0-5", .whole),
    ])
    func parse(header: String, expected: ByteRange) {
        #expect(ByteRange.parse(header, size: 100) == expected)
    }
}

@Suite("Video API rules")
struct VideoRulesTests {
    @Test("file names: refused shapes", arguments: ["", ".", "..", "a/b", "a\\b", "a\u{0}b", "a\u{1f}b", "a\u{85}b",
                                                     String(repeating: "x", count: 256)])
    func refusedNames(name: String) {
        #expect(VideoRules.fileNameProblem(name) != nil)
    }

    @Test("file names: accepted", arguments: ["clip.mp4", "vídeo 🎬.mov", "..hidden", "a..b", String(repeating: "é", count: 255)])
    func acceptedNames(name: String) {
        #expect(VideoRules.fileNameProblem(name) == nil)
    }

    @Test("video ids are 128 random bits in lowercase base32 and match the document's pattern")
    func ids() throws {
        let pattern = try Regex("^[a-z2-7]{25}[aeimquy4]$")
        var seen = Set<String>()
        for _ in 0..<200 {
            let id = VideoRules.newVideoId()
            #expect(id.wholeMatch(of: pattern) != nil)
            #expect(VideoRules.isVideoId(id))
            seen.insert(id)
        }
        #expect(seen.count == 200)
        #expect(!VideoRules.isVideoId("aaaaaaaaaaaaaaaaaaaaaaaaab"))
    }

    @Test("part sizes grow with the file, from 16 MiB to 64, then whatever keeps it within 10,000 parts")
    func partSizes() {
        let mebibyte: Int64 = 1 << 20
        #expect(VideoRules.partSize(for: 1) == 16 * mebibyte)
        #expect(VideoRules.partSize(for: 1600 * mebibyte) == 16 * mebibyte)
        #expect(VideoRules.partSize(for: 1600 * mebibyte + 1) == 32 * mebibyte)
        #expect(VideoRules.partSize(for: 2 << 30) == 32 * mebibyte)
        #expect(VideoRules.partSize(for: 6400 * mebibyte + 1) == 64 * mebibyte)
        #expect(VideoRules.partSize(for: 100 << 30) == 64 * mebibyte)
        #expect(VideoRules.partSize(for: 10_000 * 64 * mebibyte) == 64 * mebibyte)
        #expect(VideoRules.partSize(for: 10_000 * 64 * mebibyte + 1) == 65 * mebibyte)
        #expect(VideoRules.partSize(for: 5 << 40) == 525 * mebibyte)
        let sizes: [Int64] = [200 << 30, 5 << 40, (5 << 40) - 1]
        for size in sizes {
            let part = VideoRules.partSize(for: size)
            #expect((size + part - 1) / part <= 10_000)
            #expect(part % mebibyte == 0)
        }
    }

    @Test("titles drop the last extension only")
    func titles() {
        #expect(VideoRules.title(of: "Holiday 2024.mp4") == "Holiday 2024")
        #expect(VideoRules.title(of: "a.b.mov") == "a.b")
        #expect(VideoRules.title(of: "noext") == "noext")
        #expect(VideoRules.title(of: ".mp4") == ".mp4")
    }
}

@Suite("Object store")
struct ObjectStoreTests {
    static func store() throws -> (ObjectStore, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let database = try CloudDatabase(path: folder.appendingPathComponent("cloud.sqlite").path)
        return (try ObjectStore(database: database, root: folder.appendingPathComponent("s3"), buckets: ["b"]), folder)
    }

    static func body(_ chunks: [[UInt8]]) -> AsyncStream<ByteBuffer> {
        AsyncStream { continuation in
            for chunk in chunks { continuation.yield(ByteBuffer(bytes: chunk)) }
            continuation.finish()
        }
    }

    @Test("a put streams to one file, its ETag is the MD5, and an overwrite removes the old file")
    func putAndOverwrite() async throws {
        let (store, folder) = try Self.store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try await store.put(bucket: "b", key: "a/../b", contentType: "text/plain", metadata: ["x": "1"],
                                        body: Self.body([Array("hello ".utf8), Array("world".utf8)]), expectedLength: 11, expectedSHA256: nil)
        #expect(first.etag == hexEncoded(Insecure.MD5.hash(data: Array("hello world".utf8))))
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path(first.file))) == Data("hello world".utf8))
        let second = try await store.put(bucket: "b", key: "a/../b", contentType: "text/plain", metadata: [:],
                                         body: Self.body([Array("bye".utf8)]), expectedLength: 3, expectedSHA256: nil)
        #expect(!FileManager.default.fileExists(atPath: store.path(first.file)))
        let stored = try #require(try await store.object(bucket: "b", key: "a/../b"))
        #expect(stored.file == second.file && stored.etag == second.etag && stored.size == 3 && stored.metadata.isEmpty)
        // Keys never become paths: the only files are the store's own.
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("s3/objects").path)
        #expect(files == [String(second.file.dropFirst("objects/".count))])
    }

    @Test("a body shorter than its Content-Length or with the wrong SHA-256 leaves no object and no file")
    func refusedBodies() async throws {
        let (store, folder) = try Self.store()
        defer { try? FileManager.default.removeItem(at: folder) }
        await #expect(throws: StoreError.self) {
            _ = try await store.put(bucket: "b", key: "k", contentType: "x", metadata: [:], body: Self.body([[1, 2]]),
                                    expectedLength: 3, expectedSHA256: nil)
        }
        await #expect(throws: StoreError.self) {
            _ = try await store.put(bucket: "b", key: "k", contentType: "x", metadata: [:], body: Self.body([[1, 2]]),
                                    expectedLength: 2, expectedSHA256: String(repeating: "0", count: 64))
        }
        #expect(try await store.object(bucket: "b", key: "k") == nil)
        for folderName in ["objects", "tmp"] {
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("s3/\(folderName)").path).isEmpty)
        }
    }

    @Test("listing with a prefix, a delimiter and pages")
    func listing() async throws {
        let (store, folder) = try Self.store()
        defer { try? FileManager.default.removeItem(at: folder) }
        for key in ["a/1", "a/2", "b/x/1", "b/x/2", "b/y", "c"] {
            _ = try await store.put(bucket: "b", key: key, contentType: "x", metadata: [:], body: Self.body([[0]]),
                                    expectedLength: 1, expectedSHA256: nil)
        }
        let top = try await store.list(bucket: "b", prefix: "", delimiter: "/", after: nil, maxKeys: 1000)
        #expect(top.objects.map(\.key) == ["c"])
        #expect(top.commonPrefixes == ["a/", "b/"])
        let underB = try await store.list(bucket: "b", prefix: "b/", delimiter: "/", after: nil, maxKeys: 1000)
        #expect(underB.objects.map(\.key) == ["b/y"] && underB.commonPrefixes == ["b/x/"])
        var keys: [String] = []
        var after: String?
        repeat {
            let page = try await store.list(bucket: "b", prefix: "", delimiter: nil, after: after, maxKeys: 4)
            keys += page.objects.map(\.key)
            after = page.truncated ? page.last : nil
        } while after != nil
        #expect(keys == ["a/1", "a/2", "b/x/1", "b/x/2", "b/y", "c"])
    }

    @Test("multipart: parts join in order, the ETag has S3's multipart form, small middle parts are refused")
    func multipart() async throws {
        let (store, folder) = try Self.store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let upload = try await store.createUpload(bucket: "b", key: "big", contentType: "video/mp4", metadata: [:])
        let big = [UInt8](repeating: 7, count: Int(ObjectStore.minimumPartSize))
        let one = try await store.putPart(uploadId: upload, bucket: "b", key: "big", partNumber: 1, body: Self.body([big]),
                                          expectedLength: nil, expectedSHA256: nil)
        let two = try await store.putPart(uploadId: upload, bucket: "b", key: "big", partNumber: 2, body: Self.body([[1, 2, 3]]),
                                          expectedLength: 3, expectedSHA256: nil)
        await #expect(throws: StoreError.self) {
            _ = try await store.complete(uploadId: upload, bucket: "b", key: "big",
                                         parts: [.init(number: 2, etag: two.etag), .init(number: 1, etag: one.etag)])
        }
        let object = try await store.complete(uploadId: upload, bucket: "b", key: "big",
                                              parts: [.init(number: 1, etag: "\"\(one.etag)\""), .init(number: 2, etag: two.etag)])
        let joined = hexDecoded(one.etag) + hexDecoded(two.etag)
        #expect(object.etag == hexEncoded(Insecure.MD5.hash(data: joined)) + "-2")
        #expect(object.size == Int64(big.count) + 3)
        #expect(object.checksumSHA256 == nil && object.checksumType == nil)
        await #expect(throws: StoreError.self) { _ = try await store.upload(upload, bucket: "b", key: "big") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("s3/parts").path).isEmpty)

        let small = try await store.createUpload(bucket: "b", key: "small", contentType: "x", metadata: [:])
        let a = try await store.putPart(uploadId: small, bucket: "b", key: "small", partNumber: 1, body: Self.body([[1]]),
                                        expectedLength: 1, expectedSHA256: nil)
        let b = try await store.putPart(uploadId: small, bucket: "b", key: "small", partNumber: 2, body: Self.body([[2]]),
                                        expectedLength: 1, expectedSHA256: nil)
        await #expect {
            _ = try await store.complete(uploadId: small, bucket: "b", key: "small",
                                         parts: [.init(number: 1, etag: a.etag), .init(number: 2, etag: b.etag)])
        } throws: { ($0 as? StoreError)?.code == "EntityTooSmall" }
    }

    static func code(_ error: any Error) -> String? { (error as? StoreError)?.code }

    @Test("a put with a SHA-256 checksum keeps it; one whose body differs is BadDigest and leaves nothing")
    func putChecksum() async throws {
        let (store, folder) = try Self.store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checksum = try #require(ChecksumSHA256(base64: "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="))
        let object = try await store.put(bucket: "b", key: "k", contentType: "x", metadata: [:],
                                         body: Self.body([Array("hello ".utf8), Array("world".utf8)]), expectedLength: 11,
                                         expectedSHA256: nil, checksumSHA256: checksum)
        let stored = try #require(try await store.object(bucket: "b", key: "k"))
        #expect(stored.checksumSHA256 == "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=" && stored.checksumType == "FULL_OBJECT")
        #expect(stored.file == object.file && stored.checksumSHA256 == object.checksumSHA256 && stored.checksumType == object.checksumType)
        await #expect {
            _ = try await store.put(bucket: "b", key: "k", contentType: "x", metadata: [:], body: Self.body([Array("hello, world".utf8)]),
                                    expectedLength: 12, expectedSHA256: nil, checksumSHA256: checksum)
        } throws: { Self.code($0) == "BadDigest" }
        #expect(try await store.object(bucket: "b", key: "k") == stored)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("s3/tmp").path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("s3/objects").path).count == 1)
    }

    @Test("checksum values are the canonical base64 of 32 bytes", arguments: [
        ("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=", true),
        ("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzel=", false),  // the last character's spare bits set
        ("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek", false),
        ("b94d27b9934d3e08a52e52d7da7dacfac484efe37a5380ee9088f7ace2efcde9", false),
        ("XrY7u+Ae7tCTyyK7j1rNww==", false),
        ("", false),
    ])
    func checksumValues(text: String, valid: Bool) {
        #expect((ChecksumSHA256(base64: text) != nil) == valid)
        #expect(ChecksumSHA256(base64: text)?.description == (valid ? text : nil))
    }

    @Test("a SHA256 multipart upload needs each part's checksum, checks it, and gets S3's composite")
    func multipartChecksums() async throws {
        let (store, folder) = try Self.store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let upload = try await store.createUpload(bucket: "b", key: "big", contentType: "x", metadata: [:], checksumAlgorithm: .sha256)
        #expect(try await store.upload(upload, bucket: "b", key: "big").checksumAlgorithm == .sha256)
        let big = [UInt8](repeating: 7, count: Int(ObjectStore.minimumPartSize))
        let bigSum = ChecksumSHA256(digest: Array(SHA256.hash(data: big)))
        let smallSum = ChecksumSHA256(digest: Array(SHA256.hash(data: [1, 2, 3])))

        await #expect {
            _ = try await store.putPart(uploadId: upload, bucket: "b", key: "big", partNumber: 1, body: Self.body([big]),
                                        expectedLength: nil, expectedSHA256: nil)
        } throws: { ($0 as? StoreError)?.message.hasPrefix("Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: null") == true }
        await #expect {
            _ = try await store.putPart(uploadId: upload, bucket: "b", key: "big", partNumber: 1, body: Self.body([big]),
                                        expectedLength: nil, expectedSHA256: nil, checksumSHA256: smallSum)
        } throws: { Self.code($0) == "BadDigest" }
        #expect(try await store.parts(uploadId: upload).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("s3/parts").path).isEmpty)

        let one = try await store.putPart(uploadId: upload, bucket: "b", key: "big", partNumber: 1, body: Self.body([big]),
                                          expectedLength: nil, expectedSHA256: nil, checksumSHA256: bigSum)
        let two = try await store.putPart(uploadId: upload, bucket: "b", key: "big", partNumber: 2, body: Self.body([[1, 2, 3]]),
                                          expectedLength: 3, expectedSHA256: nil, checksumSHA256: smallSum)
        #expect(try await store.parts(uploadId: upload).map(\.0.checksumSHA256) == [bigSum, smallSum])
        await #expect {
            _ = try await store.complete(uploadId: upload, bucket: "b", key: "big",
                                         parts: [.init(number: 1, etag: one.etag, checksumSHA256: bigSum.description),
                                                 .init(number: 2, etag: two.etag)])
        } throws: { Self.code($0) == "InvalidRequest" }
        await #expect {
            _ = try await store.complete(uploadId: upload, bucket: "b", key: "big",
                                         parts: [.init(number: 1, etag: one.etag, checksumSHA256: smallSum.description),
                                                 .init(number: 2, etag: two.etag, checksumSHA256: smallSum.description)])
        } throws: { Self.code($0) == "InvalidPart" }
        let object = try await store.complete(uploadId: upload, bucket: "b", key: "big",
                                              parts: [.init(number: 1, etag: one.etag, checksumSHA256: bigSum.description),
                                                      .init(number: 2, etag: two.etag, checksumSHA256: smallSum.description)])
        // SHA-256 of the two raw digests joined, computed apart with Python's hashlib.
        #expect(object.checksumSHA256 == "3+AkXLcVRLGTV+1FPExdpVwUDYN+yhraMowc7VfGMQ0=-2")
        #expect(object.checksumType == "COMPOSITE")
        #expect(try await store.object(bucket: "b", key: "big")?.checksumSHA256 == object.checksumSHA256)
    }
}
