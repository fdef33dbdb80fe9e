import Foundation
import HTTPTypes
import HTTPServing
import Hummingbird
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Small builders for the local cloud's responses.
enum Reply {
    static func bytes(_ status: Int, _ body: some Collection<UInt8>, type: String?, headers: [(String, String)] = []) -> Response {
        var fields = HTTPFields()
        if let type { fields[.contentType] = type }
        for (name, value) in headers { fields.append(name, value) }
        fields[.contentLength] = String(body.count)
        return Response(status: .init(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func text(_ status: Int, _ text: String, type: String, headers: [(String, String)] = []) -> Response {
        bytes(status, Array(text.utf8), type: type, headers: headers)
    }

    static func json(_ status: Int, _ value: Any, type: String = "application/json", headers: [(String, String)] = []) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return bytes(status, data, type: type, headers: headers)
    }

    static func empty(_ status: Int, headers: [(String, String)] = []) -> Response {
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(name, value) }
        if status != 204 && status != 304 { fields[.contentLength] = "0" }
        return Response(status: .init(code: status), headers: fields, body: ResponseBody())
    }

    /// Streams `length` bytes of the file at `path` from `offset`.
    static func file(_ status: Int, path: String, offset: Int64, length: Int64, headers: [(String, String)]) -> Response {
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(name, value) }
        fields[.contentLength] = String(length)
        return Response(status: .init(code: status), headers: fields, body: fileBody(path: path, offset: offset, length: length))
    }
}

extension HTTPFields {
    mutating func append(_ name: String, _ value: String) {
        guard let fieldName = HTTPField.Name(name) else { return }
        append(HTTPField(name: fieldName, value: value))
    }

    func value(_ name: String) -> String? {
        guard let fieldName = HTTPField.Name(name) else { return nil }
        return self[fieldName]
    }
}

/// RFC 1123 dates for Last-Modified, and ISO 8601 with milliseconds for S3's XML.
enum HTTPDate {
    static func rfc1123(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(format: "%@, %02d %@ %04d %02d:%02d:%02d GMT", days[Int(parts.tm_wday)], parts.tm_mday,
                      months[Int(parts.tm_mon)], Int(parts.tm_year) + 1900, parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    static func iso8601(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = Int((date.timeIntervalSince1970 - Double(time)) * 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, max(0, min(999, millis)))
    }
}
