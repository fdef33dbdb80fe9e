import Foundation
import Synchronization
import Testing
@testable import VideoService

/// Buckets whose one multipart upload holds the given parts, so a completion reaches the limits.
final class PartsStorage: VideoStorage {
    let parts: [UploadedPart]
    let aborted = Mutex<[String]>([])
    init(parts: [UploadedPart]) { self.parts = parts }
    var tempBucket: String { "temp" }
    var mainBucket: String { "main" }
    func createMultipartUpload(key: String, contentType: String) async throws -> String { "upload-1" }
    func listParts(key: String, uploadId: String) async throws -> [UploadedPart] { parts }
    func abortMultipartUpload(key: String, uploadId: String) async throws { aborted.withLock { $0.append(uploadId) } }
    func completeMultipartUpload(key: String, uploadId: String, parts: [(number: Int, etag: String, checksum: ChecksumSHA256)]) async throws -> String? { nil }
    func delete(bucket: String, key: String) async throws {}
    func deleteConverted(sub: String, id: String) async throws {}
    func presign(method: String, bucket: String, key: String, query: [(name: String, value: String)],
                 headers: [(name: String, value: String)], expiresIn: Int) -> String { "https://s3.test/\(bucket)/\(key)" }
}

@Suite("Per-user limits")
struct UsageLimitsTests {
    static let small = UsageLimits(storedBytes: 100, videos: 3, fileBytes: 60, convertedMinutesPerMonth: 2)
    static let checksum = Data(repeating: 7, count: 32).base64EncodedString()

    func request(_ method: String, _ path: String, sub: String = alice, body: String = "") -> VideoRequest {
        VideoRequest(method: method, path: path, query: [], headers: [("X-Test-Sub", sub)], body: Array(body.utf8))
    }

    func service(_ library: MemoryLibrary, storage: any VideoStorage = MemoryStorage(), limits: UsageLimits = small) -> VideoService {
        VideoService(identity: FixedIdentity(), library: library, storage: storage, media: nil,
                     usage: UsagePolicy(defaults: limits, ledger: library))
    }

