import Foundation
import Testing
@testable import VideoService

/// A file the reader reads through ranges, with the ranges it asked for recorded.
final class RangedFile: @unchecked Sendable {
    let size: Int64
    private let bytesAt: (Int64) -> UInt8
    private let lock = NSLock()
    private var asked: [Range<Int64>] = []

    init(_ bytes: [UInt8]) {
        size = Int64(bytes.count)
        bytesAt = { bytes[Int($0)] }
    }

    /// A sparse file of `size` bytes: `parts` where they are placed, zeros elsewhere.
    init(size: Int64, parts: [(at: Int64, bytes: [UInt8])]) {
        self.size = size
        bytesAt = { offset in
            for part in parts where offset >= part.at && offset < part.at + Int64(part.bytes.count) {
                return part.bytes[Int(offset - part.at)]
            }
            return 0
        }
    }

    var ranges: [Range<Int64>] { lock.withLock { asked } }
    var bytesRead: Int64 { ranges.reduce(0) { $0 + min($1.upperBound, size) - min($1.lowerBound, size) } }

    func read(_ range: Range<Int64>) -> MediaHeader.Read {
        lock.withLock { asked.append(range) }
        let lower = min(max(0, range.lowerBound), size), upper = min(max(lower, range.upperBound), size)
        return ((lower..<upper).map(bytesAt), size)
    }

    func header() async -> MediaHeader { await MediaHeader.read { self.read($0) } }
}

func fixture(_ name: String) throws -> [UInt8] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/media/" + name, withExtension: nil))
    return Array(try Data(contentsOf: url))
}

/// ISO BMFF boxes for the synthetic files.
func box(_ type: String, _ payload: [UInt8]) -> [UInt8] {
    be32(UInt32(8 + payload.count)) + Array(type.utf8) + payload
}

func be32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

/// A video track's `moov`: `tkhd` (version 0) with `width`×`height` and the matrix of a turn of
/// `quarterTurns` × 90°, and `mdia/hdlr` of `handler`.
func movie(width: Int, height: Int, quarterTurns: Int = 0, handler: String = "vide") -> [UInt8] {
    let one: UInt32 = 0x0001_0000, minusOne = UInt32(bitPattern: -0x0001_0000)
    let (a, b, c, d): (UInt32, UInt32, UInt32, UInt32) = quarterTurns % 2 == 0 ? (one, 0, 0, one) : (0, one, minusOne, 0)
    var tkhd = [UInt8](repeating: 0, count: 4 + 20 + 16)
    tkhd += be32(a) + be32(b) + be32(0) + be32(c) + be32(d) + be32(0) + be32(0) + be32(0) + be32(0x4000_0000)
    tkhd += be32(UInt32(width) << 16) + be32(UInt32(height) << 16)
    let hdlr = [UInt8](repeating: 0, count: 8) + Array(handler.utf8) + [UInt8](repeating: 0, count: 13)
    return box("moov", box("mvhd", [UInt8](repeating: 0, count: 100)) + box("trak", box("tkhd", tkhd) + box("mdia", box("hdlr", hdlr))))
}

let ftyp = box("ftyp", Array("isom".utf8) + be32(512) + Array("isomiso2avc1mp41".utf8))

/// A deterministic generator for the fuzzing, so a failure repeats.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("The container header of an upload")
struct MediaHeaderTests {
    static let files: [(name: String, container: MediaHeader.Container, size: String)] = [
        ("landscape-480p.mp4", .mp4, "854x480"),
        ("moov-at-end-144p.mp4", .mp4, "192x144"),
        ("portrait-rotated.mp4", .mp4, "360x640"),
        ("anamorphic-576p.mp4", .mp4, "768x576"),
        ("quicktime-720p.mov", .mp4, "1280x720"),
        ("matroska-720p.mkv", .matroska, "1280x720"),
        ("anamorphic-576p.mkv", .matroska, "768x576"),
        ("webm-360p.webm", .matroska, "640x360"),
        ("live-240p.webm", .matroska, "426x240"),
    ]

    static let bound = Int64(MediaHeader.maximumReads * MediaHeader.firstReadBytes + MediaHeader.maximumMovieBytes)

    func text(_ header: MediaHeader) -> String {
        header.size.map { "\($0.width)x\($0.height)" } ?? "unknown"
    }

