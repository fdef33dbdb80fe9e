import Foundation
import Synchronization
import VideoService
#if canImport(Glibc)
import Glibc
#endif

/// The conversion pipeline, shaped like production's: an object created in the temporary bucket
/// becomes a job in a durable SQLite queue (S3 event → SNS → SQS); a worker (Lambda +
/// MediaConvert) converts it with ffmpeg into the main bucket; a completion event marks the video
/// ready and the temporary object is deleted (the EventBridge clean-up). The video's status moves
/// by the shared status machine (`VideoChange`), and the conversion's settings are the shared ones.
/// A failure that another attempt cannot mend (not a video, the upload gone) fails at once; others
/// are retried with back-off while the video stays `converting`.
final class Pipeline: Sendable {
    struct Settings: Sendable {
        var ffmpeg = "ffmpeg"
        var ffprobe = "ffprobe"
        var workers = 1
        var maxAttempts = 3
        /// Seconds before retry n (1-based); the last is reused.
        var backoff: [Double] = [2, 8]
        /// How long one ffmpeg run may take for an input of the given duration (unknown: nil).
        var timeLimit: @Sendable (Double?) -> Double = ConversionSettings.timeLimit(durationSeconds:)
        /// How long ffprobe may take to read an upload's header.
        var probeTimeLimit: Double = 300
        /// The longest video converted, in seconds (`UsageLimits.longestSeconds`): a longer one is cut there.
        var longestSeconds: Double = UsageLimits.defaultLongestMinutes * 60
    }

    let settings: Settings
    let database: CloudDatabase
    let store: ObjectStore
    let workFolder: URL
    let log: @Sendable (String) -> Void

    init(settings: Settings, database: CloudDatabase, store: ObjectStore, workFolder: URL, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.database = database
        self.store = store
        self.workFolder = workFolder
        self.log = log
    }

    /// The S3 event: inside the transaction that created the object, enqueue its conversion, or
    /// fail the video when it takes its owner past a limit (`refusal`).
    static func objectCreated(_ db: Database, _ object: StoredObject, limits: UsageLimits) throws {
        guard object.bucket == LocalVideoHost.tempBucket else { return }
        let now = Date().timeIntervalSince1970
        try db.execute(sql: "INSERT INTO events (kind, detail, createdAt) VALUES ('s3:ObjectCreated', ?, ?)",
                       arguments: ["\(object.bucket)/\(object.key)", now])
        guard let upload = VideoRules.parseUploadKey(object.key),
              try String.fetchOne(db, sql: "SELECT uploadKey FROM videos WHERE id = ?", arguments: [upload.videoId]) == object.key,
              try LocalLibrary.apply(.queued(), sub: upload.sub, id: upload.videoId, db) else { return }
        let id = upload.videoId
        if let refusal = try refusal(db, sub: upload.sub, videoId: id, defaults: limits) {
            _ = try LocalLibrary.apply(.failed(reason: refusal.message), sub: upload.sub, id: id, db)
            return
        }
        try db.execute(sql: """
            INSERT INTO jobs (videoId, bucket, key, state, createdAt, updatedAt) VALUES (?, ?, ?, 'queued', ?, ?)
            """, arguments: [id, object.bucket, object.key, now, now])
    }

