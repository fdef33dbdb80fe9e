/// ISO BMFF's boxes (ISO/IEC 14496-12), as far as `MediaHeader` needs them: box headers, the
/// children of a box, and a video track's `tkhd` size and matrix inside `moov`. Every read is
/// checked against the bytes there are; a box that does not fit ends the walk.
enum ISOBMFF {
    static let ftyp = code("ftyp"), moov = code("moov"), mdat = code("mdat"), free = code("free"), skip = code("skip")
    static let wide = code("wide"), pnot = code("pnot"), trak = code("trak"), tkhd = code("tkhd"), mdia = code("mdia")
    static let hdlr = code("hdlr"), vide = code("vide"), mvhd = code("mvhd")

    /// The boxes a file may start with: `ftyp`, or (in QuickTime files older than it) the movie,
    /// the media data or padding.
    static let firstBoxes: Set<UInt32> = [ftyp, moov, mdat, free, skip, wide, pnot]

    static func code(_ text: String) -> UInt32 {
        text.utf8.reduce(0) { $0 << 8 | UInt32($1) }
    }

    struct BoxHeader {
        var type: UInt32
        /// The whole box's length, header included; nil for a box that runs to the end of its
        /// parent (the file, at the top level).
        var size: Int64?
        var headerLength: Int
    }

    /// The header of the box at `at`, if it fits before `end` and its size is possible (at least
    /// its header; `size` 1 is the 64-bit `largesize` after the type, `size` 0 "to the end").
    static func boxHeader(_ bytes: [UInt8], at: Int, end: Int, parentEnd: Int?) -> BoxHeader? {
        guard at >= 0, end <= bytes.count, at <= end - 8 else { return nil }
        let size32 = UInt32(bigEndian: bytes, at: at)
        let type = UInt32(bigEndian: bytes, at: at + 4)
        switch size32 {
        case 0:
            return BoxHeader(type: type, size: parentEnd.map { Int64($0 - at) }, headerLength: 8)
        case 1:
            guard at <= end - 16 else { return nil }
            let large = UInt64(UInt32(bigEndian: bytes, at: at + 8)) << 32 | UInt64(UInt32(bigEndian: bytes, at: at + 12))
            guard large >= 16, large <= UInt64(Int64.max) else { return nil }
            return BoxHeader(type: type, size: Int64(large), headerLength: 16)
        case 2..<8:
            return nil
        default:
            return BoxHeader(type: type, size: Int64(size32), headerLength: 8)
        }
    }

    /// Whether `bytes` begin with a box a movie file begins with.
    static func startsWithBox(_ bytes: [UInt8]) -> Bool {
        guard let box = boxHeader(bytes, at: 0, end: bytes.count, parentEnd: nil) else { return false }
        return firstBoxes.contains(box.type)
    }

    /// The boxes inside `range` of `bytes`, in order: each one's type and payload. The walk stops
    /// at a box that is malformed or does not fit.
    static func children(_ bytes: [UInt8], in range: Range<Int>) -> [(type: UInt32, payload: Range<Int>)] {
        var found: [(type: UInt32, payload: Range<Int>)] = []
        var at = range.lowerBound
        while at <= range.upperBound - 8, let box = boxHeader(bytes, at: at, end: range.upperBound, parentEnd: range.upperBound) {
            guard let size = box.size, size <= Int64(range.upperBound - at) else { break }
            let end = at + Int(size)
            found.append((box.type, at + box.headerLength..<end))
            at = end
        }
        return found
    }

    /// The displayed size of the first video track of a `moov` box (`movie`, its header
    /// `headerLength` bytes long; cut short when the file was).
    static func movieSize(_ movie: [UInt8], headerLength: Int) -> MediaHeader.Size? {
        guard headerLength <= movie.count else { return nil }
        for track in children(movie, in: headerLength..<movie.count) where track.type == trak {
            let parts = children(movie, in: track.payload)
            guard let media = parts.first(where: { $0.type == mdia }),
                  let handler = children(movie, in: media.payload).first(where: { $0.type == hdlr }),
                  handler.payload.count >= 12, UInt32(bigEndian: movie, at: handler.payload.lowerBound + 8) == vide,
                  let header = parts.first(where: { $0.type == tkhd }),
                  let size = trackSize(movie, header.payload) else { continue }
            return size
        }
        return nil
    }

    /// The movie's duration from the `mvhd` of a `moov` box: its duration over its time scale;
    /// nil when there is none, its time scale is 0 or its duration unknown (all ones).
    static func movieDuration(_ movie: [UInt8], headerLength: Int) -> Double? {
        guard headerLength <= movie.count,
              let header = children(movie, in: headerLength..<movie.count).first(where: { $0.type == mvhd }),
              let version = header.payload.isEmpty ? nil : movie[header.payload.lowerBound] else { return nil }
        // Version 0: creation and modification times of 32 bits, then time scale and duration (32);
        // version 1: the times of 64 bits, the time scale (32), the duration (64).
        let at = header.payload.lowerBound + 4 + (version == 1 ? 16 : 8)
        let durationLength = version == 1 ? 8 : 4
        guard version <= 1, at + 4 + durationLength <= header.payload.upperBound else { return nil }
        let scale = UInt32(bigEndian: movie, at: at)
        let duration = version == 1
            ? UInt64(UInt32(bigEndian: movie, at: at + 4)) << 32 | UInt64(UInt32(bigEndian: movie, at: at + 8))
            : UInt64(UInt32(bigEndian: movie, at: at + 4))
        guard scale > 0, duration != (version == 1 ? UInt64.max : UInt64(UInt32.max)) else { return nil }
        return Double(duration) / Double(scale)
    }

    /// A `tkhd`'s presentation size (16.16 fixed point; the pixel aspect already applied), sides
    /// swapped when its matrix turns the picture a quarter turn.
    static func trackSize(_ bytes: [UInt8], _ payload: Range<Int>) -> MediaHeader.Size? {
        guard let version = payload.isEmpty ? nil : bytes[payload.lowerBound] else { return nil }
        // Version 1 has 64-bit times and duration: 12 bytes more before the matrix.
        let matrix = payload.lowerBound + (version == 1 ? 52 : 40)
        let dimensions = matrix + 36
        guard version <= 1, dimensions + 8 <= payload.upperBound else { return nil }
        func fixed(_ at: Int) -> Int { Int((UInt64(UInt32(bigEndian: bytes, at: at)) + 0x8000) >> 16) }
        var width = fixed(dimensions), height = fixed(dimensions + 4)
        guard width > 0, height > 0 else { return nil }
        // The matrix's a and b (16.16): a quarter turn has a = 0 and |b| = 1.
        let a = Int64(Int32(bitPattern: UInt32(bigEndian: bytes, at: matrix)))
        let b = Int64(Int32(bitPattern: UInt32(bigEndian: bytes, at: matrix + 4)))
        if abs(a) < abs(b) { swap(&width, &height) }
        return MediaHeader.Size(width: width, height: height)
    }
}

extension UInt32 {
    /// The big-endian number at `at` (the caller checks the four bytes are there).
    init(bigEndian bytes: [UInt8], at: Int) {
        self = UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