    @Test("files ffmpeg made: MP4, MOV, Matroska and WebM give their displayed size, as ffprobe shows it",
          arguments: files.map(\.name))
    func realFiles(_ name: String) async throws {
        let expected = try #require(Self.files.first { $0.name == name })
        let header = await RangedFile(try fixture(name)).header()
        #expect(header.container == expected.container)
        #expect(text(header) == expected.size)
    }

    @Test("the header's duration is ffprobe's: mvhd for MP4 and MOV, Info's Duration for Matroska and WebM; none for a live recording",
          arguments: files.map(\.name))
    func durations(_ name: String) async throws {
        let header = await RangedFile(try fixture(name)).header()
        // ffprobe -show_entries format=duration: two frames at 25 per second; a live WebM states none.
        if name == "live-240p.webm" {
            #expect(header.durationSeconds == nil)
        } else {
            let seconds = try #require(header.durationSeconds)
            #expect(abs(seconds - 0.08) < 0.001, "\(name): \(seconds)")
        }
    }

    @Test("a version 1 mvhd of four hours (64-bit duration) and one of unknown duration (all ones)")
    func longDurations() async {
        let scale: UInt32 = 90_000, ticks = UInt64(4 * 3600) * UInt64(scale)
        let version1 = [1, 0, 0, 0] + [UInt8](repeating: 0, count: 16) + be32(scale) + be32(UInt32(ticks >> 32)) + be32(UInt32(ticks & 0xFFFF_FFFF))
            + [UInt8](repeating: 0, count: 80)
        let unknown = [UInt8](repeating: 0, count: 12) + be32(scale) + be32(UInt32.max) + [UInt8](repeating: 0, count: 80)
        for (mvhd, expected) in [(version1, 4.0 * 3600), (unknown, nil)] as [([UInt8], Double?)] {
            let file = ftyp + box("moov", box("mvhd", mvhd))
            let header = await RangedFile(file).header()
            #expect(header.container == .mp4)
            #expect(header.durationSeconds == expected)
        }
    }

    @Test("moov at the end: the first 64 KiB, then the range the box sizes point to")
    func movieAtTheEnd() async throws {
        let file = RangedFile(try fixture("moov-at-end-144p.mp4"))
        #expect(file.size > Int64(MediaHeader.firstReadBytes))
        #expect(text(await file.header()) == "192x144")
        #expect(file.ranges.count == 2)
        #expect(file.ranges.first == 0..<Int64(MediaHeader.firstReadBytes))
        #expect(file.ranges.last!.upperBound <= file.size + Int64(MediaHeader.firstReadBytes))
    }

    @Test("moov first: one read")
    func movieFirst() async throws {
        let file = RangedFile(try fixture("landscape-480p.mp4"))
        _ = await file.header()
        #expect(file.ranges == [0..<Int64(MediaHeader.firstReadBytes)])
    }

    @Test("a 64-bit largesize mdat of 5 GB is stepped over to the moov behind it, read alone")
    func largesize() async {
        let mdatSize: Int64 = 5_000_000_000
        let mdat = be32(1) + Array("mdat".utf8) + be32(UInt32(mdatSize >> 32)) + be32(UInt32(mdatSize & 0xFFFF_FFFF))
        let moov = movie(width: 1920, height: 1080)
        let at = Int64(ftyp.count) + mdatSize
        let file = RangedFile(size: at + Int64(moov.count), parts: [(0, ftyp + mdat), (at, moov)])
        let header = await file.header()
        #expect(header == MediaHeader(container: .mp4, size: .init(width: 1920, height: 1080)))
        #expect(file.ranges.count == 2 && file.ranges[1].lowerBound == at)
        #expect(file.bytesRead < 2 * Int64(MediaHeader.firstReadBytes))
    }

    @Test("a largesize near 2^63 from a reader that does not know the file's size ends the walk")
    func largestSize() async {
        let mdat = be32(1) + Array("mdat".utf8) + be32(0x7FFF_FFFF) + be32(0xFFFF_FFF0)
        var asked: [Range<Int64>] = []
        let header = await MediaHeader.read { range in
            asked.append(range)
            return (range.lowerBound == 0 ? ftyp + mdat : [], nil)
        }
        #expect(header == MediaHeader(container: .mp4, size: nil))
        #expect(asked.count == 1)
    }