    /// The limit the landed upload passes, as `ConversionEvents` checks it in production: its size
    /// with the owner's other videos, or this month's converted minutes, already spent.
    static func refusal(_ db: Database, sub: String, videoId: String, defaults: UsageLimits) throws -> LimitExceeded? {
        let limits = try LocalLibrary.limitOverride(sub: sub, db)?.applied(to: defaults) ?? defaults
        let size = try Int64.fetchOne(db, sql: "SELECT sizeBytes FROM videos WHERE id = ?", arguments: [videoId]) ?? 0
        let month = UsageLimits.month(of: Date().timeIntervalSince1970)
        var usage = Usage(videos: [], month: month, convertedSeconds: try Double.fetchOne(
            db, sql: "SELECT seconds FROM convertedMonths WHERE sub = ? AND month = ?", arguments: [sub, month]) ?? 0)
        usage.storedBytes = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(sizeBytes), 0) FROM videos WHERE sub = ? AND id != ?",
                                               arguments: [sub, videoId]) ?? 0
        return LimitExceeded.forStoredBytes(size, storedBefore: usage.storedBytes, limits: limits)
            ?? LimitExceeded.forConversion(usage: usage, limits: limits)
    }

    // MARK: Running

    /// Recovers from a crash, then runs the workers until cancelled.
    func run() async {
        await recover()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, settings.workers) {
                group.addTask { [self] in await workLoop() }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Jobs that were running when the process died go back to the queue (their attempt does not
    /// count; their video stays `converting`); their ffmpeg, if it outlived us, is stopped;
    /// finished jobs get their clean-up.
    private func recover() async {
        do {
            let interrupted = try await database.write { db -> [Row] in
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE state = 'running'")
                try db.execute(sql: "UPDATE jobs SET state = 'queued', attempts = max(0, attempts - 1), pid = NULL WHERE state = 'running'")
                return rows
            }
            for row in interrupted {
                if let pid = row["pid"] as Int32?, Self.isOurFFmpeg(pid: pid, folder: workFolder) { kill(pid, SIGKILL) }
                log("conversion of video \(row["videoId"] as String) was interrupted; it is queued again")
            }
            // Uploads a finished conversion left behind (a crash between the two steps).
            let done = try await database.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT jobs.bucket, jobs.key FROM jobs JOIN objects ON objects.bucket = jobs.bucket AND objects.key = jobs.key
                    WHERE jobs.state = 'done'
                    """)
            }
            for row in done { try await store.delete(bucket: row["bucket"], key: row["key"]) }
        } catch {
            log("error: could not recover the conversion queue: \(error)")
        }
    }

    private static func isOurFFmpeg(pid: Int32, folder: URL) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: data, as: UTF8.self).contains(folder.path)
    }

    private func workLoop() async {
        while !Task.isCancelled {
            do {
                if let job = try await claim() {
                    await process(job)
                    continue
                }
            } catch {
                log("error: the conversion queue could not be read: \(error)")
            }
            // The queue is polled, as a Lambda polls SQS; a new job waits 50 ms on average.
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    struct Job: Sendable {
        var id: Int64
        var videoId: String
        var bucket: String
        var key: String
        var attempts: Int
        var sub: String
    }

    /// Takes the oldest due job and marks it running, in one transaction.
    private func claim() async throws -> Job? {
        let now = Date().timeIntervalSince1970
        return try await database.write { db -> Job? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT jobs.*, videos.sub FROM jobs JOIN videos ON videos.id = jobs.videoId
                WHERE jobs.state = 'queued' AND jobs.notBefore <= ? ORDER BY jobs.notBefore, jobs.id LIMIT 1
                """, arguments: [now]) else { return nil }
            let id: Int64 = row["id"]
            try db.execute(sql: "UPDATE jobs SET state = 'running', attempts = attempts + 1, updatedAt = ? WHERE id = ?", arguments: [now, id])
            _ = try LocalLibrary.apply(.converting(progress: 0), sub: row["sub"], id: row["videoId"], db)
            return Job(id: id, videoId: row["videoId"], bucket: row["bucket"], key: row["key"],
                       attempts: (row["attempts"] as Int) + 1, sub: row["sub"])
        }
    }

    struct ConversionFailure: Error {
        var reason: String
        /// Another attempt would fail the same way.
        var permanent = false
    }

    private func process(_ job: Job) async {
        let folder = workFolder.appendingPathComponent("job-\(job.id)")
        try? FileManager.default.removeItem(at: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            guard let object = try await store.object(bucket: job.bucket, key: job.key) else {
                throw ConversionFailure(reason: ConversionFailureReason.missingUpload, permanent: true)
            }
            let input = store.path(object.file)
            log("converting video \(job.videoId) (attempt \(job.attempts))")
            let probe = try await probe(input)
            // Longer than the cap: only its beginning is converted, counted and kept.
            let cutFrom = probe.duration.flatMap { $0 > settings.longestSeconds ? $0 : nil }
            let duration = cutFrom == nil ? probe.duration : settings.longestSeconds
            try await database.write { db in
                try db.execute(sql: "UPDATE videos SET durationSeconds = ? WHERE id = ?", arguments: [duration, job.videoId])
            }
            if let cutFrom {
                log("video \(job.videoId) is \(Int(cutFrom)) s long: only its first \(Int(settings.longestSeconds)) s are converted")
            }
            let output = folder.appendingPathComponent("video.mp4")
            let thumbnail = folder.appendingPathComponent("thumbnail.jpg")
            let ladder = folder.appendingPathComponent("hls")
            try FileManager.default.createDirectory(at: ladder, withIntermediateDirectories: true)
            let renditions = StreamLadder.renditions(sourceWidth: probe.width, sourceHeight: probe.height)
            let mp4Size = ConversionSettings.mp4Size(source: MediaHeader.Size(width: probe.width, height: probe.height))
            try await convert(ConversionSettings.ladderArguments(input: input, mp4: output.path, hlsFolder: ladder.path,
                                                                 hasAudio: probe.hasAudio, renditions: renditions, mp4Size: mp4Size,
                                                                 longestSeconds: settings.longestSeconds),
                              duration: duration, job: job, folder: folder)
            try Data(StreamLadder.masterPlaylist(renditions, hasAudio: probe.hasAudio).utf8)
                .write(to: ladder.appendingPathComponent(StreamLadder.masterName))
            let frameAt = duration.map { min(1.0, $0 / 2) } ?? 0
            try await runTool(settings.ffmpeg, ConversionSettings.thumbnailArguments(input: output.path, output: thumbnail.path, at: frameAt),
                              job: job, folder: folder, progress: nil)
            guard try await stillWanted(job) else { return }
            let keys = VideoRules.mainKeys(sub: job.sub, id: job.videoId)
            _ = try await store.putFile(bucket: LocalVideoHost.mainBucket, key: keys.video, contentType: "video/mp4", from: output)
            _ = try await store.putFile(bucket: LocalVideoHost.mainBucket, key: keys.thumbnail, contentType: "image/jpeg", from: thumbnail)
            try await storeLadder(from: ladder, job: job)
            // The completion event, then the clean-up it triggers.
            let now = Date().timeIntervalSince1970
            let completed = try await database.write { db -> Bool in
                guard try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [job.id]) == "running" else { return false }
                try db.execute(sql: "UPDATE jobs SET state = 'done', pid = NULL, lastError = NULL, updatedAt = ? WHERE id = ?", arguments: [now, job.id])
                // The minutes count once, with the change that made the video ready.
                if try LocalLibrary.apply(.ready(durationSeconds: nil, ladder: true, cutFromSeconds: cutFrom), sub: job.sub, id: job.videoId, db),
                   let seconds = duration, seconds > 0 {
                    try LocalLibrary.addConverted(sub: job.sub, month: UsageLimits.month(of: now), seconds: seconds, db)
                }
                try db.execute(sql: "INSERT INTO events (kind, detail, createdAt) VALUES ('mediaconvert:COMPLETE', ?, ?)",
                               arguments: [job.videoId, now])
                return true
            }
            if completed {
                try await store.delete(bucket: job.bucket, key: job.key)
                log("video \(job.videoId) is ready")
            } else {
                try await store.deleteAll(bucket: LocalVideoHost.mainBucket, prefix: VideoRules.mainPrefix(sub: job.sub, id: job.videoId))
            }
        } catch is CancellationError {
            log("conversion of video \(job.videoId) stopped with the server; it resumes at the next start")
        } catch let failure as ConversionFailure {
            await fail(job, reason: failure.reason, permanent: failure.permanent)
        } catch {
            await fail(job, reason: "The conversion failed: \(error).")
        }
    }

    /// The ladder's files into `videos/<sub>/<id>/hls/`: the media first, the playlists after
    /// them, the master last, so a playlist never names a file not stored yet.
    private func storeLadder(from folder: URL, job: Job) async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted { a, b in
            func rank(_ name: String) -> Int { name == StreamLadder.masterName ? 2 : name.hasSuffix(".m3u8") ? 1 : 0 }
            return (rank(a), a) < (rank(b), b)
        }
        let prefix = StreamLadder.folder(sub: job.sub, id: job.videoId)
        for name in names {
            _ = try await store.putFile(bucket: LocalVideoHost.mainBucket, key: prefix + name,
                                        contentType: StreamLadder.contentType(ofFile: name), from: folder.appendingPathComponent(name))
        }
    }

    /// False when the video was deleted (its job cancelled) while it was converting.
    private func stillWanted(_ job: Job) async throws -> Bool {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [job.id]) == "running"
        }
    }

    private func fail(_ job: Job, reason: String, permanent: Bool = false) async {
        let now = Date().timeIntervalSince1970
        let final = permanent || job.attempts >= settings.maxAttempts
        let delay = settings.backoff.isEmpty ? 1 : settings.backoff[min(job.attempts - 1, settings.backoff.count - 1)]
        do {
            try await database.write { db in
                guard try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [job.id]) == "running" else { return }
                if final {
                    try db.execute(sql: "UPDATE jobs SET state = 'failed', pid = NULL, lastError = ?, updatedAt = ? WHERE id = ?",
                                   arguments: [reason, now, job.id])
                    _ = try LocalLibrary.apply(.failed(reason: reason), sub: job.sub, id: job.videoId, db)
                    try db.execute(sql: "INSERT INTO events (kind, detail, createdAt) VALUES ('mediaconvert:ERROR', ?, ?)",
                                   arguments: ["\(job.videoId): \(reason)", now])
                } else {
                    try db.execute(sql: "UPDATE jobs SET state = 'queued', pid = NULL, lastError = ?, notBefore = ?, updatedAt = ? WHERE id = ?",
                                   arguments: [reason, now + delay, now, job.id])
                }
            }
        } catch {
            log("error: could not record the failure of video \(job.videoId): \(error)")
        }
        log(final ? "video \(job.videoId) failed: \(reason)"
                  : "video \(job.videoId) failed (attempt \(job.attempts) of \(settings.maxAttempts)), retrying in \(Int(delay)) s: \(reason)")
    }

    // MARK: ffprobe and ffmpeg

    struct Probe {
        var duration: Double?
        var hasAudio: Bool
        /// The picture as displayed: rotation and pixel aspect ratio applied.
        var width: Int
        var height: Int
    }

    private func probe(_ input: String) async throws -> Probe {
        let result = try await Subprocess.run(settings.ffprobe, ["-v", "error"] + ConversionSettings.inputRestrictions()
                                              + ["-show_entries", "format=duration:stream=codec_type,width,height,sample_aspect_ratio:stream_tags=rotate:stream_side_data=rotation",
                                                 "-of", "json", input], timeLimit: settings.probeTimeLimit)
        try Task.checkCancellation()
        if result.timedOut {
            throw ConversionFailure(reason: "The video could not be read: reading its header took longer than \(Int(settings.probeTimeLimit)) seconds.",
                                    permanent: true)
        }
        guard result.status == 0 else {
            let detail = Self.lastLine(result.errorOutput, hiding: [input])
            throw ConversionFailure(reason: "No video stream found: the file is not a video that can be read"
                                    + (detail.isEmpty ? "." : " (\(detail))."), permanent: true)
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any] ?? [:]
        let entries = json["streams"] as? [[String: Any]] ?? []
        let streams = entries.compactMap { $0["codec_type"] as? String }
        guard streams.contains("video") else {
            throw ConversionFailure(reason: "No video stream found: the file has \(streams.isEmpty ? "no streams" : "only " + streams.joined(separator: ", ") + " streams").",
                                    permanent: true)
        }
        let duration = ((json["format"] as? [String: Any])?["duration"] as? String).flatMap(Double.init)
        let size = Self.displaySize(entries.first { $0["codec_type"] as? String == "video" } ?? [:])
        return Probe(duration: duration, hasAudio: streams.contains("audio"), width: size.width, height: size.height)
    }

    /// A video stream's size as ffmpeg shows it: the pixel aspect ratio applied to the width, and
    /// width and height swapped for a picture rotated a quarter turn (ffmpeg rotates on decoding).
    static func displaySize(_ stream: [String: Any]) -> (width: Int, height: Int) {
        var width = Double(stream["width"] as? Int ?? 0), height = Double(stream["height"] as? Int ?? 0)
        let aspect = (stream["sample_aspect_ratio"] as? String)?.split(separator: ":").compactMap { Double($0) } ?? []
        if aspect.count == 2, aspect[0] > 0, aspect[1] > 0 { width *= aspect[0] / aspect[1] }
        let sideData = (stream["side_data_list"] as? [[String: Any]] ?? []).compactMap { $0["rotation"] as? Int }
        let rotation = sideData.first ?? ((stream["tags"] as? [String: Any])?["rotate"] as? String).flatMap { Int($0) } ?? 0
        if abs(rotation) % 180 == 90 { swap(&width, &height) }
        return (Int(width.rounded()), Int(height.rounded()))
    }

    /// Runs the conversion's ffmpeg, moving the video's progress on from ffmpeg's own.
    private func convert(_ arguments: [String], duration: Double?, job: Job, folder: URL) async throws {
        var arguments = arguments
        // Recorded without the progress pipe: the command as one would run it by hand.
        let command = ([settings.ffmpeg] + arguments).joined(separator: " ")
        arguments.insert(contentsOf: ["-progress", "pipe:1", "-nostats"], at: 1)
        try await database.write { db in
            try db.execute(sql: "UPDATE jobs SET command = ? WHERE id = ?", arguments: [command, job.id])
        }
        let database = self.database
        let lastWrite = Mutex(Date.distantPast)
        try await runTool(settings.ffmpeg, arguments, job: job, folder: folder, duration: duration) { line in
            guard let duration, duration > 0, line.hasPrefix("out_time_us="),
                  let micros = Double(line.dropFirst("out_time_us=".count)) else { return }
            let due = lastWrite.withLock { last in
                guard Date().timeIntervalSince(last) >= 0.5 else { return false }
                last = Date()
                return true
            }
            guard due else { return }
            let progress = max(0, min(0.99, micros / 1_000_000 / duration))
            _ = try? database.queue.write { db in try LocalLibrary.apply(.converting(progress: progress), sub: job.sub, id: job.videoId, db) }
        }
    }

    private func runTool(_ tool: String, _ arguments: [String], job: Job, folder: URL, duration: Double? = nil,
                         progress: (@Sendable (Substring) -> Void)?) async throws {
        let errorFile = folder.appendingPathComponent("stderr.txt")
        let database = self.database
        let limit = settings.timeLimit(duration)
        let result = try await Subprocess.run(tool, arguments, errorFile: errorFile, timeLimit: limit, started: { pid in
            try? database.queue.write { db in
                try db.execute(sql: "UPDATE jobs SET pid = ? WHERE id = ?", arguments: [pid, job.id])
            }
        }, line: progress)
        // Stopped because the server is stopping: the job stays `running`, and the next start queues it again.
        try Task.checkCancellation()
        if result.timedOut {
            throw ConversionFailure(reason: "The conversion took longer than \(Int(limit / 60)) minutes and was stopped.", permanent: true)
        }
        guard result.status == 0 else {
            let detail = Self.lastLine(result.errorOutput, hiding: [store.root.path, folder.path])
            throw ConversionFailure(reason: "ffmpeg could not convert the video" + (detail.isEmpty ? "." : ": \(detail)."))
        }
    }

    /// The tool's last line of output for a person to read, without our file paths: a line that
    /// begins with a path ("/…/objects/ab12: Invalid data…") keeps only what follows it.
    static func lastLine(_ text: String, hiding paths: [String]) -> String {
        var line = text.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        for path in paths where line.contains(path) {
            if line.hasPrefix(path), let colon = line.range(of: ": ") {
                line = String(line[colon.upperBound...])
            } else {
                line = line.replacingOccurrences(of: path, with: "…")
            }
        }
        return String(line.trimmingCharacters(in: .whitespaces).prefix(300))
    }
}
