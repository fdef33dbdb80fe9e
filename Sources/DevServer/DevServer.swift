import Foundation
import HTTPTypes
import HTTPServing
import Hummingbird
import Logging
import NIOCore
import SiteBuild
import ServiceLifecycle
import Synchronization

/// What the dev server answers to a request, decided without waiting.
enum Decision {
    /// A complete answer from memory; `body` is nil for HEAD and empty answers.
    case answer(status: HTTPResponse.Status, fields: HTTPFields, body: ByteBuffer?)
    /// `length` bytes of the file at `path` from `offset` (a `.gz` sibling on disk).
    case file(status: HTTPResponse.Status, fields: HTTPFields, path: String, offset: Int64, length: Int64, head: Bool)
    /// The live-reload event stream.
    case events
    /// The build is not whole yet (the first build has not ended, or the page asked for is still
    /// being rendered): wait until it is, then decide again.
    case wait
    /// A path the local cloud answers (`/api`, `/api/…`, `/media/…`): handed to it (`Upstream`).
    case forward
}

/// The request's context: its connection, which a forwarded request needs (the client's address,
/// and noticing when it goes away).
struct DevContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Serves `dist/` as production would (pretty URLs, 404 page, types, strong ETags, ranges, gzip,
/// security headers), plus the live-reload client at `/_site/live.js` and its event stream; with a
/// local cloud (in this process, or through `proxy`), `/api`, `/api/…` and `/media/…` go to it, as
/// production's distribution sends them to the API and the media.
/// `decide` is synchronous, so the same answers are given on the event loop (`InMemoryAnswers`)
/// and through Hummingbird's responder (everything that has to wait or stream).
struct DevResponder: HTTPResponder {
    typealias Context = DevContext
    let files: CurrentSite
    let root: String
    let live: LiveReload
    var hosts = AllowedHosts()
    var proxy: Proxy?
    /// The local cloud in this process, which takes forwarded requests itself.
    var local: (@Sendable (Request) async -> Response)?
    let bodies = ServedBodies()

    /// Whether `/api` and `/media/` go to a local cloud.
    var forwards: Bool { proxy != nil || local != nil }

    static let clientPath = "/_site/live.js"
    static let eventsPath = "/_site/events"

    func respond(to request: Request, context: Context) async throws -> Response {
        var decision = decide(request.head, site: files.value, waited: false)
        if case .wait = decision {
            decision = decide(request.head, site: await files.whole(), waited: true)
        }
        switch decision {
        case .answer:
            return Self.response(decision)
        case .file(let status, let fields, let path, let offset, let length, let head):
            if head { return Response(status: status, headers: fields, body: ResponseBody()) }
            // A rebuild may have swapped dist/ since the decision.
            guard let body = try? fileBody(path: path, offset: offset, length: length) else { return Self.response(Self.text(404, "Not found.\n")) }
            return Response(status: status, headers: fields, body: body)
        case .events:
            return events()
        case .forward:
            if let local { return await local(request) }
            guard let proxy else { return Self.response(Self.text(404, "Not found.\n")) }
            return await proxy.forward(request, channel: context.channel)
        case .wait:
            // A whole site (or none, waited for) never asks to wait again.
            return Self.response(Self.text(503, Self.firstBuildFailed))
        }
    }

    /// The answer to `request` from `site` (nil before the first build has ended, or after it
    /// failed when `waited`; `.wait` for a page still being rendered). A HEAD answer has the GET
    /// answer's fields and no body. The `Host` check comes first, forwarded paths included.
    func decide(_ request: HTTPRequest, site: SiteFiles?, waited: Bool) -> Decision {
        guard hosts.allows(authority: request.authority) else {
            return Self.text(403, AllowedHosts.refusal(authority: request.authority))
        }
        if forwards, let target = request.path, Proxy.forwards(target) { return .forward }
        let decision = decideGet(request, site: site, waited: waited)
        if request.method == .head, case .answer(let status, let fields, .some) = decision {
            return .answer(status: status, fields: fields, body: nil)
        }
        return decision
    }

    private func decideGet(_ request: HTTPRequest, site: SiteFiles?, waited: Bool) -> Decision {
        guard request.method == .get || request.method == .head else {
            return Self.text(405, "Only GET and HEAD are served.\n", fields: [.allow: "GET, HEAD"])
        }
        let target = request.path ?? "/"
        let rawPath = target.utf8.contains(UInt8(ascii: "?")) ? String(target.prefix { $0 != "?" }) : target
        if rawPath == Self.clientPath {
            return Self.text(200, Self.client, type: "text/javascript; charset=utf-8", fields: [.cacheControl: "no-store"])
        }
        if rawPath == Self.eventsPath { return .events }
        guard let path = Self.decodePath(rawPath) else { return notFound(request, site: site) }
        guard let site else {
            return waited ? Self.text(503, Self.firstBuildFailed) : .wait
        }
        switch site.resolve(path) {
        case .pending:
            return .wait
        case .redirect(let location):
            return Self.text(301, "", fields: [.location: location])
        case .notFound:
            return notFound(request, site: site)
        case .file(let entry):
            return serve(entry, request: request, site: site, status: 200)
        }
    }

    /// Percent-decodes a path; nil for encodings that could smuggle a separator or NUL
    /// (`%2f`, `%5c`, `%00`) or that are not UTF-8.
    static func decodePath(_ raw: String) -> String? {
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return raw }
        let lowered = raw.lowercased()
        for smuggled in ["%2f", "%5c", "%00", "%25"] where lowered.contains(smuggled) { return nil }
        guard let decoded = raw.removingPercentEncoding else { return nil }
        return decoded
    }

    private func notFound(_ request: HTTPRequest, site: SiteFiles?) -> Decision {
        switch site?.lookup("404.html") {
        case .file(let page): return serve(page, request: request, site: site!, status: 404)
        case .pending: return .wait
        default: break
        }
        return Self.text(404, "Not found.\n")
    }

    /// A body to send: bytes in memory, or a file on disk of some size.
    private enum Body {
        case memory(ByteBuffer)
        case disk(path: String, size: Int64)
    }

    /// `entry` as production sends it: a page with the live-reload client, any other file as built;
    /// gzipped when the request accepts it and the build has a smaller gzip (a page's is made in
    /// memory, a file's is its `.gz` sibling on disk), except for a range, which is of the plain
    /// bytes. Each encoding has its own strong ETag.
    private func serve(_ entry: Manifest.Entry, request: HTTPRequest, site: SiteFiles, status: Int) -> Decision {
        let head = request.method == .head
        let isPage = entry.contentType.hasPrefix("text/html")
        var fields = site.fields
        fields[.cacheControl] = "no-cache"
        fields[.acceptRanges] = "bytes"
        // Every page can be gzipped in memory; other files when the build made a `.gz`.
        if isPage || entry.gzip != nil { fields[.vary] = "Accept-Encoding" }
        let range = status == 200 ? request.headerFields[.range] : nil
        // A page is not the build's bytes once it has the client: its ETag says so.
        var etag = isPage ? entry.sha256 + "-live" : entry.sha256
        let body: Body
        if range == nil, Self.acceptsGzip(request.headerFields[.acceptEncoding]), let gzipped = gzipped(entry, site: site, isPage: isPage) {
            body = gzipped
            etag += "-gzip"
            fields[.contentEncoding] = "gzip"
        } else if isPage {
            guard let page = bodies.page(entry, in: site) else { return Self.text(500, "Unreadable file.\n") }
            body = .memory(page)
        } else {
            body = bodies.file(entry, in: site).map(Body.memory) ?? .disk(path: root + "/" + entry.path, size: Int64(entry.size))
        }
        fields[.eTag] = "\"\(etag)\""
        if status == 200, etagListMatches(request.headerFields[.ifNoneMatch], "\"\(etag)\"") {
            return .answer(status: .notModified, fields: fields, body: nil)
        }
        fields[.contentType] = entry.contentType
        let size: Int64
        switch body {
        case .memory(let buffer): size = Int64(buffer.readableBytes)
        case .disk(_, let bytes): size = bytes
        }
        var start: Int64 = 0
        var length = size
        var code = status
        if let range {
            switch ByteRange.parse(range, size: size) {
            case .whole: break
            case .unsatisfiable:
                fields[.contentType] = nil
                fields[.contentRange] = "bytes */\(size)"
                return Self.text(416, "Range not satisfiable.\n", fields: fields)
            case .range(let first, let last):
                start = first
                length = last - first + 1
                code = 206
                fields[.contentRange] = "bytes \(first)-\(last)/\(size)"
            }
        }
        fields[.contentLength] = String(length)
        switch body {
        case .memory(let buffer):
            let slice = buffer.getSlice(at: buffer.readerIndex + Int(start), length: Int(length))
            return .answer(status: .init(code: code), fields: fields, body: head ? nil : slice)
        case .disk(let path, _):
            return .file(status: .init(code: code), fields: fields, path: path, offset: start, length: length, head: head)
        }
    }

    /// The gzipped form of `entry`, when there is one and it is smaller.
    private func gzipped(_ entry: Manifest.Entry, site: SiteFiles, isPage: Bool) -> Body? {
        if isPage { return bodies.gzippedPage(entry, in: site).map(Body.memory) }
        return entry.gzip.map { .disk(path: root + "/" + $0.path, size: Int64($0.size)) }
    }

    private func events() -> Response {
        let live = self.live
        var fields = HTTPFields()
        fields[.contentType] = "text/event-stream"
        fields[.cacheControl] = "no-store"
        let body = ResponseBody { writer in
            let (id, stream) = live.subscribe()
            defer { live.unsubscribe(id) }
            try await writer.write(ByteBuffer(string: "retry: 500\n: connected\n\n"))
            // The stream ends when the server shuts down, so Ctrl-C does not wait for open tabs.
            try await withGracefulShutdownHandler {
                for await event in stream {
                    try await writer.write(ByteBuffer(string: event.serverSentEvent))
                }
            } onGracefulShutdown: {
                live.unsubscribe(id)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: fields, body: body)
    }

    /// The page's own `<meta http-equiv="Content-Security-Policy">` gets the development
    /// changes too (both policies apply, so the stricter would block the event stream).
    static func relaxMetaPolicy(_ html: inout String) {
        let marker = "http-equiv=\"Content-Security-Policy\" content=\""
        guard let start = html.range(of: marker), let end = html[start.upperBound...].firstIndex(of: "\"") else { return }
        let policy = String(html[start.upperBound..<end])
        html.replaceSubrange(start.upperBound..<end, with: SiteFiles.developmentPolicy(policy))
    }

    // MARK: HTTP pieces

    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        for part in header.lowercased().split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.first == "gzip" || pieces.first == "*" else { continue }
            let quality = pieces.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return quality > 0
        }
        return false
    }

    static let firstBuildFailed = "The first build failed; the terminal running site serve says why.\n"

    /// A text answer; `fields` go before its type and length.
    static func text(_ status: Int, _ text: String, type: String = "text/plain; charset=utf-8", fields: HTTPFields = [:]) -> Decision {
        var fields = fields
        fields[.contentType] = type
        fields[.contentLength] = String(text.utf8.count)
        return .answer(status: .init(code: status), fields: fields, body: text.isEmpty ? nil : ByteBuffer(string: text))
    }

    /// An answer from memory as Hummingbird's response.
    static func response(_ decision: Decision) -> Response {
        guard case .answer(let status, let fields, let body) = decision else { return Response(status: .internalServerError) }
        return Response(status: status, headers: fields, body: body.map { ResponseBody(byteBuffer: $0) } ?? ResponseBody())
    }
}
