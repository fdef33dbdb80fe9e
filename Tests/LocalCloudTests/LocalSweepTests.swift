import Foundation
import Testing
@testable import LocalCloud
import VideoService

@Suite("The local sweeper's lookup")
struct LocalSweepTests {
    @Test("the job queue answers for a video's newest job: running while queued or running, done, failed with its reason, else unknown")
    func lookup() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try CloudDatabase(path: folder.appendingPathComponent("cloud.sqlite").path)
        let library = LocalLibrary(database: database), lookup = LocalConversionLookup(database: database)
        let sub = "11111111-2222-4333-8444-555555555555"
        func video(jobs: [(state: String, error: String?)]) async throws -> VideoRecord {
            let id = VideoRules.newVideoId()
            let video = VideoRecord(id: id, sub: sub, title: "clip", fileName: "clip.mp4", contentType: "video/mp4", sizeBytes: 10,
                                    uploadKey: VideoRules.uploadKey(sub: sub, videoId: id, fileName: "clip.mp4"), uploadId: nil,
                                    partSize: nil, status: .converting, createdAt: 1_000)
            try await library.insert(video)
            try await database.write { db in
                for job in jobs {
                    try db.execute(sql: """
                        INSERT INTO jobs (videoId, bucket, key, state, lastError, createdAt, updatedAt) VALUES (?, 'temp', ?, ?, ?, 1000, 1000)
                        """, arguments: [id, video.uploadKey, job.state, job.error])
                }
            }
            return video
        }
        #expect(try await lookup.state(of: try await video(jobs: [("queued", nil)])) == .running)
        #expect(try await lookup.state(of: try await video(jobs: [("failed", "old"), ("running", nil)])) == .running)
        #expect(try await lookup.state(of: try await video(jobs: [("done", nil)])) == .complete(durationSeconds: nil, ladder: true, cutFromSeconds: nil))
        #expect(try await lookup.state(of: try await video(jobs: [("failed", "ffmpeg could not convert the video.")]))
                == .failed(reason: "ffmpeg could not convert the video."))
        #expect(try await lookup.state(of: try await video(jobs: [("cancelled", nil)])) == .unknown)
        #expect(try await lookup.state(of: try await video(jobs: [])) == .unknown)
        // The sweeper's read of the same database: all six wait.
        #expect(try await library.pendingVideos(createdBefore: 2_000).count == 6)
    }
}