    @Test("a box of size 0 runs to the end of the file: an mdat so ends the walk, a moov so is read")
    func sizeZero() async {
        let openMdat = RangedFile(ftyp + be32(0) + Array("mdat".utf8) + [UInt8](repeating: 7, count: 100_000))
        #expect(await openMdat.header() == MediaHeader(container: .mp4, size: nil))
        #expect(openMdat.ranges.count == 1)
        var lastMoov = movie(width: 1280, height: 720)
        lastMoov.replaceSubrange(0..<4, with: be32(0))
        let padded = ftyp + box("mdat", [UInt8](repeating: 1, count: 70_000)) + lastMoov
        #expect(await RangedFile(padded).header() == MediaHeader(container: .mp4, size: .init(width: 1280, height: 720)))
    }

    @Test("a quarter turn in the matrix swaps the sides; a half turn does not")
    func rotation() async {
        #expect(text(await RangedFile(ftyp + movie(width: 1920, height: 1080, quarterTurns: 1)).header()) == "1080x1920")
        #expect(text(await RangedFile(ftyp + movie(width: 1920, height: 1080, quarterTurns: 2)).header()) == "1920x1080")
    }

    @Test("only a track whose handler is vide counts")
    func handler() async {
        #expect(await RangedFile(ftyp + movie(width: 1920, height: 1080, handler: "soun")).header()
                == MediaHeader(container: .mp4, size: nil))
    }

    @Test("a moov larger than the bound is not read: the size stays unknown")
    func hugeMovie() async {
        let size = Int64(MediaHeader.maximumMovieBytes) + 1
        let header = be32(UInt32(size)) + Array("moov".utf8)
        let file = RangedFile(size: Int64(ftyp.count) + size, parts: [(0, ftyp + header)])
        #expect(await file.header() == MediaHeader(container: .mp4, size: nil))
        #expect(file.ranges.count == 1)
    }

    @Test("a chain of boxes is followed a bounded number of reads")
    func manyBoxes() async {
        // Each `free` box is larger than one read, so each next header costs a read.
        var parts: [(at: Int64, bytes: [UInt8])] = [(0, ftyp)]
        var at = Int64(ftyp.count)
        for _ in 0..<50 {
            parts.append((at, be32(200_000) + Array("free".utf8)))
            at += 200_000
        }
        parts.append((at, movie(width: 640, height: 360)))
        let file = RangedFile(size: at + 1000, parts: parts)
        #expect(await file.header() == MediaHeader(container: .mp4, size: nil))
        #expect(file.ranges.count == MediaHeader.maximumReads)
    }

    @Test("the other containers the conversion takes are known by the first 4 KiB of files ffmpeg made",
          arguments: [("start-of.avi", MediaHeader.Container.avi), ("start-of.ts", .mpegts), ("start-of.m2ts", .mpegts),
                      ("start-of.mpg", .mpegps), ("start-of.flv", .flv), ("start-of.wmv", .asf), ("start-of.ogv", .ogg),
                      ("start-of.mxf", .mxf), ("start-of.dv", .dv)])
    func otherContainers(_ name: String, _ container: MediaHeader.Container) async throws {
        let file = RangedFile(try fixture(name))
        #expect(await file.header() == MediaHeader(container: container, size: nil))
        #expect(file.ranges.count == 1, "one read")
    }

    @Test("every container the reader knows is one of the demuxers the local cloud lets ffmpeg use")
    func sameFamiliesAsFFmpeg() {
        let demuxer: [MediaHeader.Container: String] = [.mp4: "mov", .matroska: "matroska", .avi: "avi", .mpegts: "mpegts",
                                                        .mpegps: "mpeg", .flv: "flv", .asf: "asf", .ogg: "ogg", .mxf: "mxf", .dv: "dv"]
        #expect(Set(MediaHeader.Container.allCases.compactMap { demuxer[$0] }) == Set(ConversionSettings.inputFormats))
        #expect(demuxer.count == MediaHeader.Container.allCases.count)
    }

    @Test("files that only look like media are not: a playlist, an archive, a PDF, an image, a sync byte too few, a RIFF WAVE")
    func lookalikes() async {
        let playlist = Array("#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10,\nhttp://169.254.169.254/latest/meta-data/\n".utf8)
        let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 100)
        let pdf = Array("%PDF-1.7\n%âãÏÓ\n1 0 obj".utf8)
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 100)
        var fourPackets = [UInt8](repeating: 0xFF, count: 188 * 5)
        for packet in 0..<4 { fourPackets[packet * 188] = 0x47 }
        let wave = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WAVEfmt ".utf8)
        for bytes in [playlist, zip, pdf, png, fourPackets, wave] {
            #expect(await RangedFile(bytes).header() == .unknown)
        }
    }

    @Test("what is not an MP4 or Matroska file is unknown: text, HTML, the test uploads, an EBML document of another kind")
    func notMedia() async {
        #expect(await RangedFile(Array(String(repeating: "not a video at all\n", count: 100).utf8)).header() == .unknown)
        #expect(await RangedFile(Array("<!doctype html><title>x</title>".utf8)).header() == .unknown)
        #expect(await RangedFile([]).header() == .unknown)
        // The end-to-end tests' upload: an ftyp, then bytes that are no box.
        let clip = Array("\u{0}\u{0}\u{0}\u{18}ftypmp42".utf8) + (0..<64).flatMap { _ in (0...255).map { UInt8($0) } }
        #expect(await RangedFile(clip).header() == MediaHeader(container: .mp4, size: nil))
        let other: [UInt8] = [0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84] + Array("dvd!".utf8)
        #expect(await RangedFile(other).header() == .unknown)
    }

    @Test("a Matroska file whose Tracks lies past 64 KiB is read again up to 1 MiB, and no further")
    func matroskaFarTracks() async throws {
        let webm = try fixture("webm-360p.webm")
        // The fixture's EBML header, then its Segment with a Void of 100 KiB put before its children.
        let segmentAt = try #require((0..<webm.count - 4).first { webm[$0..<$0 + 4].elementsEqual([0x18, 0x53, 0x80, 0x67]) })
        let sizeLength = webm[segmentAt + 4].leadingZeroBitCount + 1
        let children = Array(webm[(segmentAt + 4 + sizeLength)...])
        // A Void element (0xEC) of 100 KiB: its size a 4-byte variable-length integer, 0x10 01 90 00.
        let voidBytes: [UInt8] = [0xEC, 0x10, 0x01, 0x90, 0x00] + [UInt8](repeating: 0, count: 102_400)
        let far = Array(webm[..<segmentAt]) + [0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + voidBytes + children
        let file = RangedFile(far)
        #expect(text(await file.header()) == "640x360")
        #expect(file.ranges == [0..<Int64(MediaHeader.firstReadBytes), 0..<Int64(MediaHeader.maximumMatroskaBytes)])

        let tooFar = Array(webm[..<segmentAt]) + [0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
            + [0xEC, 0x10, 0x20, 0x00, 0x00] + [UInt8](repeating: 0, count: 0x20_0000) + children
        let bounded = RangedFile(tooFar)
        #expect(await bounded.header() == MediaHeader(container: .matroska, size: nil))
        #expect(bounded.bytesRead <= Int64(MediaHeader.firstReadBytes + MediaHeader.maximumMatroskaBytes))
    }

    @Test("every truncation of every fixture reads without trapping, and never gives a wrong size")
    func truncated() async throws {
        for expected in Self.files {
            let whole = try fixture(expected.name)
            let step = max(1, whole.count / 1500)
            for length in stride(from: 0, through: whole.count, by: step) {
                let file = RangedFile(Array(whole.prefix(length)))
                let header = await file.header()
                #expect(header.size == nil || text(header) == expected.size, "\(expected.name) cut at \(length)")
                #expect(file.bytesRead <= Self.bound)
            }
        }
    }

    @Test("random bytes and random damage to the fixtures read without trapping, within the bound")
    func fuzz() async throws {
        var random = SplitMix(state: 20_261_205)
        let originals = try Self.files.map { try fixture($0.name) }
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 3 == 0 {
                bytes = (0..<Int.random(in: 0...4096, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                // Half of them start like a real container, so the walk goes deeper.
                if round % 2 == 0, bytes.count > 16 {
                    let start: [UInt8] = Bool.random(using: &random) ? Array(ftyp.prefix(8)) : [0x1A, 0x45, 0xDF, 0xA3]
                    bytes.replaceSubrange(0..<start.count, with: start)
                }
            } else {
                bytes = originals[Int.random(in: 0..<originals.count, using: &random)]
                for _ in 0..<Int.random(in: 1...8, using: &random) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<min(bytes.count, 4096), using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
                if Bool.random(using: &random) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random))) }
            }
            let file = RangedFile(bytes)
            _ = await file.header()
            #expect(file.bytesRead <= Self.bound)
            #expect(file.ranges.count <= MediaHeader.maximumReads)
        }
    }

    @Test("a read that fails is thrown, not taken for an unknown file")
    func readErrors() async {
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await MediaHeader.read { _ in throw Refused() }
        }
    }
}
