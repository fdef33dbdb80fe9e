import Foundation
import Synchronization
import Testing
@testable import VideoService

/// A library in memory that applies changes exactly as the status machine says.
final class MemoryLibrary: VideoLibrary {
    let videos = Mutex<[String: VideoRecord]>([:])
    let ledger = Mutex<(seconds: [String: Double], overrides: [String: LimitOverride])>(([:], [:]))

    func insert(_ video: VideoRecord) async throws { videos.withLock { $0[video.id] = video } }
    func video(sub: String, id: String) async throws -> VideoRecord? { videos.withLock { $0[id] }.flatMap { $0.sub == sub ? $0 : nil } }
    func videos(sub: String) async throws -> [VideoRecord] {
        videos.withLock { Array($0.values) }.filter { $0.sub == sub }.sorted { $0.createdAt > $1.createdAt }
    }
    func remove(sub: String, id: String) async throws -> VideoRecord? {
        videos.withLock { store in
            guard let video = store[id], video.sub == sub else { return nil }
            store[id] = nil
            return video
        }
    }
    func apply(_ change: VideoChange, sub: String, id: String) async throws -> Bool {
        videos.withLock { store in
            guard let video = store[id], video.sub == sub, change.applies(to: video) else { return false }
            store[id] = change.applied(to: video)
            return true
        }
    }
}

/// The monthly minutes and overrides in memory.
extension MemoryLibrary: UsageLedger {
    func convertedSeconds(sub: String, month: String) async throws -> Double { ledger.withLock { $0.seconds["\(sub) \(month)"] ?? 0 } }
    func addConverted(sub: String, month: String, seconds: Double) async throws {
        ledger.withLock { $0.seconds["\(sub) \(month)", default: 0] += seconds }
    }
    func limitOverride(sub: String) async throws -> LimitOverride? { ledger.withLock { $0.overrides[sub] } }
}

/// Buckets in memory: records deletions and presigns a readable fake URL.
final class MemoryStorage: VideoStorage {
    let deleted = Mutex<[String]>([])
    var tempBucket: String { "temp" }
    var mainBucket: String { "main" }
    func createMultipartUpload(key: String, contentType: String) async throws -> String { "upload-1" }
    func listParts(key: String, uploadId: String) async throws -> [UploadedPart] { [] }
    func abortMultipartUpload(key: String, uploadId: String) async throws {}
    func completeMultipartUpload(key: String, uploadId: String, parts: [(number: Int, etag: String, checksum: ChecksumSHA256)]) async throws -> String? { nil }
    func delete(bucket: String, key: String) async throws { deleted.withLock { $0.append("\(bucket)/\(key)") } }
    func deleteConverted(sub: String, id: String) async throws { deleted.withLock { $0.append("main/videos/\(sub)/\(id)/*") } }
    func presign(method: String, bucket: String, key: String, query: [(name: String, value: String)],
                 headers: [(name: String, value: String)], expiresIn: Int) -> String { "https://s3.test/\(bucket)/\(key)?method=\(method)" }
}

final class RecordingConverter: Converter {
    let jobs = Mutex<[ConversionJob]>([])
    /// Set: every submission is refused with it, and no job is recorded.
    let refusal = Mutex<ConversionRefused?>(nil)
    func submit(_ job: ConversionJob) async throws -> String? {
        if let refused = refusal.withLock({ $0 }) { throw refused }
        return jobs.withLock { jobs in
            jobs.append(job)
            return "job-\(jobs.count)"
        }
    }
}

struct FixedIdentity: CallerIdentity {
    func caller(of request: VideoRequest) async throws -> Caller {
        guard let sub = request.header("x-test-sub") else { throw APIFailure.signIn }
        return Caller(sub: sub, tokenExpiry: nil)
    }
}

let alice = "11111111-2222-4333-8444-555555555555"
let bob = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

func record(_ sub: String, status: VideoStatus = .uploading, progress: Double? = nil) -> VideoRecord {
    let id = VideoRules.newVideoId()
    return VideoRecord(id: id, sub: sub, title: "clip", fileName: "clip.mp4", contentType: "video/mp4", sizeBytes: 10,
                       uploadKey: VideoRules.uploadKey(sub: sub, videoId: id, fileName: "clip.mp4"), uploadId: nil, partSize: nil,
                       status: status, progress: progress, createdAt: 1_700_000_000)
}

