/// What an upload's container header says, read from a few byte ranges of the file: which container
/// it is and the picture's size as displayed (pixel aspect and a quarter-turn rotation applied), the
/// size ffprobe reports in the local cloud. Production reads it before the conversion starts, so the
/// MediaConvert job asks only for the rungs the source can fill.
///
/// ISO BMFF (MP4, MOV, 3GP, M4V): the top-level boxes are walked to `moov`, wherever it is (the
/// first 64 KiB, then the range the boxes' sizes point to), and `moov` is read whole up to
/// `maximumMovieBytes`; the first track whose handler is `vide` gives its `tkhd` size and matrix.
/// `mvhd` gives the duration. Matroska and WebM: the EBML header, then `Segment` → `Info` (the duration)
/// and `Tracks` → the first video `TrackEntry`
/// (`PixelWidth`/`PixelHeight`, `DisplayWidth`/`DisplayHeight`, `ProjectionPoseRoll`), read from the
/// start only, up to `maximumMatroskaBytes`. The other containers the conversion takes (AVI, MPEG-TS
/// and M2TS, MPEG-PS, FLV, ASF/WMV, Ogg, MXF, DV) are known by their first bytes, without a size.
/// Anything else, malformed or cut short, is `unknown` (or a known container without a size): the
/// reader never traps and never reads without bound.
public struct MediaHeader: Sendable, Equatable {
    /// The container families the reader knows: those of `ConversionSettings.inputFormats`, the
    /// demuxers the local cloud lets ffmpeg use.
    public enum Container: String, Sendable, CaseIterable {
        /// ISO BMFF: MP4, MOV, 3GP, M4V.
        case mp4
        /// Matroska and WebM.
        case matroska
        case avi
        /// MPEG transport stream: broadcast `.ts`, and camcorders' `.m2ts`/`.mts` (192-byte packets).
        case mpegts
        /// MPEG program stream: `.mpg`, `.vob`.
        case mpegps
        case flv
        /// ASF: `.wmv`, `.asf`.
        case asf
        case ogg
        case mxf
        /// Raw DV: `.dv`.
        case dv
    }

    /// A picture's size in pixels, as displayed.
    public struct Size: Sendable, Equatable {
        public var width: Int
        public var height: Int

        public init(width: Int, height: Int) {
            self.width = width
            self.height = height
        }
    }

    /// The container, or nil when the bytes are not one the reader knows.
    public var container: Container?
    /// The first video track's displayed size, or nil when the header does not say (or cannot be read).
    public var size: Size?
    /// The movie's duration in seconds, as its header states it (`mvhd` in ISO BMFF, `Info` →
    /// `Duration` in Matroska); nil when the header does not say. The conversion's longest-duration
    /// cap cuts by it in production.
    public var durationSeconds: Double?

    public init(container: Container?, size: Size?, durationSeconds: Double? = nil) {
        self.container = container
        self.size = size
        self.durationSeconds = durationSeconds
    }

    /// Nothing known.
    public static let unknown = MediaHeader(container: nil, size: nil)

    /// The first read, from the start of the file.
    public static let firstReadBytes = 64 * 1024
    /// The largest `moov` read; a longer one (hours of tiny samples) leaves the size unknown.
    public static let maximumMovieBytes = 16 * 1024 * 1024
    /// How far into a Matroska file `Tracks` is looked for.
    public static let maximumMatroskaBytes = 1024 * 1024
    /// How many reads one file may cost at most.
    public static let maximumReads = 8

