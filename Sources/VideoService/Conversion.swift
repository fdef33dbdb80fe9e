#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One conversion: the original in the temporary bucket becomes an H.264/AAC MP4 (index first, so
/// playback starts before the download ends), a JPEG thumbnail and an HLS ladder (`StreamLadder`)
/// under the video's folder in the main bucket.
public struct ConversionJob: Sendable, Equatable {
    public var sub: String
    public var videoId: String
    public var inputBucket: String
    public var inputKey: String
    public var outputBucket: String
    /// The source's displayed size from its container header (`MediaHeader`), when production read
    /// it: MediaConvert's job then asks only for the rungs it can fill. The local cloud probes the
    /// file itself and leaves this nil.
    public var sourceSize: MediaHeader.Size?
    /// The source's duration from the same header, when it states one.
    public var sourceDurationSeconds: Double?
    /// The longest video converted (`UsageLimits.longestMinutes`, in seconds): a source the header
    /// says is longer is cut there. Nil: no cap (tests).
    public var longestSeconds: Double?

    public init(sub: String, videoId: String, inputBucket: String, inputKey: String, outputBucket: String,
                sourceSize: MediaHeader.Size? = nil, sourceDurationSeconds: Double? = nil, longestSeconds: Double? = nil) {
        self.sub = sub
        self.videoId = videoId
        self.inputBucket = inputBucket
        self.inputKey = inputKey
        self.outputBucket = outputBucket
        self.sourceSize = sourceSize
        self.sourceDurationSeconds = sourceDurationSeconds
        self.longestSeconds = longestSeconds
    }

    /// Where the conversion stops when the source is longer than the cap: the cap; nil when the
    /// source fits (or its duration is unknown, or there is no cap).
    public var cutAtSeconds: Double? {
        guard let longestSeconds, let sourceDurationSeconds, sourceDurationSeconds > longestSeconds else { return nil }
        return longestSeconds
    }
}

/// A conversion the converter refuses before starting it, so before it costs anything: the video
/// fails with `reason` (the app words it by its opening, assets/js/library/reason.js).
public struct ConversionRefused: Error, Sendable, Equatable {
    public let reason: String

    public init(reason: String) {
        self.reason = reason
    }

    /// The upload's first bytes are no media container the conversion takes.
    public static let notMedia = ConversionRefused(reason: "No video stream found: the file is not a video container that can be "
        + "converted (its first bytes are none of MP4/MOV, Matroska/WebM, AVI, MPEG-TS, MPEG-PS, FLV, ASF/WMV, Ogg, MXF or DV); "
        + "no conversion was started.")
}

/// Starts conversions: ffmpeg in the local cloud, MediaConvert in production. Submitting the same
/// video twice must not start two conversions. A converter that refuses the input throws
/// `ConversionRefused`. It answers its own id for the conversion (MediaConvert's job id), which the
/// video records for the sweeper (`ConversionSweep`), or nil.
public protocol Converter: Sendable {
    func submit(_ job: ConversionJob) async throws -> String?
}

/// The converter of what only records conversions' ends (the completion handler, the sweeper): it
/// starts none, and a submission to it is a mistake in the code that made it.
public struct NoConverter: Converter {
    public struct Refused: Error, CustomStringConvertible, Sendable {
        public var description: String { "This converter starts no conversion: it only records their ends." }
    }

    public init() {}

    public func submit(_ job: ConversionJob) async throws -> String? {
        throw Refused()
    }
}

/// The conversion's settings, stated once for both converters.
public enum ConversionSettings {
    public static let audioBitrate = 128_000
    public static let thumbnailWidth = 640

    /// The demuxers ffmpeg and ffprobe may use on an upload: media containers only (MP4/MOV/3GP,
    /// Matroska/WebM, AVI, MPEG-TS, MPEG-PS, FLV, ASF/WMV, Ogg, MXF, DV).
    public static let inputFormats = ["mov", "matroska", "avi", "mpegts", "mpeg", "flv", "asf", "ogg", "mxf", "dv"]

