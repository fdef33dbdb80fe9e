import Foundation
import Testing
@testable import VideoService

@Suite("The HLS ladder")
struct StreamLadderTests {
    func sizes(_ width: Int, _ height: Int) -> [String] {
        StreamLadder.renditions(sourceWidth: width, sourceHeight: height).map { "\($0.width)x\($0.height)" }
    }

    @Test("a source gets every rung up to its height, lowest first, never above it")
    func rungsPerHeight() {
        #expect(sizes(3840, 2160) == ["640x360", "854x480", "1280x720", "1920x1080"])
        #expect(sizes(1920, 1080) == ["640x360", "854x480", "1280x720", "1920x1080"])
        #expect(sizes(1280, 720) == ["640x360", "854x480", "1280x720"])
        #expect(sizes(1000, 719) == ["500x360", "668x480"])
        #expect(sizes(854, 480) == ["640x360", "854x480"])
        #expect(sizes(640, 360) == ["640x360"])
        // 4:3 and portrait keep their shape; widths are even.
        #expect(sizes(640, 480) == ["480x360", "640x480"])
        #expect(sizes(1080, 1920) == ["202x360", "270x480", "406x720", "608x1080"])
    }

    @Test("a source below the lowest rung gets one rendition at its own height, even-rounded")
    func small() {
        #expect(sizes(320, 240) == ["320x240"])
        #expect(sizes(321, 241) == ["320x240"])
        #expect(sizes(176, 144) == ["176x144"])
        let only = StreamLadder.renditions(sourceWidth: 320, sourceHeight: 240)
        #expect(only.count == 1 && only[0].name == "240p" && only[0].rung.height == 360)
        #expect(StreamLadder.playlist(only[0]) == "index_240p.m3u8" && StreamLadder.mediaFile(only[0]) == "index_240p.cmfv")
    }

    @Test("each rung's profile and level give a fixed CODECS string")
    func codecs() {
        #expect(StreamLadder.rungs.map(\.codecs) == ["avc1.64002a", "avc1.640020", "avc1.4d401f", "avc1.4d401f"])
        #expect(StreamLadder.rungs.map(\.levelName) == ["4.2", "3.2", "3.1", "3.1"])
        #expect(StreamLadder.rungs.map(\.mediaConvertLevel) == ["LEVEL_4_2", "LEVEL_3_2", "LEVEL_3_1", "LEVEL_3_1"])
        #expect(StreamLadder.rungs.map(\.maxBitrate) == [5_000_000, 2_800_000, 1_200_000, 700_000])
    }

