import Foundation
import HTTPTypes
import HTTPServing
import Hummingbird
import NIOCore

/// Small builders for the local cloud's responses.
enum Reply {
    static func bytes(_ status: Int, _ body: some Collection<UInt8>, type: String?, headers: [(String, String)] = []) -> Response {
        var fields = HTTPFields()
        if let type { fields[.contentType] = type }
        fields.append(contentsOf: headers)
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
        fields.append(contentsOf: headers)
        if status != 204 && status != 304 { fields[.contentLength] = "0" }
        return Response(status: .init(code: status), headers: fields, body: ResponseBody())
    }

    /// Streams `length` bytes of the file at `path` from `offset`; throws when it cannot be opened.
    static func file(_ status: Int, path: String, offset: Int64, length: Int64, headers: [(String, String)]) throws -> Response {
        var fields = HTTPFields()
        fields.append(contentsOf: headers)
        fields[.contentLength] = String(length)
        return Response(status: .init(code: status), headers: fields, body: try fileBody(path: path, offset: offset, length: length))
    }
}

extension HTTPFields {
    mutating func append(_ name: String, _ value: String) {
        guard let fieldName = HTTPField.Name(name) else { return }
        append(HTTPField(name: fieldName, value: value))
    }

    mutating func append(contentsOf pairs: [(String, String)]) {
        for (name, value) in pairs { append(name, value) }
    }
}
