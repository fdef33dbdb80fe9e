/// Matroska's and WebM's elements (EBML, RFC 8794; Matroska, RFC 9559), as far as `MediaHeader`
/// needs them: the EBML header's `DocType`, then `Segment` → `Tracks` → the first `TrackEntry` of
/// type video → `Video`. Elements of unknown size (a live recording's `Segment`) run to the end of
/// their parent; the walk never goes past the bytes it was given.
enum Matroska {
    static let ebml: UInt32 = 0x1A45_DFA3, docType: UInt32 = 0x4282, segment: UInt32 = 0x1853_8067
    static let tracks: UInt32 = 0x1654_AE6B, cluster: UInt32 = 0x1F43_B675, trackEntry: UInt32 = 0xAE
    static let trackType: UInt32 = 0x83, video: UInt32 = 0xE0, pixelWidth: UInt32 = 0xB0, pixelHeight: UInt32 = 0xBA
    static let displayWidth: UInt32 = 0x54B0, displayHeight: UInt32 = 0x54BA, projection: UInt32 = 0x7670
    static let projectionPoseRoll: UInt32 = 0x7675, void: UInt32 = 0xEC, crc32: UInt32 = 0xBF
    static let info: UInt32 = 0x1549_A966, timestampScale: UInt32 = 0x2A_D7B1, duration: UInt32 = 0x4489

    /// What the bytes said: the header, or that `Tracks` lies (at least in part) beyond them.
    enum Answer {
        case header(MediaHeader)
        case needsMore
    }

    static func isEBML(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && UInt32(bigEndian: bytes, at: 0) == ebml
    }

    struct Element {
        var id: UInt32
        /// The payload; it ends at the parent's end when the element's size is unknown.
        var payload: Range<Int>
        var sizeKnown: Bool
        /// Whether the element's declared size runs past the bytes there are.
        var cutShort: Bool
    }

    /// The element at `at`, inside a parent that ends at `end`; nil when its ID or size is not a
    /// valid variable-length integer there.
    static func element(_ bytes: [UInt8], at: Int, end: Int) -> Element? {
        guard let id = variableInteger(bytes, at: at, end: end, maximumLength: 4, keepMarker: true),
              let size = variableInteger(bytes, at: at + id.length, end: end, maximumLength: 8, keepMarker: false) else { return nil }
        let start = at + id.length + size.length
        guard !size.unknown else {
            return Element(id: UInt32(id.value), payload: start..<end, sizeKnown: false, cutShort: false)
        }
        let available = UInt64(end - start)
        let length = Int(min(size.value, available))
        return Element(id: UInt32(id.value), payload: start..<start + length, sizeKnown: true, cutShort: size.value > available)
    }

    /// EBML's variable-length integer: the count of leading zero bits of the first byte gives the
    /// length. A size of all ones means "unknown".
    static func variableInteger(_ bytes: [UInt8], at: Int, end: Int, maximumLength: Int,
                                keepMarker: Bool) -> (value: UInt64, length: Int, unknown: Bool)? {
        guard at >= 0, at < end, end <= bytes.count, bytes[at] != 0 else { return nil }
        let length = bytes[at].leadingZeroBitCount + 1
        guard length <= maximumLength, at + length <= end else { return nil }
        var value = UInt64(keepMarker ? bytes[at] : bytes[at] & (0xFF >> length))
        var allOnes = value == UInt64(0xFF >> length)
        for index in 1..<length {
            value = value << 8 | UInt64(bytes[at + index])
            allOnes = allOnes && bytes[at + index] == 0xFF
        }
        return (value, length, !keepMarker && allOnes)
    }