    @Test("the master playlist: the audio group, then every rendition lowest first with bandwidth, size and codecs")
    func master() {
        let renditions = StreamLadder.renditions(sourceWidth: 1280, sourceHeight: 720)
        #expect(StreamLadder.masterPlaylist(renditions.reversed(), hasAudio: true) == """
            #EXTM3U
            #EXT-X-VERSION:7
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,URI="index_audio.m3u8"
            #EXT-X-STREAM-INF:BANDWIDTH=828000,RESOLUTION=640x360,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="audio"
            index_360p.m3u8
            #EXT-X-STREAM-INF:BANDWIDTH=1328000,RESOLUTION=854x480,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="audio"
            index_480p.m3u8
            #EXT-X-STREAM-INF:BANDWIDTH=2928000,RESOLUTION=1280x720,CODECS="avc1.640020,mp4a.40.2",AUDIO="audio"
            index_720p.m3u8

            """)
        #expect(StreamLadder.masterPlaylist([renditions[0]], hasAudio: false) == """
            #EXTM3U
            #EXT-X-VERSION:7
            #EXT-X-INDEPENDENT-SEGMENTS
            #EXT-X-STREAM-INF:BANDWIDTH=700000,RESOLUTION=640x360,CODECS="avc1.4d401f"
            index_360p.m3u8

            """)
    }

    @Test("the layout: a folder under the video's, relative names, content types")
    func layout() {
        #expect(StreamLadder.masterKey(sub: alice, id: "abcdefghijklmnopqrstuvwxya") == "videos/\(alice)/abcdefghijklmnopqrstuvwxya/hls/index.m3u8")
        #expect(StreamLadder.contentType(ofFile: "index.m3u8") == "application/vnd.apple.mpegurl")
        #expect(StreamLadder.contentType(ofFile: "index_720p.cmfv") == "video/mp4")
        #expect(StreamLadder.contentType(ofFile: "index_audio.cmfa") == "audio/mp4")
    }

    @Test("ffmpeg: one run, the MP4 as before, each rendition scaled from one decode, keyframes every 2 s only")
    func ffmpeg() throws {
        let renditions = StreamLadder.renditions(sourceWidth: 1280, sourceHeight: 720)
        let arguments = ConversionSettings.ladderArguments(input: "in.mov", mp4: "/w/video.mp4", hlsFolder: "/w/hls", hasAudio: true,
                                                           renditions: renditions)
        #expect(arguments.filter { $0 == "-i" }.count == 1)
        let input = try #require(arguments.firstIndex(of: "-i"))
        #expect(arguments[..<input].suffix(4) == ["-protocol_whitelist", "file", "-format_whitelist", ConversionSettings.inputFormats.joined(separator: ",")])
        let graph = try #require(arguments.firstIndex(of: "-filter_complex").map { arguments[$0 + 1] })
        #expect(graph == "[0:v:0]split=4[mp4][s0][s1][s2];[s0]scale=640:360,setsar=1[r0];[s1]scale=854:480,setsar=1[r1];[s2]scale=1280:720,setsar=1[r2]")
        // The MP4 has exactly the single-MP4 command's encoding.
        let single = ConversionSettings.ffmpegArguments(input: "in.mov", output: "/w/video.mp4", hasAudio: true)
        let mp4 = try #require(arguments.firstIndex(of: "[mp4]"))
        #expect(Array(arguments[(mp4 + 1)...].prefix(while: { $0 != "/w/video.mp4" })) + ["/w/video.mp4"]
                == ["-map", "0:a:0"] + Array(single[(single.firstIndex(of: "0:a:0")! + 1)...]))
        for (index, rendition) in renditions.enumerated() {
            let start = try #require(arguments.firstIndex(of: "[r\(index)]"))
            let options = Array(arguments[start...].prefix(while: { $0 != "/w/hls/" + StreamLadder.playlist(rendition) }))
            let pairs = Dictionary(options.indices.dropLast().filter { options[$0].hasPrefix("-") && !options[$0 + 1].hasPrefix("-") }
                .map { (options[$0], options[$0 + 1]) }, uniquingKeysWith: { a, _ in a })
            #expect(pairs["-maxrate"] == "\(rendition.rung.maxBitrate / 1000)k")
            #expect(pairs["-profile:v"] == rendition.rung.profile.rawValue && pairs["-level"] == rendition.rung.levelName)
            #expect(pairs["-force_key_frames"] == "expr:gte(t,n_forced*2)" && pairs["-sc_threshold"] == "0")
            #expect(pairs["-hls_time"] == "2" && pairs["-hls_segment_type"] == "fmp4" && pairs["-hls_playlist_type"] == "vod")
            #expect(pairs["-hls_flags"] == "single_file+independent_segments")
            #expect(pairs["-hls_segment_filename"] == "/w/hls/index_\(rendition.height)p.cmfv")
            #expect(options.contains("-an"))
        }
        let audio = try #require(arguments.firstIndex(of: "/w/hls/index_audio.cmfa"))
        #expect(arguments[audio + 1] == "/w/hls/index_audio.m3u8" && audio + 2 == arguments.count)
        #expect(arguments.contains("-vn"))

        let silent = ConversionSettings.ladderArguments(input: "in.mov", mp4: "/w/video.mp4", hlsFolder: "/w/hls/", hasAudio: false,
                                                        renditions: renditions)
        #expect(!silent.contains("0:a:0") && !silent.contains("aac") && !silent.contains { $0.contains("index_audio") })
        #expect(silent.last == "/w/hls/index_720p.m3u8")
    }

    @Test("the keys MediaConvert's job writes are the layout's, for every rung")
    func mediaConvertKeys() {
        let id = "abcdefghijklmnopqrstuvwxya"
        let folder = "videos/\(alice)/\(id)/"
        #expect(ConversionSettings.mediaConvertOutputKeys(sub: alice, id: id) == [
            folder + "video.mp4", folder + "thumbnail.0000000.jpg",
            folder + "hls/index_1080p.m3u8", folder + "hls/index_1080p.cmfv", folder + "hls/index_720p.m3u8", folder + "hls/index_720p.cmfv",
            folder + "hls/index_480p.m3u8", folder + "hls/index_480p.cmfv", folder + "hls/index_360p.m3u8", folder + "hls/index_360p.cmfv",
            folder + "hls/index_audio.m3u8", folder + "hls/index_audio.cmfa", folder + "hls/index.m3u8",
        ])
    }

    @Test("MediaConvert: a CMAF group of one file per rung and the audio, 2-second aligned GOPs, HLS manifests only")
    func mediaConvert() throws {
        let job = ConversionJob(sub: alice, videoId: "abcdefghijklmnopqrstuvwxya", inputBucket: "temp",
                                inputKey: "uploads/\(alice)/abcdefghijklmnopqrstuvwxya/clip.mov", outputBucket: "main")
        let body = ConversionSettings.mediaConvertJob(job, role: "arn:aws:iam::1:role/convert", queue: nil)
        let groups = try #require(body["settings"]?["outputGroups"]?.arrayValue)
        let cmaf = try #require(groups.first { $0["outputGroupSettings"]?["type"] == "CMAF_GROUP_SETTINGS" })
        let settings = try #require(cmaf["outputGroupSettings"]?["cmafGroupSettings"])
        #expect(settings["destination"] == .string("s3://main/videos/\(alice)/abcdefghijklmnopqrstuvwxya/hls/index"))
        #expect(settings["segmentControl"] == "SINGLE_FILE" && settings["segmentLength"] == 2 && settings["fragmentLength"] == 2)
        #expect(settings["writeDashManifest"] == "DISABLED" && settings["writeHlsManifest"] == "ENABLED")
        let outputs = try #require(cmaf["outputs"]?.arrayValue)
        #expect(outputs.compactMap { $0["nameModifier"]?.stringValue } == ["_360p", "_480p", "_720p", "_1080p", "_audio"])
        for (output, rung) in zip(outputs, StreamLadder.rungs.reversed()) {
            let video = try #require(output["videoDescription"])
            #expect(video["height"] == .integer(Int64(rung.height)) && video["scalingBehavior"] == "FIT_NO_UPSCALE")
            let h264 = try #require(video["codecSettings"]?["h264Settings"])
            #expect(h264["maxBitrate"] == .integer(Int64(rung.maxBitrate)) && h264["rateControlMode"] == "QVBR")
            #expect(h264["codecProfile"] == .string(rung.profile.mediaConvert) && h264["codecLevel"] == .string(rung.mediaConvertLevel))
            #expect(h264["gopSize"] == 2.0 && h264["gopSizeUnits"] == "SECONDS" && h264["sceneChangeDetect"] == "DISABLED")
            #expect(h264["gopClosedCadence"] == 1 && h264["minIInterval"] == 0)
            #expect(output["audioDescriptions"] == nil)
        }
        let audio = try #require(outputs.last)
        #expect(audio["containerSettings"]?["cmfcSettings"]?["audioGroupId"] == "audio")
        #expect(audio["audioDescriptions"]?.arrayValue?.first?["codecSettings"]?["aacSettings"]?["bitrate"] == .integer(128_000))
        #expect(audio["videoDescription"] == nil)
    }

    @Test("the longest-duration cap: a source longer by its header is clipped in MediaConvert's input and says so in its metadata; ffmpeg reads no further")
    func longestDuration() throws {
        func input(duration: Double?, longest: Double?) throws -> (input: JSONValue, metadata: JSONValue?) {
            let job = ConversionJob(sub: alice, videoId: "abcdefghijklmnopqrstuvwxya", inputBucket: "t", inputKey: "uploads/k", outputBucket: "m",
                                    sourceDurationSeconds: duration, longestSeconds: longest)
            let body = ConversionSettings.mediaConvertJob(job, role: "r", queue: nil)
            return (try #require(body["settings"]?["inputs"]?.arrayValue?.first), body["userMetadata"]?[ConversionSettings.cutMetadataKey])
        }
        let cut = try input(duration: 14_700.5, longest: 10_800)
        #expect(cut.input["inputClippings"] == [["endTimecode": "03:00:00:00"]])
        #expect(cut.metadata == "14700.5")
        #expect(try input(duration: 0.5 * 60 + 90, longest: 30).input["inputClippings"] == [["endTimecode": "00:00:30:00"]])
        // Shorter than the cap, its duration unknown, or no cap: converted whole.
        for (duration, longest) in [(10_799.0, 10_800.0), (nil, 10_800), (20_000, nil)] as [(Double?, Double?)] {
            let whole = try input(duration: duration, longest: longest)
            #expect(whole.input["inputClippings"] == nil && whole.metadata == nil)
        }
        #expect(ConversionSettings.timecode(seconds: 100 * 3600 + 61.9) == "100:01:01:00")
        // ffmpeg: `-t` as an input option, before `-i`; nothing without a cap.
        let renditions = StreamLadder.renditions(sourceWidth: 640, sourceHeight: 360)
        let capped = ConversionSettings.ladderArguments(input: "in.mov", mp4: "/w/video.mp4", hlsFolder: "/w/hls", hasAudio: true,
                                                        renditions: renditions, longestSeconds: 10_800)
        let t = try #require(capped.firstIndex(of: "-t"))
        #expect(capped[t + 1] == "10800.000" && t < capped.firstIndex(of: "-i")!)
        #expect(!ConversionSettings.ladderArguments(input: "in.mov", mp4: "/w/video.mp4", hlsFolder: "/w/hls", hasAudio: true,
                                                    renditions: renditions).contains("-t"))
    }

    /// The ladder's video outputs of MediaConvert's job for a source of `size`: `_<rung>p WxH` each,
    /// and the user metadata's list of renditions.
    func mediaConvertLadder(_ size: MediaHeader.Size?) throws -> (outputs: [String], metadata: String?) {
        let job = ConversionJob(sub: alice, videoId: "abcdefghijklmnopqrstuvwxya", inputBucket: "temp",
                                inputKey: "uploads/\(alice)/abcdefghijklmnopqrstuvwxya/clip.mov", outputBucket: "main", sourceSize: size)
        let body = ConversionSettings.mediaConvertJob(job, role: "arn:aws:iam::1:role/convert", queue: nil)
        let groups = try #require(body["settings"]?["outputGroups"]?.arrayValue)
        let cmaf = try #require(groups.first { $0["name"] == "Stream" })
        let outputs = try (cmaf["outputs"]?.arrayValue ?? []).filter { $0["videoDescription"] != nil }.map { output in
            let video = try #require(output["videoDescription"])
            #expect(video["scalingBehavior"] == "FIT_NO_UPSCALE")
            let name = output["nameModifier"]?.stringValue ?? "?"
            return "\(name) \(video["width"]?.doubleValue.map { Int($0) } ?? 0)x\(video["height"]?.doubleValue.map { Int($0) } ?? 0)"
        }
        return (outputs, body["userMetadata"]?["hls"]?.stringValue)
    }

    @Test("no MP4 above 1080p: a larger source is scaled down to fit, either way up, sides even; 1080p and below stay as they are")
    func mp4Cap() throws {
        func size(_ width: Int, _ height: Int) -> MediaHeader.Size { MediaHeader.Size(width: width, height: height) }
        #expect(ConversionSettings.mp4Size(source: size(3840, 2160)) == size(1920, 1080))
        #expect(ConversionSettings.mp4Size(source: size(2160, 3840)) == size(1080, 1920), "a phone's portrait 4K")
        #expect(ConversionSettings.mp4Size(source: size(2560, 1440)) == size(1920, 1080))
        #expect(ConversionSettings.mp4Size(source: size(3840, 1080)) == size(1920, 540), "ultra-wide: the long side decides")
        #expect(ConversionSettings.mp4Size(source: size(1440, 1440)) == size(1080, 1080))
        #expect(ConversionSettings.mp4Size(source: size(4096, 2160)) == size(1920, 1012))
        for fits in [size(1920, 1080), size(1080, 1920), size(1280, 720), size(640, 480), size(1920, 800)] {
            #expect(ConversionSettings.mp4Size(source: fits) == nil)
        }
        #expect(ConversionSettings.mp4Size(source: nil) == nil)
        // ffmpeg: the MP4's branch of the one decode is scaled; the ladder's are as before.
        let renditions = StreamLadder.renditions(sourceWidth: 3840, sourceHeight: 2160)
        let arguments = ConversionSettings.ladderArguments(input: "in.mov", mp4: "/w/video.mp4", hlsFolder: "/w/hls", hasAudio: false,
                                                           renditions: renditions, mp4Size: size(1920, 1080))
        let graph = try #require(arguments.firstIndex(of: "-filter_complex").map { arguments[$0 + 1] })
        #expect(graph.hasPrefix("[0:v:0]split=5[m][s0][s1][s2][s3];[m]scale=1920:1080,setsar=1[mp4];[s0]scale=640:360"))
        #expect(arguments.contains("[mp4]"))
        // MediaConvert: the MP4 output at the capped size; with no size known, fitted into 1080p without upscaling.
        func mp4Video(_ source: MediaHeader.Size?) throws -> [String: JSONValue] {
            var job = ConversionJob(sub: alice, videoId: "abcdefghijklmnopqrstuvwxya", inputBucket: "t", inputKey: "uploads/k", outputBucket: "m")
            job.sourceSize = source
            let body = ConversionSettings.mediaConvertJob(job, role: "r", queue: nil)
            let groups = try #require(body["settings"]?["outputGroups"]?.arrayValue)
            let output = try #require(groups.compactMap { $0["outputs"]?.arrayValue?.first }.first { $0["extension"] == "mp4" })
            return try #require(output["videoDescription"]?.objectValue)
        }
        let big = try mp4Video(size(2160, 3840))
        #expect(big["width"] == .integer(1080) && big["height"] == .integer(1920) && big["scalingBehavior"] == "DEFAULT")
        let unknown = try mp4Video(nil)
        #expect(unknown["width"] == .integer(1920) && unknown["height"] == .integer(1080) && unknown["scalingBehavior"] == "FIT_NO_UPSCALE")
        let small = try mp4Video(size(1280, 720))
        #expect(small["width"] == nil && small["height"] == nil && small["scalingBehavior"] == nil)
    }

    @Test("MediaConvert asks for the rungs the source's height fills, at its shape; the user metadata names them")
    func mediaConvertPerHeight() throws {
        func size(_ width: Int, _ height: Int) -> MediaHeader.Size { MediaHeader.Size(width: width, height: height) }
        #expect(try mediaConvertLadder(size(1920, 1080)) ==
                (["_360p 640x360", "_480p 854x480", "_720p 1280x720", "_1080p 1920x1080"], "360p,480p,720p,1080p"))
        #expect(try mediaConvertLadder(size(854, 480)) == (["_360p 640x360", "_480p 854x480"], "360p,480p"))
        #expect(try mediaConvertLadder(size(640, 480)) == (["_360p 480x360", "_480p 640x480"], "360p,480p"))
        // A phone's portrait video, as displayed (MediaConvert turns it upright: rotate AUTO).
        #expect(try mediaConvertLadder(size(720, 1280)) ==
                (["_360p 202x360", "_480p 270x480", "_720p 406x720", "_1080p 608x1080"], "360p,480p,720p,1080p"))
        // Below 360p: one rendition at the source's size, under the lowest rung's name (its files
        // stay among the keys a deletion removes).
        #expect(try mediaConvertLadder(size(426, 240)) == (["_360p 426x240"], "360p"))
        // MediaConvert's smallest size is 32 a side.
        #expect(try mediaConvertLadder(size(16, 16)) == (["_360p 32x32"], "360p"))
        // Unknown: every rung at 16:9, none scaled up.
        #expect(try mediaConvertLadder(nil) ==
                (["_360p 640x360", "_480p 854x480", "_720p 1280x720", "_1080p 1920x1080"], "360p,480p,720p,1080p"))
        for source in [size(426, 240), size(854, 480), size(3840, 2160), nil] {
            for rendition in ConversionSettings.mediaConvertRenditions(sourceSize: source) {
                let playlist = "hls/index_\(rendition.rung.height)p.m3u8"
                #expect(ConversionSettings.mediaConvertOutputKeys(sub: alice, id: "abcdefghijklmnopqrstuvwxya").contains { $0.hasSuffix(playlist) })
            }
        }
    }
}
