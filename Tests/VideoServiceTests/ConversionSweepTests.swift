import Foundation
import Synchronization
import Testing
@testable import VideoService

/// The videos waiting, from the memory library.
extension MemoryLibrary: PendingVideos {
    func pendingVideos(createdBefore: Double) async throws -> [VideoRecord] {
        videos.withLock { Array($0.values) }.filter { ($0.status == .queued || $0.status == .converting) && $0.createdAt < createdBefore }
    }
}

/// The converter's answers, set per video: the one fault these tests cannot provoke in a real
/// converter (an end event that never arrives). Production's lookup runs against the MediaConvert
/// fake (test_lambda_functions.py), the local one against the job queue (LocalCloudTests).
final class AnsweringLookup: ConversionLookup {
    let answers = Mutex<[String: ConversionState]>([:])
    let asked = Mutex<[String]>([])
    func state(of video: VideoRecord) async throws -> ConversionState {
        asked.withLock { $0.append(video.id) }
        guard let answer = answers.withLock({ $0[video.id] }) else { throw CocoaError(.fileReadUnknown) }
        return answer
    }
}

@Suite("The conversion sweeper")
struct ConversionSweepTests {
    @Test("settles what ended, fails what the converter does not know, leaves what runs, asks about nothing newer than `after`")
    func settles() async throws {
        let library = MemoryLibrary(), storage = MemoryStorage(), lookup = AnsweringLookup()
        let ledger = UsagePolicy(defaults: .personal, ledger: library)
        let events = ConversionEvents(library: library, storage: storage, converter: RecordingConverter(), usage: ledger)
        let sweep = ConversionSweep(events: events, pending: library, lookup: lookup, after: 3600)
        let now = 1_700_100_000.0
        func waiting(_ status: VideoStatus, age: Double, sub: String = alice) async throws -> VideoRecord {
            var video = record(sub, status: status, progress: status == .converting ? 0.4 : nil)
            video.createdAt = now - age
            try await library.insert(video)
            return video
        }
        let completed = try await waiting(.converting, age: 7200)
        let cut = try await waiting(.queued, age: 90_000, sub: bob)
        let failed = try await waiting(.converting, age: 4000)
        let lost = try await waiting(.queued, age: 86_400)
        let running = try await waiting(.converting, age: 5000)
        let unreachable = try await waiting(.converting, age: 6000)
        let recent = try await waiting(.converting, age: 60)
        let done = try await waiting(.ready, age: 9000)
        lookup.answers.withLock {
            $0[completed.id] = .complete(durationSeconds: 61, ladder: true, cutFromSeconds: nil)
            $0[cut.id] = .complete(durationSeconds: 10_800, ladder: true, cutFromSeconds: 14_000)
            $0[failed.id] = .failed(reason: "The video could not be read.")
            $0[lost.id] = .unknown
            $0[running.id] = .running
            $0[recent.id] = .complete(durationSeconds: 1, ladder: true, cutFromSeconds: nil)
            $0[done.id] = .failed(reason: "never asked")
        }
        let report = try await sweep.run(now: now)
        #expect(report == ConversionSweep.Report(looked: 6, running: 1, ready: 2, failed: 2, errors: 1))
        #expect(Set(lookup.asked.withLock { $0 }) == [completed.id, cut.id, failed.id, lost.id, running.id, unreachable.id])

        let ready = try #require(try await library.video(sub: alice, id: completed.id))
        #expect(ready.status == .ready && ready.durationSeconds == 61 && ready.hlsLadder && ready.progress == nil)
        let cutReady = try #require(try await library.video(sub: bob, id: cut.id))
        #expect(cutReady.status == .ready && cutReady.durationSeconds == 10_800 && cutReady.cutFromSeconds == 14_000)
        #expect(try await library.video(sub: alice, id: failed.id)?.error == "The video could not be read.")
        #expect(try await library.video(sub: alice, id: lost.id)?.error == ConversionSweep.lostReason)
        #expect(try await library.video(sub: alice, id: running.id)?.status == .converting)
        #expect(try await library.video(sub: alice, id: unreachable.id)?.status == .converting)
        #expect(try await library.video(sub: alice, id: recent.id)?.status == .converting)
        // Settled as the end event would have: the originals leave the temporary bucket, the minutes count once.
        #expect(Set(storage.deleted.withLock { $0 }) == ["temp/\(completed.uploadKey)", "temp/\(cut.uploadKey)"])
        let month = UsageLimits.month(of: Date().timeIntervalSince1970)
        #expect(try await library.convertedSeconds(sub: alice, month: month) == 61)
        #expect(try await library.convertedSeconds(sub: bob, month: month) == 10_800)

        // A second sweep, and the late end event after it, change nothing.
        let again = try await sweep.run(now: now)
        #expect(again.ready == 0 && again.failed == 0)
        #expect(!(try await events.completed(sub: alice, id: completed.id, durationSeconds: 61, ladder: true)))
        #expect(try await library.convertedSeconds(sub: alice, month: month) == 61)
    }
}