    static func unsigned(_ bytes: [UInt8], _ payload: Range<Int>) -> UInt64? {
        guard (1...8).contains(payload.count) else { return payload.isEmpty ? 0 : nil }
        return payload.reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[$1]) }
    }

    static func float(_ bytes: [UInt8], _ payload: Range<Int>) -> Double? {
        switch payload.count {
        case 0: return 0
        case 4: return Double(Float(bitPattern: UInt32(unsigned(bytes, payload) ?? 0)))
        case 8: return Double(bitPattern: unsigned(bytes, payload) ?? 0)
        default: return nil
        }
    }

    /// The header of a file whose first bytes are `bytes`.
    static func header(_ bytes: [UInt8]) -> Answer {
        guard let head = element(bytes, at: 0, end: bytes.count), head.id == ebml, head.sizeKnown else {
            return .header(.unknown)
        }
        if head.cutShort { return .needsMore }
        var at = head.payload.lowerBound, kind: String?
        while let child = element(bytes, at: at, end: head.payload.upperBound), !child.cutShort, child.sizeKnown {
            if child.id == docType {
                kind = String(decoding: bytes[child.payload].prefix { $0 != 0 }, as: UTF8.self)
            }
            at = child.payload.upperBound
        }
        guard kind == "matroska" || kind == "webm" else { return .header(.unknown) }
        let known = MediaHeader(container: .matroska, size: nil)

        // The Segment, after any padding at the top level.
        at = head.payload.upperBound
        var segmentElement: Element?
        while let top = element(bytes, at: at, end: bytes.count) {
            if top.id == segment { segmentElement = top; break }
            guard top.sizeKnown, !top.cutShort, top.id == void || top.id == crc32 else { return .header(known) }
            at = top.payload.upperBound
        }
        guard let segmentElement else { return at >= bytes.count ? .needsMore : .header(known) }

        // Its children up to Tracks: Tracks comes before the first Cluster in practice, and Info
        // before Tracks.
        at = segmentElement.payload.lowerBound
        var seconds: Double?
        while at < segmentElement.payload.upperBound {
            guard let child = element(bytes, at: at, end: segmentElement.payload.upperBound) else {
                // A child's ID or size cut off by the end of the bytes read.
                return segmentElement.payload.upperBound >= bytes.count ? .needsMore : .header(known)
            }
            if child.id == tracks {
                if child.cutShort { return .needsMore }
                return .header(MediaHeader(container: .matroska, size: videoSize(bytes, tracks: child), durationSeconds: seconds))
            }
            if child.id == info, !child.cutShort { seconds = duration(bytes, info: child) }
            guard child.id != cluster, child.sizeKnown else { return .header(known) }
            if child.cutShort { return .needsMore }
            at = child.payload.upperBound
        }
        return segmentElement.sizeKnown && !segmentElement.cutShort ? .header(known) : .needsMore
    }

    /// The segment's duration from its `Info`: `Duration` (a float, in ticks) times
    /// `TimestampScale` (nanoseconds a tick, 1,000,000 unless given); nil without a duration.
    static func duration(_ bytes: [UInt8], info: Element) -> Double? {
        let fields = children(bytes, info.payload)
        guard let ticks = fields.first(where: { $0.id == duration }).flatMap({ float(bytes, $0.payload) }),
              ticks.isFinite, ticks > 0 else { return nil }
        let scale = fields.first { $0.id == timestampScale }.flatMap { unsigned(bytes, $0.payload) } ?? 1_000_000
        guard scale > 0 else { return nil }
        return ticks * Double(scale) / 1e9
    }

    /// The first video track's displayed size: `PixelHeight` high, as wide as `DisplayWidth` :
    /// `DisplayHeight` makes it (or `PixelWidth`), sides swapped for a quarter-turn roll.
    static func videoSize(_ bytes: [UInt8], tracks: Element) -> MediaHeader.Size? {
        var at = tracks.payload.lowerBound
        while let entry = element(bytes, at: at, end: tracks.payload.upperBound) {
            // In a Tracks of unknown size, the first element that is not a track ends it.
            guard entry.id == trackEntry || entry.id == void || entry.id == crc32 else { return nil }
            guard entry.sizeKnown else { return nil }
            at = entry.payload.upperBound
            guard entry.id == trackEntry else { continue }
            let fields = children(bytes, entry.payload)
            guard fields.first(where: { $0.id == trackType }).flatMap({ unsigned(bytes, $0.payload) }) == 1,
                  let picture = fields.first(where: { $0.id == video }) else { continue }
            let values = children(bytes, picture.payload)
            func number(_ id: UInt32) -> Int? {
                values.first { $0.id == id }.flatMap { unsigned(bytes, $0.payload) }.flatMap { $0 <= 1 << 20 ? Int($0) : nil }
            }
            guard var width = number(pixelWidth), var height = number(pixelHeight), width > 0, height > 0 else { return nil }
            if let shownWidth = number(displayWidth), let shownHeight = number(displayHeight), shownWidth > 0, shownHeight > 0 {
                width = Int((Double(height) * Double(shownWidth) / Double(shownHeight)).rounded())
            }
            let roll = values.first { $0.id == projection }
                .flatMap { children(bytes, $0.payload).first { $0.id == projectionPoseRoll } }
                .flatMap { float(bytes, $0.payload) } ?? 0
            if abs(roll) <= 360, abs(Int(roll.rounded())) % 180 == 90 { swap(&width, &height) }
            return MediaHeader.Size(width: max(1, width), height: height)
        }
        return nil
    }

    /// The elements of known size inside `range`, in order, until one that is not.
    static func children(_ bytes: [UInt8], _ range: Range<Int>) -> [Element] {
        var found: [Element] = []
        var at = range.lowerBound
        while let child = element(bytes, at: at, end: range.upperBound), child.sizeKnown, !child.cutShort {
            found.append(child)
            at = child.payload.upperBound
        }
        return found
    }
}
