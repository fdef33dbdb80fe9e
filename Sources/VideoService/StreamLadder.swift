#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One rung of the HLS ladder: an H.264 rendition at a fixed height, peak bitrate and profile, so
/// the master playlist's `CODECS` are known constants.
public struct LadderRung: Sendable, Equatable {
    /// The rung's name and its nominal height (`720` → `index_720p.m3u8`).
    public var height: Int
    /// The peak video bitrate (ffmpeg's `-maxrate`, MediaConvert's `maxBitrate`), bits per second.
    public var maxBitrate: Int
    public var profile: Profile
    /// The H.264 level, as ffmpeg writes it (`"3.1"`) and as the CODECS string encodes it (31).
    public var level: Int

    public enum Profile: String, Sendable {
        case main, high

        /// `profile_idc` and the constraint flags of the CODECS string (`avc1.PPCCLL`).
        var codecsPrefix: String { self == .high ? "6400" : "4d40" }
        var mediaConvert: String { self == .high ? "HIGH" : "MAIN" }
    }

    /// `avc1.64001f`: RFC 6381's name of the profile and level.
    public var codecs: String {
        let hex = String(level, radix: 16)
        return "avc1." + profile.codecsPrefix + (hex.count < 2 ? "0" : "") + hex
    }

    /// `3.1`, for ffmpeg's `-level`.
    public var levelName: String { "\(level / 10).\(level % 10)" }

    /// `LEVEL_3_1`, for MediaConvert's `codecLevel`.
    public var mediaConvertLevel: String { "LEVEL_\(level / 10)_\(level % 10)" }
}

/// A rendition of one video: its rung, and the size the source scales to at that height.
public struct Rendition: Sendable, Equatable {
    public var rung: LadderRung
    public var width: Int
    public var height: Int

    /// `720p`: the name in the rendition's files (`index_720p.m3u8`, `index_720p.cmfv`).
    public var name: String { "\(height)p" }
}

/// The HLS ladder every upload gets beside its MP4: the rungs, which of them a source gets, the
/// layout under `videos/<sub>/<id>/hls/`, and the master playlist. The player relies on the
/// layout: `index.m3u8` (master), `index_<H>p.m3u8` + `index_<H>p.cmfv` per video rendition,
/// `index_audio.m3u8` + `index_audio.cmfa` for the sound; every URI in them relative.
public enum StreamLadder {
    /// Highest first. Levels allow 60 frames a second at each size.
    public static let rungs: [LadderRung] = [
        LadderRung(height: 1080, maxBitrate: 5_000_000, profile: .high, level: 42),
        LadderRung(height: 720, maxBitrate: 2_800_000, profile: .high, level: 32),
        LadderRung(height: 480, maxBitrate: 1_200_000, profile: .main, level: 31),
        LadderRung(height: 360, maxBitrate: 700_000, profile: .main, level: 31),
    ]

    /// Each segment's length: every rendition has a keyframe every this many seconds, and no other.
    public static let segmentSeconds = 2
    /// `-hls_time`'s and the audio's codec string.
    public static let audioCodecs = "mp4a.40.2"
    public static let audioGroup = "audio"

    /// The folder of a video's ladder in the main bucket.
    public static func folder(sub: String, id: String) -> String { VideoRules.mainPrefix(sub: sub, id: id) + "hls/" }
    /// The master playlist's key.
    public static func masterKey(sub: String, id: String) -> String { folder(sub: sub, id: id) + masterName }

    public static let masterName = "index.m3u8"
    public static let audioPlaylist = "index_audio.m3u8"
    public static let audioFile = "index_audio.cmfa"
    public static func playlist(_ rendition: Rendition) -> String { "index_\(rendition.name).m3u8" }
    public static func mediaFile(_ rendition: Rendition) -> String { "index_\(rendition.name).cmfv" }

    /// The renditions of a source `width`×`height` (as displayed: rotation and pixel aspect
    /// applied), lowest first: every rung not above the source's height, or, for a source below
    /// the lowest rung, one rendition at its own height. Sizes are even, as H.264 in 4:2:0 needs.
    public static func renditions(sourceWidth: Int, sourceHeight: Int) -> [Rendition] {
        let width = max(2, sourceWidth), height = max(2, sourceHeight)
        func scaled(_ target: Int, _ rung: LadderRung) -> Rendition {
            let even = max(2, target - target % 2)
            let w = Int((Double(width) * Double(even) / Double(height) / 2).rounded()) * 2
            return Rendition(rung: rung, width: max(2, w), height: even)
        }
        let fitting = rungs.filter { $0.height <= height }
        guard !fitting.isEmpty else { return [scaled(height, rungs[rungs.count - 1])] }
        return fitting.reversed().map { scaled($0.height, $0) }
    }

    /// What a player announces for a rendition: its peak video bitrate plus the sound's.
    public static func bandwidth(_ rendition: Rendition, hasAudio: Bool) -> Int {
        rendition.rung.maxBitrate + (hasAudio ? ConversionSettings.audioBitrate : 0)
    }