    /// The container other than ISO BMFF and Matroska that `bytes`, a file's start, begins as, or nil.
    /// Each test is the one its demuxer's probe relies on: a magic number, or for MPEG-TS the sync
    /// byte repeating at the packet size.
    public static func signature(_ bytes: [UInt8]) -> Container? {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }
        func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }
        if starts(ascii("RIFF")), starts(ascii("AVI "), at: 8) { return .avi }
        if starts([0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) { return .asf }
        if starts(ascii("FLV")), bytes.count > 3, bytes[3] == 1 { return .flv }
        if starts(ascii("OggS")), bytes.count > 4, bytes[4] == 0 { return .ogg }
        if starts([0x00, 0x00, 0x01, 0xBA]) { return .mpegps }
        // An MXF file's header partition pack, after a run-in of at most 64 KiB.
        let key: [UInt8] = [0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D, 0x01, 0x02, 0x01, 0x01, 0x02]
        if bytes.count >= key.count, (0...min(bytes.count - key.count, 65_536)).contains(where: { bytes[$0] == 0x06 && starts(key, at: $0) }) {
            return .mxf
        }
        // A DV DIF block: the header section's ID (0x1F 0x07 0x00).
        if starts([0x1F, 0x07, 0x00]) { return .dv }
        // Five packets in a row starting with 0x47: 188 bytes apart (TS), or 192 after a 4-byte time code (M2TS).
        for (size, first) in [(188, 0), (192, 4)] where bytes.count >= first + 4 * size + 1 {
            if (0..<5).allSatisfy({ bytes[first + $0 * size] == 0x47 }) { return .mpegts }
        }
        return nil
    }

    /// The bytes of one read: those of `range` that exist (fewer at the end of the file, none past
    /// it), and the file's whole size when the answer says it (S3's `Content-Range`).
    public typealias Read = (bytes: [UInt8], fileSize: Int64?)

    /// The header of the file behind `read`, which answers byte ranges of it. Errors of `read` are
    /// thrown as they are; what the bytes say, however malformed, is an answer.
    public static func read(_ read: (Range<Int64>) async throws -> Read) async rethrows -> MediaHeader {
        var reads = 1
        let first = try await read(0..<Int64(firstReadBytes))
        let fileSize = first.fileSize
        if Matroska.isEBML(first.bytes) {
            if case .header(let header) = Matroska.header(first.bytes) { return header }
            // `Tracks` lies beyond the first read: once more, from the start, up to the bound.
            guard first.bytes.count >= firstReadBytes, fileSize.map({ $0 > Int64(first.bytes.count) }) ?? true else {
                return MediaHeader(container: .matroska, size: nil)
            }
            let more = try await read(0..<Int64(maximumMatroskaBytes))
            if case .header(let header) = Matroska.header(more.bytes) { return header }
            return MediaHeader(container: .matroska, size: nil)
        }
        guard ISOBMFF.startsWithBox(first.bytes) else { return MediaHeader(container: signature(first.bytes), size: nil) }
        var window = (start: Int64(0), bytes: first.bytes)
        var offset: Int64 = 0
        while true {
            if let fileSize, offset >= fileSize { break }
            // A box size near the largest 64-bit number (with the file's size unknown) ends the walk.
            guard offset <= Int64.max - Int64(maximumMovieBytes) else { break }
            // The next top-level box's header, from the window or from a new read at its offset.
            if offset < window.start || offset + 16 > window.start + Int64(window.bytes.count) {
                guard reads < maximumReads else { break }
                reads += 1
                let next = try await read(offset..<offset + Int64(firstReadBytes))
                guard !next.bytes.isEmpty else { break }
                window = (offset, next.bytes)
            }
            let at = Int(offset - window.start)
            guard let box = ISOBMFF.boxHeader(window.bytes, at: at, end: window.bytes.count, parentEnd: nil) else { break }
            let end: Int64
            if let size = box.size {
                guard size <= Int64.max - offset else { break }
                end = offset + size
            } else if let fileSize {
                end = fileSize
            } else if box.type == ISOBMFF.moov {
                end = offset + Int64(maximumMovieBytes)
            } else {
                break
            }
            if box.type == ISOBMFF.moov {
                guard end - offset <= Int64(maximumMovieBytes) else { break }
                var movie: [UInt8]
                if end <= window.start + Int64(window.bytes.count) {
                    movie = Array(window.bytes[at..<Int(end - window.start)])
                } else {
                    guard reads < maximumReads else { break }
                    reads += 1
                    movie = try await read(offset..<end).bytes
                    if movie.count > Int(end - offset) { movie = Array(movie.prefix(Int(end - offset))) }
                }
                return MediaHeader(container: .mp4, size: ISOBMFF.movieSize(movie, headerLength: box.headerLength),
                                   durationSeconds: ISOBMFF.movieDuration(movie, headerLength: box.headerLength))
            }
            offset = end
        }
        return MediaHeader(container: .mp4, size: nil)
    }
}