    func json(_ response: VideoResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    /// An object's values as text: JSONSerialization's numbers compare as their digits.
    func texts(_ object: Any?) -> [String: String] { ((object as? [String: Any]) ?? [:]).mapValues { "\($0)" } }

    func stored(_ sub: String, bytes: Int64, _ library: MemoryLibrary) async throws {
        var video = record(sub, status: .ready)
        video.sizeBytes = bytes
        try await library.insert(video)
    }

    func singlePut(_ size: Int64) -> String {
        #"{"fileName":"a.mp4","contentType":"video/mp4","size":\#(size),"checksumSHA256":"\#(Self.checksum)"}"#
    }

    @Test("the defaults suit a person: 200 GiB, 1,000 videos, 50 GiB a file, 600 minutes a month, videos cut at 3 hours")
    func defaults() throws {
        #expect(UsageLimits.personal.longestMinutes == 180 && UsageLimits.personal.longestSeconds == 10_800)
        #expect(try UsageLimits.from(environment: ["LIMIT_LONGEST_MINUTES": "0.5"]).longestSeconds == 30)
        for bad in ["0", "-1", "three", "nan", "inf"] {
            #expect(throws: LimitSettingError.self) { try UsageLimits.from(environment: ["LIMIT_LONGEST_MINUTES": bad]) }
        }
        #expect(UsageLimits.personal == UsageLimits(storedBytes: 200 << 30, videos: 1000, fileBytes: 50 << 30, convertedMinutesPerMonth: 600))
        let set = try UsageLimits.from(environment: ["LIMIT_STORED_GIB": "10", "LIMIT_MINUTES_PER_MONTH": "0", "LIMIT_VIDEOS": ""])
        #expect(set == UsageLimits(storedBytes: 10 << 30, videos: 1000, fileBytes: 50 << 30, convertedMinutesPerMonth: 0))
        #expect(throws: LimitSettingError.self) { try UsageLimits.from(environment: ["LIMIT_VIDEOS": "many"]) }
        #expect(UsageLimits.month(of: 1_796_083_200) == "2026-12")
        #expect(UsageLimits.month(of: 1_798_761_599) == "2026-12")
    }

    @Test("GET /videos/usage reports the caller's own usage and limits, an override applied")
    func usageRoute() async throws {
        let library = MemoryLibrary()
        try await stored(alice, bytes: 40, library)
        try await stored(bob, bytes: 70, library)
        let month = UsageLimits.month(of: Date().timeIntervalSince1970)
        try await library.addConverted(sub: alice, month: month, seconds: 61)
        library.ledger.withLock { $0.overrides[alice] = LimitOverride(videos: 9) }
        let answer = await service(library).handle(request("GET", "/videos/usage"))
        #expect(answer.status == 200 && answer.headers["Cache-Control"] == "no-store")
        let body = try json(answer)
        #expect(texts(body["usage"]) == ["storedBytes": "40", "videos": "1", "convertedMinutes": "2", "month": month])
        #expect(texts(body["limits"]) == ["storedBytes": "100", "videos": "9", "fileBytes": "60", "convertedMinutesPerMonth": "2",
                                          "longestMinutes": "180"])
        let bobs = texts(try json(await service(library).handle(request("GET", "/videos/usage", sub: bob)))["usage"])
        #expect(bobs["storedBytes"] == "70" && bobs["convertedMinutes"] == "0")
        #expect(await service(library).handle(VideoRequest(method: "GET", path: "/videos/usage")).status == 401)
        #expect(await service(library).handle(request("POST", "/videos/usage")).status == 405)
    }

    @Test("an upload larger than the largest file is refused with 403 and the numbers")
    func fileBytes() async throws {
        let answer = await service(MemoryLibrary()).handle(request("POST", "/videos/upload-url", body: singlePut(61)))
        #expect(answer.status == 403)
        let body = try json(answer)
        #expect(body["code"] as? String == "LimitExceeded" && body["limit"] as? String == "fileBytes")
        #expect(body["allowed"] as? Int == 60 && body["used"] as? Int == 0 && body["requested"] as? Int == 61)
        #expect((body["error"] as? String)?.contains("larger than the largest upload") == true)
    }

    @Test("an upload that would pass the stored bytes is refused; one that fits is not")
    func storedBytes() async throws {
        let library = MemoryLibrary()
        try await stored(alice, bytes: 50, library)
        let refused = await service(library).handle(request("POST", "/videos/multipart",
                                                            body: #"{"fileName":"a.mp4","contentType":"video/mp4","size":51,"checksumAlgorithm":"SHA256"}"#))
        #expect(refused.status == 403)
        let body = try json(refused)
        #expect(body["limit"] as? String == "storedBytes" && body["allowed"] as? Int == 100 && body["used"] as? Int == 50
                && body["requested"] as? Int == 51)
        #expect(await service(library).handle(request("POST", "/videos/upload-url", body: singlePut(50))).status == 200)
        #expect(try await library.videos(sub: alice).count == 2)
    }

    @Test("a new video past the number of videos is refused, another user's videos not counted")
    func videos() async throws {
        let library = MemoryLibrary()
        for _ in 0..<3 { try await stored(alice, bytes: 1, library) }
        let answer = await service(library).handle(request("POST", "/videos/upload-url", body: singlePut(1)))
        let body = try json(answer)
        #expect(answer.status == 403 && body["limit"] as? String == "videos" && body["used"] as? Int == 3 && body["requested"] as? Int == 1)
        #expect(await service(library).handle(request("POST", "/videos/upload-url", sub: bob, body: singlePut(1))).status == 200)
    }

    @Test("no upload is taken once the month's converted minutes are spent")
    func minutesAtUpload() async throws {
        let library = MemoryLibrary()
        try await library.addConverted(sub: alice, month: UsageLimits.month(of: Date().timeIntervalSince1970), seconds: 120)
        let body = try json(await service(library).handle(request("POST", "/videos/upload-url", body: singlePut(1))))
        #expect(body["limit"] as? String == "convertedMinutes" && body["allowed"] as? Int == 2 && body["used"] as? Int == 2
                && body["requested"] as? Int == 0)
    }

    @Test("a multipart completion past the stored bytes is refused, the upload aborted and its video removed")
    func completion() async throws {
        let library = MemoryLibrary()
        let storage = PartsStorage(parts: [UploadedPart(partNumber: 1, etag: String(repeating: "a", count: 32), size: 40, checksumSHA256: nil)])
        let created = try json(await service(library, storage: storage).handle(request("POST", "/videos/multipart",
            body: #"{"fileName":"a.mp4","contentType":"video/mp4","size":40,"checksumAlgorithm":"SHA256"}"#)))
        let (key, uploadId, id) = (try #require(created["key"] as? String), try #require(created["uploadId"] as? String),
                                   try #require(created["videoId"] as? String))
        // Another upload landed meanwhile.
        try await stored(alice, bytes: 70, library)
        let complete = #"{"key":"\#(key)","uploadId":"\#(uploadId)","parts":[{"partNumber":1,"etag":"\#(String(repeating: "a", count: 32))","checksumSHA256":"\#(Self.checksum)"}]}"#
        let answer = await service(library, storage: storage).handle(request("POST", "/videos/multipart/complete", body: complete))
        let body = try json(answer)
        #expect(answer.status == 403 && body["limit"] as? String == "storedBytes" && body["used"] as? Int == 70 && body["requested"] as? Int == 40)
        #expect(storage.aborted.withLock { $0 } == [uploadId])
        #expect(try await library.video(sub: alice, id: id) == nil)
    }

    @Test("a conversion is refused once the month's minutes are spent; completed conversions count their minutes once")
    func conversionMinutes() async throws {
        let library = MemoryLibrary(), converter = RecordingConverter()
        let events = ConversionEvents(library: library, storage: MemoryStorage(), converter: converter,
                                      usage: UsagePolicy(defaults: Self.small, ledger: library))
        let month = UsageLimits.month(of: Date().timeIntervalSince1970)
        let first = record(alice)
        try await library.insert(first)
        #expect(try await events.objectCreated(bucket: "temp", key: first.uploadKey) == .submitted)
        #expect(try await events.completed(sub: alice, id: first.id, durationSeconds: 125, ladder: true))
        #expect(!(try await events.completed(sub: alice, id: first.id, durationSeconds: 125, ladder: true)))
        #expect(try await library.convertedSeconds(sub: alice, month: month) == 125)
        let second = record(alice)
        try await library.insert(second)
        guard case .refused(let reason) = try await events.objectCreated(bucket: "temp", key: second.uploadKey) else {
            Issue.record("the conversion was not refused")
            return
        }
        #expect(reason.contains("3 of your 2 minutes"))
        #expect(converter.jobs.withLock { $0.count } == 1)
        let failed = try #require(try await library.video(sub: alice, id: second.id))
        #expect(failed.status == .failed && failed.error == reason)
    }

    @Test("a redelivered event of a queued video is not checked again: its job may be running")
    func redelivered() async throws {
        let library = MemoryLibrary(), converter = RecordingConverter()
        let events = ConversionEvents(library: library, storage: MemoryStorage(), converter: converter,
                                      usage: UsagePolicy(defaults: Self.small, ledger: library))
        let video = record(alice)
        try await library.insert(video)
        #expect(try await events.objectCreated(bucket: "temp", key: video.uploadKey) == .submitted)
        try await library.addConverted(sub: alice, month: UsageLimits.month(of: Date().timeIntervalSince1970), seconds: 600)
        #expect(try await events.objectCreated(bucket: "temp", key: video.uploadKey) == .submitted)
        #expect(try await library.video(sub: alice, id: video.id)?.status == .queued)
    }

    @Test("a single PUT that lands past the stored bytes fails its video before any conversion")
    func landed() async throws {
        let library = MemoryLibrary(), converter = RecordingConverter()
        let events = ConversionEvents(library: library, storage: MemoryStorage(), converter: converter,
                                      usage: UsagePolicy(defaults: Self.small, ledger: library))
        try await stored(alice, bytes: 95, library)
        let video = record(alice)
        try await library.insert(video)
        guard case .refused(let reason) = try await events.objectCreated(bucket: "temp", key: video.uploadKey) else {
            Issue.record("the conversion was not refused")
            return
        }
        #expect(reason.contains("storage limit") && converter.jobs.withLock { $0.isEmpty })
    }
}