    /// The options that go before every `-i`: the input is read from its file and nothing else.
    /// ffmpeg picks a demuxer by content, whatever the file's name, and some demuxers open what
    /// the file names: an HLS playlist uploaded as `clip.mp4` would have it read other local files
    /// (another user's upload, the data folder's keys) into the conversion. So only the `file`
    /// protocol, and only the demuxers of `inputFormats`.
    public static func inputRestrictions() -> [String] {
        ["-protocol_whitelist", "file", "-format_whitelist", inputFormats.joined(separator: ",")]
    }

    /// How long the local cloud lets one ffmpeg run take: four times the input's duration, and at
    /// least half an hour (a damaged file whose duration is unknown gets the half hour). A run past it
    /// is killed and the video fails, so a file built to make ffmpeg spin cannot hold a worker forever.
    public static func timeLimit(durationSeconds: Double?) -> Double {
        max(30 * 60, 4 * (durationSeconds ?? 0))
    }

    /// The largest MP4 the conversion writes: 1080p either way up (1920×1080, or 1080×1920 for a
    /// portrait video), the ladder's top rung. A larger source is scaled down to fit.
    public static let largestMP4 = MediaHeader.Size(width: 1920, height: 1080)

    /// The MP4's size for a source shown at `source` (rotation and pixel aspect applied): nil when it
    /// fits 1080p as it is (or its size is unknown), else the source scaled down to fit, sides even.
    public static func mp4Size(source: MediaHeader.Size?) -> MediaHeader.Size? {
        guard let source, source.width > 0, source.height > 0 else { return nil }
        let long = max(source.width, source.height), short = min(source.width, source.height)
        guard long > largestMP4.width || short > largestMP4.height else { return nil }
        let scale = min(Double(largestMP4.width) / Double(long), Double(largestMP4.height) / Double(short))
        func even(_ side: Int) -> Int { max(2, Int((Double(side) * scale / 2).rounded(.down)) * 2) }
        return MediaHeader.Size(width: even(source.width), height: even(source.height))
    }

    /// ffmpeg's arguments for the MP4: H.264 + AAC with the index first (`+faststart`).
    public static func ffmpegArguments(input: String, output: String, hasAudio: Bool) -> [String] {
        var arguments = ["-nostdin", "-v", "error", "-y"] + inputRestrictions() + ["-i", input, "-map", "0:v:0"]
        if hasAudio { arguments += ["-map", "0:a:0"] }
        return arguments + mp4Encoding(hasAudio: hasAudio) + [output]
    }

    /// The MP4's codecs and layout, as the options of its output.
    static func mp4Encoding(hasAudio: Bool) -> [String] {
        ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
            + (hasAudio ? ["-c:a", "aac", "-b:a", "\(audioBitrate / 1000)k"] : []) + ["-movflags", "+faststart"]
    }

    /// ffmpeg's arguments for the thumbnail: one frame at `seconds`, at most 640 pixels wide.
    public static func thumbnailArguments(input: String, output: String, at seconds: Double) -> [String] {
        return ["-nostdin", "-v", "error", "-y", "-ss", decimalSeconds(seconds)] + inputRestrictions() + ["-i", input,
         "-frames:v", "1", "-vf", "scale='min(\(thumbnailWidth),iw)':-2", "-q:v", "4", output]
    }

    /// The user metadata key that says a job writes the HLS ladder; its value names the
    /// renditions (`360p,480p`). The completion events hand the metadata back, so a video records
    /// a ladder only when its job made one (jobs submitted before the ladder have no such key).
    public static let ladderMetadataKey = "hls"
    /// The user metadata key of a job that converts only the beginning of a longer source: the
    /// source's duration in seconds, which the completion records (`VideoRecord.cutFromSeconds`).
    public static let cutMetadataKey = "cutFrom"