@Suite("The status machine")
struct StatusMachineTests {
    @Test("moves forward only, and progress only rises")
    func forwardOnly() {
        let changes: [VideoChange] = [.queued(), .converting(progress: 0.5), .ready(durationSeconds: 3), .failed(reason: "x")]
        for status in VideoStatus.allCases {
            for change in changes {
                let video = record(alice, status: status, progress: status == .converting ? 0.5 : nil)
                let allowed = change.applies(to: video)
                if allowed { #expect(change.status.rank >= status.rank, "\(status) → \(change.status)") }
                if status == .ready || status == .failed { #expect(!allowed, "a finished video changed: \(status) → \(change)") }
            }
        }
        #expect(!VideoChange.converting(progress: 0.4).applies(to: record(alice, status: .converting, progress: 0.5)))
        #expect(!VideoChange.converting(progress: 0.5).applies(to: record(alice, status: .converting, progress: 0.5)))
        #expect(VideoChange.converting(progress: 0.6).applies(to: record(alice, status: .converting, progress: 0.5)))
        #expect(VideoChange.ready(durationSeconds: nil).applies(to: record(alice, status: .queued)))
        #expect(!VideoChange.queued().applies(to: record(alice, status: .queued)))
    }

    @Test("ready keeps a known duration and clears progress and error")
    func readyFields() {
        var video = record(alice, status: .converting, progress: 0.7)
        video.durationSeconds = 12
        let ready = VideoChange.ready(durationSeconds: nil).applied(to: video)
        #expect(ready.status == .ready && ready.durationSeconds == 12 && ready.progress == nil)
        #expect(VideoChange.failed(reason: "bad").applied(to: video).error == "bad")
    }
}

@Suite("Conversion events")
struct ConversionEventTests {
    func setUp() -> (MemoryLibrary, MemoryStorage, RecordingConverter, ConversionEvents) {
        let library = MemoryLibrary(), storage = MemoryStorage(), converter = RecordingConverter()
        return (library, storage, converter, ConversionEvents(library: library, storage: storage, converter: converter))
    }

    @Test("an upload is submitted once and queued; a repeated event changes nothing")
    func objectCreated() async throws {
        let (library, _, converter, events) = setUp()
        let video = record(alice)
        try await library.insert(video)
        #expect(try await events.objectCreated(bucket: "temp", key: video.uploadKey) == .submitted)
        #expect(try await library.video(sub: alice, id: video.id)?.status == .queued)
        // Redelivered while queued: submitted again (the converter takes a video once); once converting, ignored.
        #expect(try await events.objectCreated(bucket: "temp", key: video.uploadKey) == .submitted)
        try await events.progress(sub: alice, id: video.id, percent: 10)
        #expect(try await events.objectCreated(bucket: "temp", key: video.uploadKey) == .ignored("already converting"))
        #expect(converter.jobs.withLock { $0.map(\.videoId) } == [video.id, video.id])
        #expect(converter.jobs.withLock { $0[0] } == ConversionJob(sub: alice, videoId: video.id, inputBucket: "temp", inputKey: video.uploadKey, outputBucket: "main"))
        #expect(try await events.objectCreated(bucket: "main", key: video.uploadKey) == .ignored("not the temporary bucket"))
        #expect(try await events.objectCreated(bucket: "temp", key: "uploads/x/y/z") == .ignored("not an upload key"))
    }

    @Test("an upload the converter refuses (no media container) fails with the reason at once, and no job is started")
    func refused() async throws {
        let (library, _, converter, events) = setUp()
        converter.refusal.withLock { $0 = .notMedia }
        let video = record(alice)
        try await library.insert(video)
        #expect(try await events.objectCreated(bucket: "temp", key: video.uploadKey) == .refused(ConversionRefused.notMedia.reason))
        let failed = try #require(try await library.video(sub: alice, id: video.id))
        #expect(failed.status == .failed && failed.error == ConversionRefused.notMedia.reason)
        #expect(converter.jobs.withLock { $0.isEmpty })
        // Redelivered: the video is settled, so nothing more happens.
        #expect(try await events.objectCreated(bucket: "temp", key: video.uploadKey) == .ignored("already failed"))
    }

    @Test("completion deletes the original; a late progress or error cannot undo it")
    func completion() async throws {
        let (library, storage, _, events) = setUp()
        let video = record(alice, status: .queued)
        try await library.insert(video)
        #expect(try await events.progress(sub: alice, id: video.id, percent: 40))
        #expect(!(try await events.progress(sub: alice, id: video.id, percent: 20)))
        #expect(try await events.completed(sub: alice, id: video.id, durationSeconds: 20.5, ladder: true))
        #expect(!(try await events.completed(sub: alice, id: video.id, durationSeconds: 20.5, ladder: true)))
        #expect(!(try await events.progress(sub: alice, id: video.id, percent: 90)))
        #expect(!(try await events.failed(sub: alice, id: video.id, reason: "late")))
        let ready = try #require(try await library.video(sub: alice, id: video.id))
        #expect(ready.status == .ready && ready.durationSeconds == 20.5 && ready.error == nil)
        #expect(storage.deleted.withLock { $0 }.allSatisfy { $0 == "temp/\(video.uploadKey)" })
        // Another user's sub reaches nothing.
        #expect(!(try await events.failed(sub: bob, id: video.id, reason: "x")))
    }

    @Test("a completion for a deleted video removes its whole folder, ladder included")
    func deletedVideo() async throws {
        let (_, storage, _, events) = setUp()
        let id = VideoRules.newVideoId()
        #expect(!(try await events.completed(sub: alice, id: id, durationSeconds: nil, ladder: true)))
        #expect(storage.deleted.withLock { $0 } == ["main/videos/\(alice)/\(id)/*"])
    }

    @Test("a completed conversion records its ladder only when the conversion made one")
    func ladderRecorded() async throws {
        let (library, _, _, events) = setUp()
        let video = record(alice, status: .converting)
        try await library.insert(video)
        #expect(!(try await library.video(sub: alice, id: video.id)!.hlsLadder))
        #expect(try await events.completed(sub: alice, id: video.id, durationSeconds: 3, ladder: true))
        #expect(try await library.video(sub: alice, id: video.id)!.hlsLadder)

        let older = record(alice, status: .converting)
        try await library.insert(older)
        #expect(try await events.completed(sub: alice, id: older.id, durationSeconds: 3, ladder: false))
        let mp4Only = try #require(try await library.video(sub: alice, id: older.id))
        #expect(mp4Only.status == .ready && !mp4Only.hlsLadder)
    }
}

@Suite("Conversion settings")
struct ConversionSettingsTests {
    @Test("MediaConvert's job: MP4 with the index first, H.264 and AAC, one thumbnail, ids only in metadata")
    func mediaConvert() throws {
        let job = ConversionJob(sub: alice, videoId: "abcdefghijklmnopqrstuvwxya", inputBucket: "temp",
                                inputKey: "uploads/\(alice)/abcdefghijklmnopqrstuvwxya/clip.mov", outputBucket: "main")
        let body = ConversionSettings.mediaConvertJob(job, role: "arn:aws:iam::1:role/convert", queue: nil)
        #expect(body["clientRequestToken"] == .string(job.videoId))
        #expect(body["userMetadata"] == ["videoId": .string(job.videoId), "sub": .string(alice), "hls": "360p,480p,720p,1080p"])
        #expect(body["settings"]?["inputs"]?.arrayValue?.first?["videoSelector"] == ["rotate": "AUTO"])
        let groups = try #require(body["settings"]?["outputGroups"]?.arrayValue)
        let destinations = groups.compactMap { $0["outputGroupSettings"]?["fileGroupSettings"]?["destination"]?.stringValue }
        let keys = VideoRules.mainKeys(sub: alice, id: job.videoId)
        #expect(destinations == ["s3://main/videos/\(alice)/\(job.videoId)/video", "s3://main/videos/\(alice)/\(job.videoId)/thumbnail"])
        #expect(keys.video.hasSuffix("/video.mp4") && keys.thumbnail.hasSuffix("/thumbnail.0000000.jpg"))
        let text = String(decoding: body.bytes, as: UTF8.self)
        for needle in ["\"PROGRESSIVE_DOWNLOAD\"", "\"H_264\"", "\"AAC\"", "\"FRAME_CAPTURE\"", "\"maxCaptures\":1", "s3://temp/uploads"] {
            #expect(text.contains(needle), "\(needle) missing")
        }
    }

    @Test("the thumbnail's seek time has three decimals")
    func seek() {
        #expect(ConversionSettings.thumbnailArguments(input: "in", output: "out", at: 1)[5] == "1.000")
        #expect(ConversionSettings.thumbnailArguments(input: "in", output: "out", at: 0.0425)[5] == "0.043")
        #expect(ConversionSettings.thumbnailArguments(input: "in", output: "out", at: 12.5)[5] == "12.500")
    }

    @Test("ffmpeg makes the same MP4")
    func ffmpeg() {
        let arguments = ConversionSettings.ffmpegArguments(input: "in", output: "out.mp4", hasAudio: true)
        #expect(arguments.suffix(3) == ["-movflags", "+faststart", "out.mp4"])
        #expect(arguments.contains("libx264") && arguments.contains("aac"))
        #expect(!ConversionSettings.ffmpegArguments(input: "in", output: "out.mp4", hasAudio: false).contains("aac"))
    }

    @Test("every ffmpeg input is read from its file only, by a media container's demuxer")
    func inputRestrictions() {
        for arguments in [ConversionSettings.ffmpegArguments(input: "in", output: "out.mp4", hasAudio: true),
                          ConversionSettings.thumbnailArguments(input: "in", output: "out.jpg", at: 1)] {
            let input = arguments.firstIndex(of: "-i")!
            let before = Array(arguments[..<input])
            #expect(before.suffix(4) == ["-protocol_whitelist", "file", "-format_whitelist", ConversionSettings.inputFormats.joined(separator: ",")])
        }
        for playlist in ["hls", "concat", "image2", "tee", "lavfi"] {
            #expect(!ConversionSettings.inputFormats.contains(playlist))
        }
    }

    @Test("MediaConvert errors read as sentences with the code kept for support", arguments: [
        (1010, "could not be opened"), (1040, "could not be read"), (3450, "could not be stored"), (9999, "on our side"),
    ])
    func reasons(code: Int, phrase: String) {
        let reason = ConversionFailureReason.mediaConvert(code: code, message: "Example\nmessage")
        #expect(reason.contains(phrase) && reason.contains("MediaConvert error \(code): Example message"))
        #expect(!reason.contains("\n"))
    }
}

@Suite("The video service")
struct VideoServiceTests {
    func request(_ method: String, _ path: String, sub: String? = alice, body: String = "", query: [(name: String, value: String)] = []) -> VideoRequest {
        VideoRequest(method: method, path: path, query: query, headers: sub.map { [("X-Test-Sub", $0)] } ?? [], body: Array(body.utf8))
    }

    @Test("an upload URL creates a video the owner sees and no one else does")
    func perUser() async throws {
        let library = MemoryLibrary()
        let service = VideoService(identity: FixedIdentity(), library: library, storage: MemoryStorage(), media: nil)
        let checksum = Data(repeating: 7, count: 32).base64EncodedString()
        let created = await service.handle(request("POST", "/videos/upload-url",
                                                   body: #"{"fileName":"a.mp4","contentType":"video/mp4","size":5,"checksumSHA256":"\#(checksum)"}"#))
        #expect(created.status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any])
        let id = try #require(json["videoId"] as? String)
        #expect((json["key"] as? String) == "uploads/\(alice)/\(id)/a.mp4")
        #expect(await service.handle(request("GET", "/videos/\(id)")).status == 200)
        #expect(await service.handle(request("GET", "/videos/\(id)", sub: bob)).status == 404)
        #expect(await service.handle(request("DELETE", "/videos/\(id)", sub: bob)).status == 404)
        #expect(await service.handle(request("GET", "/videos", sub: nil)).status == 401)
        let other = await service.handle(request("GET", "/videos/multipart/parts", sub: bob,
                                                 query: [("key", "uploads/\(alice)/\(id)/a.mp4"), ("uploadId", "u")]))
        #expect(other.status == 403)
        #expect(await service.handle(request("DELETE", "/videos/\(id)")).status == 204)
        #expect(try await library.videos(sub: alice).isEmpty)
    }

    @Test("createdAt is ISO 8601 in UTC with milliseconds")
    func createdAt() {
        #expect(VideoService.iso8601(1_700_000_000.123) == "2023-11-14T22:13:20.123Z")
        #expect(VideoService.iso8601(0) == "1970-01-01T00:00:00.000Z")
    }

    @Test("routes, methods and bodies are refused as the API document says")
    func refusals() async {
        let service = VideoService(identity: FixedIdentity(), library: MemoryLibrary(), storage: MemoryStorage(), media: nil)
        #expect(await service.handle(request("GET", "/nothing")).status == 404)
        let wrong = await service.handle(request("PUT", "/videos"))
        #expect(wrong.status == 405 && wrong.headers["Allow"] == "GET")
        #expect(await service.handle(request("POST", "/videos/multipart", body: "[]")).status == 400)
        var huge = request("POST", "/videos/multipart")
        huge.bodyTooLarge = true
        #expect(await service.handle(huge).status == 413)
    }

    @Test("authorizer claims: an access token of this client naming a user")
    func claims() async throws {
        let identity = AuthorizerClaims(clientId: "client")
        func sub(_ claims: [String: JSONValue]?) async -> String? {
            try? await identity.sub(of: VideoRequest(method: "GET", path: "/videos", authorizerClaims: claims))
        }
        #expect(await sub(["sub": .string(alice), "token_use": .string("access"), "client_id": .string("client")]) == alice)
        #expect(await sub(["sub": .string(alice), "token_use": .string("id"), "client_id": .string("client")]) == nil)
        #expect(await sub(["sub": .string(alice), "token_use": .string("access"), "client_id": .string("other")]) == nil)
        #expect(await sub(["sub": .string("not-a-sub"), "token_use": .string("access"), "client_id": .string("client")]) == nil)
        #expect(await sub(nil) == nil)
    }
}