    /// The master playlist: the sound as one audio group (when there is sound), then each video
    /// rendition, lowest first, with its peak bandwidth, size and codecs.
    public static func masterPlaylist(_ renditions: [Rendition], hasAudio: Bool) -> String {
        var lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
        if hasAudio {
            lines.append("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"\(audioGroup)\",NAME=\"Audio\",DEFAULT=YES,AUTOSELECT=YES,URI=\"\(audioPlaylist)\"")
        }
        for rendition in renditions.sorted(by: { $0.height < $1.height }) {
            let codecs = [rendition.rung.codecs] + (hasAudio ? [audioCodecs] : [])
            lines.append("#EXT-X-STREAM-INF:BANDWIDTH=\(bandwidth(rendition, hasAudio: hasAudio)),"
                         + "RESOLUTION=\(rendition.width)x\(rendition.height),CODECS=\"\(codecs.joined(separator: ","))\""
                         + (hasAudio ? ",AUDIO=\"\(audioGroup)\"" : ""))
            lines.append(playlist(rendition))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The content type each file of the ladder is stored with.
    public static func contentType(ofFile name: String) -> String {
        if name.hasSuffix(".m3u8") { return "application/vnd.apple.mpegurl" }
        if name.hasSuffix(".cmfa") { return "audio/mp4" }
        return "video/mp4"
    }
}

extension ConversionSettings {
    /// ffmpeg's arguments for the whole conversion in one run: the MP4 (as `ffmpegArguments`
    /// makes it) and, from the same decoded frames (`split`, then `scale` per rendition), each
    /// rendition of the ladder and the sound as CMAF in one file each, cut into 2-second segments
    /// at keyframes forced every 2 seconds in every rendition (no scene-cut keyframes), so the
    /// segments of all renditions line up. ffmpeg's own master playlist is not used: the master
    /// is `StreamLadder.masterPlaylist`, written beside these files into `hlsFolder`.
    /// `mp4Size`: the MP4's size when the source is larger than 1080p (`mp4Size(source:)`), else nil.
    /// `longestSeconds`: the longest-duration cap; ffmpeg reads no further into the input.
    public static func ladderArguments(input: String, mp4: String, hlsFolder: String, hasAudio: Bool,
                                       renditions: [Rendition], mp4Size: MediaHeader.Size? = nil, longestSeconds: Double? = nil) -> [String] {
        let folder = hlsFolder.hasSuffix("/") ? hlsFolder : hlsFolder + "/"
        var graph = "[0:v:0]split=\(renditions.count + 1)[\(mp4Size == nil ? "mp4" : "m")]" + renditions.indices.map { "[s\($0)]" }.joined()
        if let mp4Size { graph += ";[m]scale=\(mp4Size.width):\(mp4Size.height),setsar=1[mp4]" }
        for (index, rendition) in renditions.enumerated() {
            graph += ";[s\(index)]scale=\(rendition.width):\(rendition.height),setsar=1[r\(index)]"
        }
        var arguments = ["-nostdin", "-v", "error", "-y"] + inputRestrictions() + longestInput(seconds: longestSeconds)
            + ["-i", input, "-filter_complex", graph]
        arguments += ["-map", "[mp4]"] + (hasAudio ? ["-map", "0:a:0"] : []) + mp4Encoding(hasAudio: hasAudio) + [mp4]
        let segment = String(StreamLadder.segmentSeconds)
        func hls(_ playlist: String, _ file: String) -> [String] {
            ["-f", "hls", "-hls_time", segment, "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
             "-hls_flags", "single_file+independent_segments", "-hls_segment_filename", folder + file, folder + playlist]
        }
        for (index, rendition) in renditions.enumerated() {
            let rate = rendition.rung.maxBitrate / 1000
            arguments += ["-map", "[r\(index)]", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                          "-maxrate", "\(rate)k", "-bufsize", "\(rate)k", "-profile:v", rendition.rung.profile.rawValue,
                          "-level", rendition.rung.levelName, "-pix_fmt", "yuv420p",
                          "-force_key_frames", "expr:gte(t,n_forced*\(segment))", "-sc_threshold", "0"]
            arguments += hls(StreamLadder.playlist(rendition), StreamLadder.mediaFile(rendition))
        }
        if hasAudio {
            arguments += ["-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", "\(audioBitrate / 1000)k", "-ac", "2"]
            arguments += hls(StreamLadder.audioPlaylist, StreamLadder.audioFile)
        }
        return arguments
    }

    /// The renditions MediaConvert's job asks for. With the source's displayed size known, those
    /// `StreamLadder.renditions` chooses, as the local cloud does; a source below the lowest rung
    /// gets its one rendition under that rung's name, so the ladder's files stay among the fixed
    /// keys of `mediaConvertOutputKeys`. With the size unknown (a container the header reader
    /// does not know, or a header it could not read), every rung at 16:9, each encoded with
    /// `FIT_NO_UPSCALE`: a rung above the source comes out at the source's size, under its name.
    public static func mediaConvertRenditions(sourceSize: MediaHeader.Size?) -> [Rendition] {
        guard let sourceSize, sourceSize.width > 0, sourceSize.height > 0 else {
            return StreamLadder.rungs.reversed().map { Rendition(rung: $0, width: ($0.height * 16 / 9 + 1) / 2 * 2, height: $0.height) }
        }
        // MediaConvert takes sizes from 32 to 8192 pixels a side.
        func fit(_ side: Int) -> Int { min(8192, max(32, side)) }
        return StreamLadder.renditions(sourceWidth: sourceSize.width, sourceHeight: sourceSize.height).map {
            Rendition(rung: $0.rung, width: fit($0.width), height: fit($0.height))
        }
    }

    /// The MediaConvert output group of the ladder: CMAF, one file per rendition with byte
    /// ranges, 2-second segments on a fixed 2-second GOP, and the HLS manifests only. Keyframes
    /// stay on the cadence in every rendition: scene-change detection is off, and `minIInterval`
    /// 0 is MediaConvert's setting for IDR frames only at the start of each cadence GOP. Each
    /// rendition (`mediaConvertRenditions`) is named for its rung and never scaled up
    /// (`FIT_NO_UPSCALE`), whatever the header said.
    static func mediaConvertLadderGroup(destination: String, renditions: [Rendition]) -> JSONValue {
        let videos: [JSONValue] = renditions.map { rendition in
            let rung = rendition.rung
            return [
                "nameModifier": .string("_\(rung.height)p"),
                "containerSettings": ["container": "CMFC", "cmfcSettings": ["audioRenditionSets": .string(StreamLadder.audioGroup)]],
                "videoDescription": [
                    "width": .integer(Int64(rendition.width)), "height": .integer(Int64(rendition.height)),
                    "scalingBehavior": "FIT_NO_UPSCALE",
                    "codecSettings": ["codec": "H_264", "h264Settings": [
                        "rateControlMode": "QVBR", "qvbrSettings": ["qvbrQualityLevel": 7],
                        "maxBitrate": .integer(Int64(rung.maxBitrate)),
                        "codecProfile": .string(rung.profile.mediaConvert), "codecLevel": .string(rung.mediaConvertLevel),
                        "gopSize": .number(Double(StreamLadder.segmentSeconds)), "gopSizeUnits": "SECONDS",
                        "gopClosedCadence": 1, "minIInterval": 0, "sceneChangeDetect": "DISABLED",
                    ]],
                ],
            ]
        }
        let audio: JSONValue = [
            "nameModifier": "_audio",
            "containerSettings": ["container": "CMFC", "cmfcSettings": [
                "audioGroupId": .string(StreamLadder.audioGroup), "audioTrackType": "ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT",
            ]],
            "audioDescriptions": [mediaConvertAudio],
        ]
        return [
            "name": "Stream",
            "outputGroupSettings": ["type": "CMAF_GROUP_SETTINGS", "cmafGroupSettings": [
                "destination": .string(destination), "segmentControl": "SINGLE_FILE",
                "segmentLength": .integer(Int64(StreamLadder.segmentSeconds)),
                "fragmentLength": .integer(Int64(StreamLadder.segmentSeconds)), "segmentLengthControl": "GOP_MULTIPLE",
                "writeDashManifest": "DISABLED", "writeHlsManifest": "ENABLED", "manifestDurationFormat": "FLOATING_POINT",
                "streamInfResolution": "INCLUDE", "codecSpecification": "RFC_6381",
            ]],
            "outputs": .array(videos + [audio]),
        ]
    }

    /// Every key MediaConvert's job may write for a video: the MP4, the thumbnail, every rung of
    /// the ladder (a job asks for those the source can fill, `mediaConvertRenditions`, always under
    /// a rung's name), the sound and the master.
    public static func mediaConvertOutputKeys(sub: String, id: String) -> [String] {
        let main = VideoRules.mainKeys(sub: sub, id: id)
        let folder = StreamLadder.folder(sub: sub, id: id)
        let renditions = StreamLadder.rungs.map { "index_\($0.height)p" } + ["index_audio"]
        return [main.video, main.thumbnail] + renditions.flatMap { name in
            [folder + name + ".m3u8", folder + name + (name == "index_audio" ? ".cmfa" : ".cmfv")]
        } + [StreamLadder.masterKey(sub: sub, id: id)]
    }

    /// The sound of every output: AAC stereo at `audioBitrate`.
    static var mediaConvertAudio: JSONValue {
        ["audioSourceName": "Audio Selector 1",
         "codecSettings": ["codec": "AAC", "aacSettings": [
             "bitrate": .integer(Int64(audioBitrate)), "codingMode": "CODING_MODE_2_0", "sampleRate": 48_000,
         ]]]
    }
}