    /// ffmpeg's input option that stops reading at the longest-duration cap (`-t` before `-i`):
    /// a shorter input is read whole. Empty without a cap.
    public static func longestInput(seconds: Double?) -> [String] {
        guard let seconds, seconds > 0 else { return [] }
        return ["-t", decimalSeconds(seconds)]
    }

    /// Seconds as ffmpeg's options take them, to the millisecond: `12.345`.
    static func decimalSeconds(_ seconds: Double) -> String {
        let millis = Int((max(0, seconds) * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// A ZEROBASED timecode for MediaConvert's input clipping, `HH:MM:SS:FF`: whole seconds, frame 0.
    static func timecode(seconds: Double) -> String {
        let total = max(0, Int(seconds.rounded(.down)))
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(total / 3600)):\(two(total / 60 % 60)):\(two(total % 60)):00"
    }

    /// The body of MediaConvert's `CreateJob` (its JSON wire names): the same MP4, thumbnail and
    /// HLS ladder (`mediaConvertLadderGroup`, its rungs chosen from `job.sourceSize`).
    /// The video id is the idempotency token, so a repeated S3 event cannot start a second job;
    /// the user metadata carries the ids, which the completion events hand back, and the ladder's
    /// renditions (`ladderMetadataKey`). MediaConvert turns a picture upright only when asked
    /// (`rotate` `AUTO`, from an MP4's or MOV's matrix), as ffmpeg does by default.
    /// The MP4's video in a MediaConvert job: at the source's size when it fits 1080p, scaled down to
    /// `mp4Size` when it does not, and fitted into 1920×1080 without upscaling when the header gave
    /// no size (so nothing above 1080p is ever written).
    static func mp4VideoDescription(sourceSize: MediaHeader.Size?) -> JSONValue {
        var description: [String: JSONValue] = [
            "codecSettings": ["codec": "H_264", "h264Settings": [
                "rateControlMode": "QVBR", "qvbrSettings": ["qvbrQualityLevel": 7], "maxBitrate": 8_000_000,
                "codecProfile": "HIGH", "sceneChangeDetect": "TRANSITION_DETECTION",
            ]],
        ]
        if let size = mp4Size(source: sourceSize) {
            description["width"] = .integer(Int64(size.width))
            description["height"] = .integer(Int64(size.height))
            description["scalingBehavior"] = "DEFAULT"
        } else if sourceSize == nil {
            description["width"] = .integer(Int64(largestMP4.width))
            description["height"] = .integer(Int64(largestMP4.height))
            description["scalingBehavior"] = "FIT_NO_UPSCALE"
        }
        return .object(description)
    }

    public static func mediaConvertJob(_ job: ConversionJob, role: String, queue: String?) -> JSONValue {
        let renditions = mediaConvertRenditions(sourceSize: job.sourceSize)
        let folder = "s3://\(job.outputBucket)/\(VideoRules.mainPrefix(sub: job.sub, id: job.videoId))"
        let video: JSONValue = [
            "extension": "mp4",
            "containerSettings": ["container": "MP4", "mp4Settings": ["moovPlacement": "PROGRESSIVE_DOWNLOAD"]],
            "videoDescription": mp4VideoDescription(sourceSize: job.sourceSize),
            "audioDescriptions": [mediaConvertAudio],
        ]
        let thumbnail: JSONValue = [
            "extension": "jpg",
            "containerSettings": ["container": "RAW"],
            "videoDescription": [
                "width": .integer(Int64(thumbnailWidth)), "scalingBehavior": "DEFAULT",
                "codecSettings": ["codec": "FRAME_CAPTURE", "frameCaptureSettings": [
                    "framerateNumerator": 1, "framerateDenominator": 1, "maxCaptures": 1, "quality": 80,
                ]],
            ],
        ]
        func group(_ name: String, _ base: String, _ output: JSONValue) -> JSONValue {
            ["name": .string(name),
             "outputGroupSettings": ["type": "FILE_GROUP_SETTINGS", "fileGroupSettings": ["destination": .string(folder + base)]],
             "outputs": [output]]
        }
        var metadata: [String: JSONValue] = ["videoId": .string(job.videoId), "sub": .string(job.sub),
                                             ladderMetadataKey: .string(renditions.map { "\($0.rung.height)p" }.joined(separator: ","))]
        var input: [String: JSONValue] = [
            "fileInput": .string("s3://\(job.inputBucket)/\(job.inputKey)"),
            "timecodeSource": "ZEROBASED",
            "videoSelector": ["rotate": "AUTO"],
            "audioSelectors": ["Audio Selector 1": ["defaultSelection": "DEFAULT"]],
        ]
        // Longer than the cap by its header: only the beginning is converted (and paid for).
        if let cut = job.cutAtSeconds, let source = job.sourceDurationSeconds {
            input["inputClippings"] = [["endTimecode": .string(timecode(seconds: cut))]]
            metadata[cutMetadataKey] = .string(String(source))
        }
        var body: [String: JSONValue] = [
            "role": .string(role),
            "clientRequestToken": .string(job.videoId),
            "userMetadata": .object(metadata),
            "statusUpdateInterval": "SECONDS_10",
            "settings": [
                "timecodeConfig": ["source": "ZEROBASED"],
                "inputs": [.object(input)],
                "outputGroups": [group("Video", "video", video), group("Thumbnail", "thumbnail", thumbnail),
                                 mediaConvertLadderGroup(destination: "s3://\(job.outputBucket)/"
                                                         + StreamLadder.folder(sub: job.sub, id: job.videoId) + "index",
                                                         renditions: renditions)],
            ],
        ]
        if let queue { body["queue"] = .string(queue) }
        return .object(body)
    }
}

/// Why a conversion failed, in words a person understands (the code stays in brackets for support).
public enum ConversionFailureReason {
    public static let missingUpload = "The uploaded file is missing; upload it again."

    /// A MediaConvert job error: its code (see MediaConvert's error code list) and message.
    public static func mediaConvert(code: Int?, message: String?) -> String {
        let sentence: String
        switch code ?? 0 {
        case 1010: sentence = "The file could not be opened: it may be damaged, or in a format that cannot be converted."
        case 1020...1099: sentence = "The video could not be read: the file may be damaged, or its format or codec is not supported."
        case 1401...1499: sentence = "The uploaded file could not be read from storage; upload it again."
        case 1500...1699: sentence = "The video's settings could not be converted (its size, frame rate or audio are not supported)."
        case 3400...3499: sentence = "The converted video could not be stored; please try again later."
        default: sentence = "The conversion failed on our side; please try again later."
        }
        let detail = (message ?? "").replacing("\n", with: " ").prefix(200)
        let code = code.map { "MediaConvert error \($0)" } ?? "MediaConvert error"
        return sentence + " (" + code + (detail.isEmpty ? "" : ": \(detail)") + ")"
    }
}

/// What happens to a video between its upload and its playback, on either host: the S3 event asks
/// for a conversion, and the converter's events move the video to `ready` or `failed`. Every step
/// is safe to repeat and to receive late.
public struct ConversionEvents: Sendable {
    let library: any VideoLibrary
    let storage: any VideoStorage
    let converter: any Converter
    /// The user's limits, checked before a conversion starts; nil: none (tests).
    let usage: UsagePolicy?
    let log: @Sendable (String) -> Void

    public init(library: any VideoLibrary, storage: any VideoStorage, converter: any Converter, usage: UsagePolicy? = nil,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.library = library
        self.storage = storage
        self.converter = converter
        self.usage = usage
        self.log = log
    }

    public enum Outcome: Equatable, Sendable {
        case submitted, ignored(String), refused(String)
    }

    /// An object was created in the temporary bucket. The conversion is submitted before the video
    /// is marked `queued`: a crash in between is repaired by the event's redelivery, since the
    /// converter takes the same video only once.
    public func objectCreated(bucket: String, key: String) async throws -> Outcome {
        guard bucket == storage.tempBucket else { return .ignored("not the temporary bucket") }
        guard let upload = VideoRules.parseUploadKey(key) else { return .ignored("not an upload key") }
        guard let video = try await library.video(sub: upload.sub, id: upload.videoId), video.uploadKey == key else {
            return .ignored("no such video (deleted?)")
        }
        guard video.status == .uploading || video.status == .queued else { return .ignored("already \(video.status.rawValue)") }
        let jobId: String?
        do {
            // Once, before the first submission: a redelivery while queued may find its job running.
            if video.status == .uploading { try await checkLimits(video) }
            // The deployment's, everyone's (no user's override changes it): no read for it.
            let longest = usage?.defaults.longestSeconds
            jobId = try await converter.submit(ConversionJob(sub: upload.sub, videoId: upload.videoId, inputBucket: bucket,
                                                             inputKey: key, outputBucket: storage.mainBucket, longestSeconds: longest))
        } catch let refused as ConversionRefused {
            // Uploaded, then settled: the status machine fails only what reached the queue.
            _ = try await library.apply(.queued(), sub: upload.sub, id: upload.videoId)
            try await failed(sub: upload.sub, id: upload.videoId, reason: refused.reason)
            return .refused(refused.reason)
        }
        _ = try await library.apply(.queued(jobId: jobId), sub: upload.sub, id: upload.videoId)
        log("video \(upload.videoId): conversion submitted")
        return .submitted
    }

    /// Refuses the conversion of a video that takes its owner past a limit: its size (a single PUT's
    /// first check after the upload request) with their other videos, or this month's converted
    /// minutes, already spent. The video fails with the limit's sentence.
    private func checkLimits(_ video: VideoRecord) async throws {
        guard let usage else { return }
        let used = try await usage.usage(sub: video.sub, videos: try await library.videos(sub: video.sub).filter { $0.id != video.id })
        let limits = try await usage.limits(sub: video.sub)
        if let refusal = LimitExceeded.forStoredBytes(video.sizeBytes, storedBefore: used.storedBytes, limits: limits)
            ?? LimitExceeded.forConversion(usage: used, limits: limits) {
            throw ConversionRefused(reason: refusal.message)
        }
    }

    /// Progress from 0 to 100; ignored when it would move the video back.
    @discardableResult
    public func progress(sub: String, id: String, percent: Double) async throws -> Bool {
        try await library.apply(.converting(progress: max(0, min(0.99, percent / 100))), sub: sub, id: id)
    }

    /// The conversion finished: the video is ready (with an HLS ladder when the conversion made
    /// one: `ladder`; cut from a source `cutFromSeconds` long at the longest-duration cap) and the
    /// original leaves the temporary bucket.
    @discardableResult
    public func completed(sub: String, id: String, durationSeconds: Double?, ladder: Bool, cutFromSeconds: Double? = nil) async throws -> Bool {
        let video = try await library.video(sub: sub, id: id)
        let applied = try await library.apply(.ready(durationSeconds: durationSeconds, ladder: ladder, cutFromSeconds: cutFromSeconds),
                                              sub: sub, id: id)
        // Deleted meanwhile: remove what the conversion wrote, the ladder included.
        guard let video else {
            try await storage.deleteConverted(sub: sub, id: id)
            return false
        }
        if applied || video.status == .ready {
            try await storage.delete(bucket: storage.tempBucket, key: video.uploadKey)
        }
        if applied {
            log("video \(id) is ready")
            // Counted once: only the change that made the video ready adds its minutes.
            if let usage, let durationSeconds, durationSeconds > 0 {
                try await usage.ledger.addConverted(sub: sub, month: UsageLimits.month(of: Date().timeIntervalSince1970), seconds: durationSeconds)
            }
        }
        return applied
    }

    @discardableResult
    public func failed(sub: String, id: String, reason: String) async throws -> Bool {
        let applied = try await library.apply(.failed(reason: reason), sub: sub, id: id)
        if applied { log("video \(id) failed: \(reason)") }
        return applied
    }
}
