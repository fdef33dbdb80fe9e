import Foundation
import HTTPTypes
import HTTPServing
import Hummingbird
import Logging
import NIOCore
import SiteBuild
import ServiceLifecycle
import Synchronization

/// What happened to the build, as the browser's live-reload client hears it.
public enum LiveEvent: Sendable, Equatable {
    /// Reload the page.
    case reload
    /// Only stylesheets changed: swap them in place.
    case styles([Stylesheet])
    /// The build failed: show the message (with file:line) over the page.
    case failure(String)

    var serverSentEvent: String {
        switch self {
        case .reload: return "event: reload\ndata: {}\n\n"
        case .styles(let sheets):
            let list = sheets.map { ["source": $0.source, "href": $0.href, "integrity": $0.integrity] }
            let json = (try? JSONSerialization.data(withJSONObject: ["stylesheets": list], options: [.withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return "event: styles\ndata: \(json)\n\n"
        case .failure(let message):
            let json = (try? JSONSerialization.data(withJSONObject: ["message": message]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return "event: failure\ndata: \(json)\n\n"
        }
    }
}

/// Hands each event to every connected live-reload client; the last failure is replayed to a
/// client that connects while the build is broken.
public final class LiveReload: Sendable {
    private struct State {
        var clients: [Int: AsyncStream<LiveEvent>.Continuation] = [:]
        var next = 0
        var failure: String?
    }
    private let state = Mutex(State())

    public init() {}

    public func send(_ event: LiveEvent) {
        let clients = state.withLock { state -> [AsyncStream<LiveEvent>.Continuation] in
            if case .failure(let message) = event { state.failure = message } else { state.failure = nil }
            return Array(state.clients.values)
        }
        for client in clients { client.yield(event) }
    }

    public var clientCount: Int { state.withLock { $0.clients.count } }

    func subscribe() -> (Int, AsyncStream<LiveEvent>) {
        let (stream, continuation) = AsyncStream<LiveEvent>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let id = state.withLock { state -> Int in
            state.next += 1
            state.clients[state.next] = continuation
            if let failure = state.failure { continuation.yield(.failure(failure)) }
            return state.next
        }
        return (id, stream)
    }

    /// Drops a client and ends its stream.
    func unsubscribe(_ id: Int) {
        state.withLock { $0.clients.removeValue(forKey: id) }?.finish()
    }
}

/// The latest successful build, swapped whole after each rebuild.
final class CurrentSite: Sendable {
    private let site = Mutex<SiteFiles?>(nil)
    private let firstBuildEnded = Atomic<Bool>(false)
    var value: SiteFiles? { site.withLock { $0 } }
    func replace(_ value: SiteFiles) { site.withLock { $0 = value } }
    /// Marks the end of a build, successful or not.
    func attempted() { firstBuildEnded.store(true, ordering: .releasing) }

    /// The site, once the first build has ended; nil if it failed (or took over a minute).
    func waitForFirstBuild() async -> SiteFiles? {
        let deadline = ContinuousClock.now + .seconds(60)
        while value == nil, !firstBuildEnded.load(ordering: .acquiring), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return value
    }
}

/// What is served, by build hash: pages with the live-reload client and the development policy,
/// and files the build holds in memory, each made into a buffer once rather than on every request.
final class ServedBodies: Sendable {
    private struct Cache {
        var buffers: [String: ByteBuffer] = [:]
        var bytes = 0
    }
    private let cache = Mutex(Cache())
    /// Beyond this many bytes the cache starts over.
    private static let budget = 256 << 20

    private func cached(_ key: String, make: () -> ByteBuffer?) -> ByteBuffer? {
        if let buffer = cache.withLock({ $0.buffers[key] }) { return buffer }
        guard let buffer = make() else { return nil }
        cache.withLock { cache in
            if cache.bytes + buffer.readableBytes > Self.budget { cache = Cache() }
            cache.buffers[key] = buffer
            cache.bytes += buffer.readableBytes
        }
        return buffer
    }

    /// The page for `entry`, with the live-reload client; nil when it is not UTF-8.
    func page(_ entry: Manifest.Entry, in site: SiteFiles) -> ByteBuffer? {
        cached("page " + entry.sha256) {
            guard let bytes = site.bodies[entry.path], var html = String(validating: bytes, as: UTF8.self) else { return nil }
            DevResponder.relaxMetaPolicy(&html)
            let tag = "<script type=\"module\" src=\"\(DevResponder.clientPath)\"></script>"
            if let body = html.range(of: "</body>", options: .backwards) { html.insert(contentsOf: tag, at: body.lowerBound) } else { html += tag }
            return ByteBuffer(string: html)
        }
    }

    /// The bytes of `entry`.
    func file(_ entry: Manifest.Entry, in site: SiteFiles) -> ByteBuffer? {
        guard let body = site.bodies[entry.path] else { return nil }
        return cached("file " + entry.sha256) { ByteBuffer(bytes: body) }
    }
}

/// What the dev server answers to a request, decided without waiting.
enum Decision {
    /// A complete answer from memory; `body` is nil for HEAD and empty answers.
    case answer(status: HTTPResponse.Status, fields: HTTPFields, body: ByteBuffer?)
    /// `length` bytes of the file at `path` from `offset` (a `.gz` sibling on disk).
    case file(status: HTTPResponse.Status, fields: HTTPFields, path: String, offset: Int64, length: Int64, head: Bool)
    /// The live-reload event stream.
    case events
    /// The first build has not ended yet: wait for it, then decide again.
    case firstBuild
}

/// Serves `dist/` as production would (pretty URLs, 404 page, types, strong ETags, ranges, gzip,
/// security headers), plus the live-reload client at `/_site/live.js` and its event stream.
/// `decide` is synchronous, so the same answers are given on the event loop (`InMemoryAnswers`)
/// and through Hummingbird's responder (everything that has to wait or stream).
struct DevResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let files: CurrentSite
    let root: String
    let live: LiveReload
    let bodies = ServedBodies()

    static let clientPath = "/_site/live.js"
    static let eventsPath = "/_site/events"

    func respond(to request: Request, context: Context) async throws -> Response {
        var decision = decide(request.head, site: files.value, waited: false)
        if case .firstBuild = decision {
            decision = decide(request.head, site: await files.waitForFirstBuild(), waited: true)
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
        case .firstBuild:
            // decide(waited: true) never asks to wait again.
            return Self.response(Self.text(503, Self.firstBuildFailed))
        }
    }

    /// The answer to `request` from `site` (nil before the first build has ended, or after it
    /// failed when `waited`). A HEAD answer has the GET answer's fields and no body.
    func decide(_ request: HTTPRequest, site: SiteFiles?, waited: Bool) -> Decision {
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
            return waited ? Self.text(503, Self.firstBuildFailed) : .firstBuild
        }
        switch site.resolve(path) {
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
        if let site, let page = site.entries["404.html"] {
            return serve(page, request: request, site: site, status: 404)
        }
        return Self.text(404, "Not found.\n")
    }

    private func serve(_ entry: Manifest.Entry, request: HTTPRequest, site: SiteFiles, status: Int) -> Decision {
        let head = request.method == .head
        if entry.contentType.hasPrefix("text/html") {
            // The page gets the live-reload client; its ETag says so.
            let etag = "\"\(entry.sha256)-live\""
            var fields = site.fields
            fields[.cacheControl] = "no-cache"
            fields[.eTag] = etag
            if status == 200, etagListMatches(request.headerFields[.ifNoneMatch], etag) {
                return .answer(status: .notModified, fields: fields, body: nil)
            }
            guard let page = bodies.page(entry, in: site) else { return Self.text(500, "Unreadable file.\n") }
            fields[.contentType] = entry.contentType
            fields[.contentLength] = String(page.readableBytes)
            return .answer(status: .init(code: status), fields: fields, body: head ? nil : page)
        }
        var fields = site.fields
        fields[.cacheControl] = "no-cache"
        let etag = "\"\(entry.sha256)\""
        fields[.eTag] = etag
        fields[.acceptRanges] = "bytes"
        if etagListMatches(request.headerFields[.ifNoneMatch], etag) {
            return .answer(status: .notModified, fields: fields, body: nil)
        }
        fields[.contentType] = entry.contentType
        var path = root + "/" + entry.path
        var size = Int64(entry.size)
        let range = request.headerFields[.range]
        var gzipped = false
        if range == nil, let gzip = entry.gzip, Self.acceptsGzip(request.headerFields[.acceptEncoding]) {
            path = root + "/" + gzip.path
            size = Int64(gzip.size)
            fields[.contentEncoding] = "gzip"
            gzipped = true
        }
        if entry.gzip != nil { fields[.vary] = "Accept-Encoding" }
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
        if !gzipped, let body = bodies.file(entry, in: site), let slice = body.getSlice(at: Int(start), length: Int(length)) {
            return .answer(status: .init(code: code), fields: fields, body: head ? nil : slice)
        }
        return .file(status: .init(code: code), fields: fields, path: path, offset: start, length: length, head: head)
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

    /// The live-reload client: reloads on `reload`, shows a build failure over the page (as text).
    static let client = """
        // SStech Video dev server: live reload (never part of `site build` output).
        const overlayId = "site-build-failure";
        function showFailure(message) {
          let overlay = document.getElementById(overlayId);
          if (!overlay) {
            overlay = document.createElement("pre");
            overlay.id = overlayId;
            overlay.setAttribute("role", "alert");
            overlay.style.cssText = "position:fixed;inset:0;margin:0;padding:2rem;z-index:2147483647;overflow:auto;" +
              "background:rgba(20,20,28,.94);color:#ffb4b4;font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap";
            document.body.append(overlay);
          }
          overlay.textContent = "Build failed\\n\\n" + message;
        }
        // Closed when the page is hidden: a page kept in the back/forward cache with its stream open
        // would hold one of the browser's six connections to this server, and a few such pages stall
        // every later request until the cache lets them go.
        let source = null;
        let failed = false;
        // A stylesheet's URL is its source's with an 8-digit fingerprint: /assets/css/app.1a2b3c4d.css.
        const unfingerprinted = (path) => path.replace(/\\.[0-9a-f]{8}(\\.css)$/, "$1");
        function swapStyles(event) {
          if (failed) { location.reload(); return; }
          const sheets = JSON.parse(event.data).stylesheets;
          for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
            const current = unfingerprinted(new URL(link.href).pathname);
            const sheet = sheets.find((candidate) => "/" + candidate.source === current);
            if (!sheet || new URL(link.href).pathname === sheet.href) continue;
            const next = link.cloneNode();
            next.integrity = sheet.integrity;
            next.href = sheet.href;
            next.addEventListener("load", () => link.remove(), { once: true });
            link.after(next);
          }
        }
        function connect() {
          source = new EventSource("/_site/events");
          source.addEventListener("failure", (event) => { failed = true; showFailure(JSON.parse(event.data).message); });
          source.addEventListener("reload", () => { location.reload(); });
          source.addEventListener("styles", swapStyles);
        }
        addEventListener("pagehide", () => { source?.close(); source = null; });
        // Back from the cache: the page may be stale, so load it again rather than reconnect.
        addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });
        connect();
        """
}
