#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The video service's rules, the same on both hosts: ids, names, types, sizes and the key layout.
/// Nothing outside `uploads/<sub>/` (the temporary bucket) and `videos/<sub>/` (the main bucket)
/// is ever signed, listed or deleted for a caller.
public enum VideoRules {
    public static let singlePutLimit: Int64 = 5 * 1024 * 1024 * 1024
    public static let multipartLimit: Int64 = 5 * 1024 * 1024 * 1024 * 1024
    public static let maximumKeyBytes = 1024
    public static let uploadURLLifetime = 900
    public static let partURLLifetime = 3600

    /// Why a file name is refused, or nil: 1–255 code points, no `/`, `\` or control characters, not `.` or `..`.
    public static func fileNameProblem(_ name: String) -> String? {
        let scalars = name.unicodeScalars
        if scalars.isEmpty { return "The file name must not be empty." }
        if scalars.count > 255 { return "The file name must be at most 255 characters." }
        if name == "." || name == ".." { return "The file name must not be “.” or “..”." }
        if scalars.contains(where: { $0 == "/" || $0 == "\\" || $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            return "The file name must not contain “/”, “\\” or control characters."
        }
        return nil
    }

    public static func isVideoType(_ type: String) -> Bool {
        guard type.utf8.count <= 100, type.hasPrefix("video/"), type.count > 6 else { return false }
        return type.dropFirst(6).unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "+" || $0 == "-"
        }
    }

    /// 26 characters of lowercase base32: 128 random bits.
    public static func isVideoId(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard bytes.count == 26 else { return false }
        let alphabet = Set("abcdefghijklmnopqrstuvwxyz234567".utf8)
        return bytes.allSatisfy { alphabet.contains($0) } && Set("aeimquy4".utf8).contains(bytes[25])
    }

    /// A Cognito `sub`: a lowercase UUID.
    public static func isSub(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) { if byte != UInt8(ascii: "-") { return false } }
            else if !((48...57).contains(byte) || (97...102).contains(byte)) { return false }
        }
        return true
    }

    public static func newVideoId() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base32.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }).lowercased()
    }

    public static func title(of fileName: String) -> String {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return fileName }
        return String(fileName[..<dot])
    }

    /// The part size of a multipart upload, from the file's size: the smallest of 16, 32 and 64 MiB
    /// that keeps the file within 100 parts (fewer requests for big files; a part retried or held
    /// in the browser's hashing buffers stays small), 64 MiB for files above 6.25 GiB, and from
    /// 625 GiB on the whole MiB that fits the file in S3's 10,000 parts (525 MiB for 5 TiB).
    /// The app's `defaultPartSize` (assets/js/upload/plan.js) states the same rule.
    public static func partSize(for size: Int64) -> Int64 {
        let mebibyte: Int64 = 1024 * 1024
        let needed = (size + 9_999) / 10_000
        let fewest = (needed + mebibyte - 1) / mebibyte * mebibyte
        let chosen = [16, 32, 64].map { $0 * mebibyte }.first { (size + $0 - 1) / $0 <= 100 } ?? 64 * mebibyte
        return max(chosen, fewest)
    }

    /// An ETag without its quotes.
    public static func unquoted(_ etag: String) -> String {
        etag.count >= 2 && etag.hasPrefix("\"") && etag.hasSuffix("\"") ? String(etag.dropFirst().dropLast()) : etag
    }

    public static func isETag(_ text: String) -> Bool {
        let bare = text.hasPrefix("\"") && text.hasSuffix("\"") && text.count == 34 ? String(text.dropFirst().dropLast()) : text
        return bare.utf8.count == 32 && bare.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    // MARK: Keys

    /// Where an upload goes in the temporary bucket.
    public static func uploadKey(sub: String, videoId: String, fileName: String) -> String {
        "uploads/\(sub)/\(videoId)/\(fileName)"
    }

    /// The converted video and its thumbnail in the main bucket, named as MediaConvert names its
    /// outputs (a frame capture gets a 7-digit sequence number), so both converters write the same keys.
    public static func mainKeys(sub: String, id: String) -> (video: String, thumbnail: String) {
        ("videos/\(sub)/\(id)/video.mp4", "videos/\(sub)/\(id)/thumbnail.0000000.jpg")
    }

    /// The folder of a video's outputs in the main bucket (MediaConvert's destination).
    public static func mainPrefix(sub: String, id: String) -> String { mainFolder(sub: sub) + "\(id)/" }

    /// The folder of all of a user's outputs in the main bucket, which their media cookies open.
    public static func mainFolder(sub: String) -> String { "videos/\(sub)/" }

    /// The parts of `uploads/<sub>/<videoId>/<fileName>`, or nil for any other key.
    public static func parseUploadKey(_ key: String) -> (sub: String, videoId: String, fileName: String)? {
        let pieces = key.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard key.utf8.count <= maximumKeyBytes, pieces.count == 4, pieces[0] == "uploads", isSub(pieces[1]),
              isVideoId(String(pieces[2])), fileNameProblem(String(pieces[3])) == nil else { return nil }
        return (String(pieces[1]), String(pieces[2]), String(pieces[3]))
    }
}

/// Reads the properties of a JSON request body, refusing what the API document does not allow.
struct BodyReader {
    let object: [String: JSONValue]

    init(_ request: VideoRequest) throws {
        guard !request.bodyTooLarge, request.body.count <= VideoService.maximumBodyBytes else { throw APIFailure.tooLarge }
        guard case .object(let object)? = JSONValue.parse(request.body) else {
            throw APIFailure.badRequest("The request body must be a JSON object.")
        }
        self.object = object
    }

    init(object: [String: JSONValue]) {
        self.object = object
    }

    subscript(name: String) -> JSONValue? { object[name] }

    /// Exactly these properties, no more and no fewer.
    func only(_ allowed: Set<String>) throws {
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIFailure.badRequest("Unknown property “\(unknown)”.")
        }
        if let missing = allowed.sorted().first(where: { object[$0] == nil }) {
            throw APIFailure.badRequest("The property “\(missing)” is required.")
        }
    }

    func string(_ name: String) throws -> String {
        guard case .string(let value)? = object[name] else {
            throw APIFailure.badRequest("“\(name)” must be a string, not \(object[name]?.typeName ?? "missing").")
        }
        return value
    }

    func integer(_ name: String) throws -> Int64 {
        switch object[name] {
        case .integer(let value)?: return value
        case .number(let value)? where value.rounded() == value && abs(value) < 9e15: return Int64(value)
        default: throw APIFailure.badRequest("“\(name)” must be an integer.")
        }
    }

    /// `checksumSHA256`: the base64 of `what`'s 32-byte SHA-256 digest.
    func checksum(of what: String) throws -> ChecksumSHA256 {
        guard case .string(let text)? = object["checksumSHA256"], let value = ChecksumSHA256(base64: text) else {
            throw APIFailure.badRequest("“checksumSHA256” must be the base64 of \(what)'s 32-byte SHA-256 digest (44 characters ending in “=”).")
        }
        return value
    }

    /// `value` as a part number from 1 to 10000, or nil.
    static func partNumber(_ value: JSONValue?) -> Int? {
        guard case .integer(let number)? = value, (1...10_000).contains(number) else { return nil }
        return Int(number)
    }
}
