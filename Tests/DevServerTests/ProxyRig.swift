import Foundation
import HTTPServing
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes
import ServiceLifecycle
import SiteBuild
import Synchronization
@testable import DevServer

// A dev server with a proxy in front of a small upstream (a Hummingbird app on port 0 standing in
// for the local cloud), both on loopback, and a client that sends bytes exactly as written.

/// What the upstream saw.
final class UpstreamLog: Sendable {
    struct Seen: Sendable {
        var method: String
        var target: String
        var authority: String?
        var fields: [(name: String, value: String)]

        func values(_ name: String) -> [String] { fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value) }
        func value(_ name: String) -> String? { values(name).first }
    }

    private struct State {
        var seen: [Seen] = []
        var received = 0
        var stored: [UInt8] = []
        var gateOpen = false
        var dripEnded = false
        var closedConnections = 0
        var stopping = false
    }
    private let state = Mutex(State())

    var seen: [Seen] { state.withLock { $0.seen } }
    var last: Seen? { seen.last }
    var received: Int { state.withLock { $0.received } }
    var stored: [UInt8] { state.withLock { $0.stored } }
    var dripEnded: Bool { state.withLock { $0.dripEnded } }
    var closedConnections: Int { state.withLock { $0.closedConnections } }
    var gateOpen: Bool { state.withLock { $0.gateOpen } }

    func record(_ request: Request) {
        let seen = Seen(method: request.method.rawValue, target: request.head.path ?? "", authority: request.head.authority,
                        fields: request.headers.map { ($0.name.rawName, $0.value) })
        state.withLock { $0.seen.append(seen) }
    }

    func receive(_ buffer: ByteBuffer) {
        state.withLock {
            $0.received += buffer.readableBytes
            $0.stored += buffer.readableBytesView
        }
    }

    var stopping: Bool { state.withLock { $0.stopping } }
    func stop() { state.withLock { $0.stopping = true } }

    func openGate() { state.withLock { $0.gateOpen = true } }
    func dripEnd() { state.withLock { $0.dripEnded = true } }
    func connectionClosed() { state.withLock { $0.closedConnections += 1 } }
}

/// Counts the upstream's connections that close (the proxy gave up a request by closing one).
final class ClosingSpy: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    let log: UpstreamLog

    init(log: UpstreamLog) { self.log = log }

    private var closed = false

    /// The peer closed (its side, or the connection): counted once.
    private func peerClosed() {
        if !closed { log.connectionClosed() }
        closed = true
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent { peerClosed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peerClosed()
        context.fireChannelInactive()
    }
}

/// Bytes in which no two nearby positions repeat in step: `count` of them from `seed`.
func pattern(_ count: Int, seed: UInt32 = 7) -> [UInt8] {
    var state = seed &* 2_654_435_761 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return UInt8(truncatingIfNeeded: state)
    }
}

/// The upstream's routes, each showing one thing a proxy must pass on.
struct Upstream: HTTPResponder {
    typealias Context = BasicRequestContext
    let log: UpstreamLog
    static let video = pattern(1000, seed: 11)
    static let gated = pattern(4 << 20, seed: 13)

    func respond(to request: Request, context: Context) async throws -> Response {
        log.record(request)
        let path = String((request.head.path ?? "/").prefix { $0 != "?" })
        switch path {
        case "/api", "/api/echo":
            // The body back, collected first; HEAD gets the length only.
            if request.method == .head { return Response(status: .ok, headers: [.contentLength: "5"], body: ResponseBody()) }
            var request = request
            let body = try await request.collectBody(upTo: 64 << 20)
            return Response(status: .ok, headers: [.contentType: "application/octet-stream", HTTPField.Name("X-Seen-Method")!: request.method.rawValue],
                            body: ResponseBody(byteBuffer: body))
        case "/api/sink":
            // Counts what it reads, keeps nothing.
            var count = 0
            for try await part in request.body { count += part.readableBytes }
            return Response(status: .ok, headers: [.contentLength: String(String(count).utf8.count)], body: ResponseBody(byteBuffer: ByteBuffer(string: String(count))))
        case "/media/big":
            // `?bytes=N` of one MiB block over and over.
            let count = Int((request.head.path ?? "").split(separator: "=").last.map(String.init) ?? "") ?? 0
            return Response(status: .ok, headers: [.contentType: "video/mp4"], body: ResponseBody(contentLength: count) { writer in
                let block = ByteBuffer(bytes: pattern(1 << 20, seed: 17))
                var left = count
                while left > 0 {
                    try await writer.write(block.getSlice(at: 0, length: min(left, 1 << 20))!)
                    left -= min(left, 1 << 20)
                }
                try await writer.finish(nil)
            })
        case "/api/refuse":
            // Answers at once, before reading a body of any size (as the API does with one too large).
            return Response(status: .contentTooLarge, headers: [.contentLength: "0"])
        case "/api/stream-echo":
            // The body back as it comes in.
            let body = request.body
            return Response(status: .ok, body: ResponseBody { writer in
                for try await part in body { try await writer.write(part) }
                try await writer.finish(nil)
            })
        case "/api/count":
            for try await part in request.body { log.receive(part) }
            return Response(status: .ok, headers: [.contentLength: "2"], body: ResponseBody(byteBuffer: ByteBuffer(string: "ok")))
        case "/media/gated":
            // Half, then the rest once the test says the client has the first half.
            let log = self.log
            return Response(status: .ok, headers: [.contentType: "video/mp4"], body: ResponseBody(contentLength: Self.gated.count) { writer in
                let half = Self.gated.count / 2
                for start in stride(from: 0, to: half, by: 64 << 10) { try await writer.write(ByteBuffer(bytes: Self.gated[start..<min(half, start + (64 << 10))])) }
                let deadline = ContinuousClock.now + .seconds(20)
                while !log.gateOpen, !log.stopping, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
                for start in stride(from: half, to: Self.gated.count, by: 64 << 10) {
                    try await writer.write(ByteBuffer(bytes: Self.gated[start..<min(Self.gated.count, start + (64 << 10))]))
                }
                try await writer.finish(nil)
            })
        case "/media/videos/user/video/video.mp4":
            var fields: HTTPFields = [.acceptRanges: "bytes", .eTag: "\"v1\"", .contentType: "video/mp4"]
            if etagListMatches(request.headers[.ifNoneMatch], "\"v1\"") { return Response(status: .notModified, headers: fields) }
            var status = HTTPResponse.Status.ok
            var slice = Self.video[...]
            if let range = request.headers[.range] {
                switch ByteRange.parse(range, size: Int64(Self.video.count)) {
                case .whole: break
                case .unsatisfiable:
                    fields[.contentRange] = "bytes */\(Self.video.count)"
                    return Response(status: .rangeNotSatisfiable, headers: fields)
                case .range(let first, let last):
                    status = .partialContent
                    slice = Self.video[Int(first)...Int(last)]
                    fields[.contentRange] = "bytes \(first)-\(last)/\(Self.video.count)"
                }
            }
            if request.method == .head {
                fields[.contentLength] = String(slice.count)
                return Response(status: status, headers: fields, body: ResponseBody())
            }
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: slice)))
        case "/api/session":
            var fields = HTTPFields()
            fields.append(HTTPField(name: .setCookie, value: "CloudFront-Policy=abc_-~; Path=/media/videos/user/; Secure; HttpOnly; SameSite=Strict"))
            fields.append(HTTPField(name: .setCookie, value: "CloudFront-Signature=x~y; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/media/videos/user/"))
            fields[.cacheControl] = "no-store"
            return Response(status: .noContent, headers: fields)
        case "/api/videos":
            let json = #"{"message":"Unauthorized"}"#
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"video\", error=\"invalid_token\"", .contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
        case "/api/busy":
            return Response(status: .serviceUnavailable, headers: [.retryAfter: "3", .contentLength: "0"])
        case "/api/gzip":
            // Not decompressed on the way: these bytes are not gzip at all.
            return Response(status: .ok, headers: [.contentEncoding: "gzip", .vary: "Accept-Encoding"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: [0x1f, 0x8b, 1, 2, 3])))
        case "/api/redirect":
            return Response(status: .found, headers: [.location: "/elsewhere", .contentLength: "0"])
        case "/api/hop":
            var fields: HTTPFields = [.connection: "X-Upstream-Hop", HTTPField.Name("X-Upstream-Hop")!: "1", HTTPField.Name("Keep-Alive")!: "timeout=9",
                                      .proxyAuthenticate: "Basic", HTTPField.Name("X-Kept")!: "yes"]
            fields[.contentLength] = "0"
            return Response(status: .ok, headers: fields)
        case "/api/wait":
            let deadline = ContinuousClock.now + .seconds(20)
            while !log.stopping, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            return Response(status: .ok, headers: [.contentLength: "0"])
        case "/api/drip":
            let log = self.log
            return Response(status: .ok, body: ResponseBody { writer in
                defer { log.dripEnd() }
                for _ in 0..<1000 where !log.stopping {
                    try await writer.write(ByteBuffer(bytes: [UInt8](repeating: 42, count: 1024)))
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await writer.finish(nil)
            })
        default:
            return Response(status: .notFound, headers: [.contentLength: "0"])
        }
    }
}

/// Runs a Hummingbird application until `stop` shuts it down gracefully; `start` returns its port.
final class Running: Sendable {
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    static func start<App: ApplicationProtocol>(_ make: (@escaping @Sendable (Int) -> Void) -> App) async throws -> Running {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = make { continuation.yield($0) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: QuietLogHandler.logger(label: "test")))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw RigFailure("the server did not start") }
        return Running(port: port, group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}

struct RigFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A dev server forwarding to an upstream (or to a port no one listens on).
final class ProxyRig: Sendable {
    let log: UpstreamLog
    let upstream: Running?
    let dev: Running
    let proxy: Proxy
    let root: String
    var port: Int { dev.port }
    var upstreamOrigin: String { proxy.origin }

    private init(log: UpstreamLog, upstream: Running?, dev: Running, proxy: Proxy, root: String) {
        self.log = log
        self.upstream = upstream
        self.dev = dev
        self.proxy = proxy
        self.root = root
    }

    static func start(upstreamDown: Bool = false, allowedHosts: [String] = []) async throws -> ProxyRig {
        let log = UpstreamLog()
        let upstream: Running?
        let origin: String
        if upstreamDown {
            upstream = nil
            origin = "http://127.0.0.1:\(try unusedPort())"
        } else {
            let running = try await Running.start { ready in
                Application(responder: Upstream(log: log),
                            server: .http1(configuration: .init(additionalChannelHandlers: [ClosingSpy(log: log)])),
                            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
                            onServerRunning: { ready($0.localAddress?.port ?? 0) },
                            logger: QuietLogHandler.logger(label: "upstream"))
            }
            upstream = running
            origin = "http://127.0.0.1:\(running.port)"
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-\(UUID().uuidString)").path
        let files = CurrentSite()
        let sources = [
            "site/site.yml": "title: Proxied\n",
            "site/layouts/page.mustache": "<!doctype html><html><head><title>{{title}}</title></head><body>{{{content}}}</body></html>\n",
            "site/pages/index.md": "---\ntitle: Home\n---\nHome.\n",
            "site/pages/404.md": "---\ntitle: Not found\n---\nNothing here.\n",
        ]
        for (path, text) in sources {
            let url = URL(fileURLWithPath: root + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let session = BuildSession(BuildOptions(projectRoot: root, output: root + "/dist"))
        files.replace(SiteFiles(root: root + "/dist", prepared: try session.prepare()))
        files.attempted()
        let proxy = Proxy(origin: origin)
        let responder = DevResponder(files: files, root: root + "/dist", live: LiveReload(), hosts: AllowedHosts(allowedHosts), proxy: proxy)
        let dev = try await Running.start { ready in DevServer.application(responder, host: "127.0.0.1", port: 0, ready: ready) }
        return ProxyRig(log: log, upstream: upstream, dev: dev, proxy: proxy, root: root)
    }

    func stop() async {
        log.stop()
        await dev.stop()
        await proxy.shutdown()
        await upstream?.stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Sends `request` (CRLFs added: one line per element, then an empty line) and `body` on a
    /// new connection, and reads one answer.
    func send(_ lines: [String], body: [UInt8] = [], head: Bool = false) async throws -> RawResponse {
        let port = self.port
        return try await blocking {
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            try connection.send(Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + body)
            return try connection.readResponse(head: head)
        }
    }

    /// Waits up to `seconds` for `condition`.
    func eventually(_ seconds: Double = 10, _ condition: @Sendable () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}

/// Runs `body` with a started rig, stopped after it.
func withRig(upstreamDown: Bool = false, allowedHosts: [String] = [], _ body: (ProxyRig) async throws -> Void) async throws {
    let rig = try await ProxyRig.start(upstreamDown: upstreamDown, allowedHosts: allowedHosts)
    do {
        try await body(rig)
    } catch {
        await rig.stop()
        throw error
    }
    await rig.stop()
}

/// A port nothing listens on (the kernel's pick, closed again).
func unusedPort() throws -> Int {
    guard let port = freeLoopbackPort() else { throw RigFailure("no free port") }
    return port
}

/// This process's resident memory now, in bytes.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else { return 0 }
    return kib * 1024
}

/// Runs blocking work on a thread of its own, off the threads the servers' tasks run on.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

struct RawResponse: Sendable {
    var status: Int
    var fields: [(name: String, value: String)]
    var body: [UInt8]
    /// Interim answers (100 Continue) read before this one.
    var interim: [Int] = []

    func values(_ name: String) -> [String] { fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value) }
    func value(_ name: String) -> String? { values(name).first }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking client socket: bytes out exactly as given, answers parsed as they come.
final class RawConnection: @unchecked Sendable {
    private let descriptor: Int32
    private var pending: [UInt8] = []
    private var start = 0

    init(port: Int, timeout: Int = 20) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw RigFailure("socket") }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            Glibc.close(descriptor)
            throw RigFailure("cannot connect to port \(port)")
        }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw RigFailure("send failed (errno \(errno))") }
            offset += sent
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Reads more from the socket into `pending` when all of it has been taken; false at the end of the stream.
    private func fill() throws -> Bool {
        if start < pending.count { return true }
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count < 0 { throw RigFailure("receive failed (errno \(errno))") }
        pending = Array(buffer.prefix(count))
        start = 0
        return count > 0
    }

    /// Exactly `count` bytes, or fewer at the end of the stream.
    func read(_ count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count, try fill() {
            let taken = min(count - result.count, pending.count - start)
            result += pending[start..<(start + taken)]
            start += taken
        }
        return result
    }

    /// Whatever comes until the end of the stream.
    func readToEnd() throws -> [UInt8] {
        var result: [UInt8] = []
        while try fill() {
            result += pending[start...]
            start = pending.count
        }
        return result
    }

    private func line() throws -> String {
        var bytes: [UInt8] = []
        while !(bytes.count >= 2 && bytes[bytes.count - 2] == 13 && bytes[bytes.count - 1] == 10) {
            let byte = try read(1)
            guard let first = byte.first else { throw RigFailure("the connection closed inside a head") }
            bytes.append(first)
        }
        return String(decoding: bytes.dropLast(2), as: UTF8.self)
    }

    /// The next answer's status and fields (interim ones included).
    func readHead() throws -> RawResponse {
        let status = try line()
        let parts = status.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let code = Int(parts[1]) else { throw RigFailure("not a status line: \(status)") }
        var fields: [(name: String, value: String)] = []
        while true {
            let field = try line()
            if field.isEmpty { break }
            guard let colon = field.firstIndex(of: ":") else { throw RigFailure("not a field: \(field)") }
            fields.append((String(field[..<colon]), field[field.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return RawResponse(status: code, fields: fields, body: [])
    }

    /// The next final answer, whole; `head` for the answer to HEAD (no body).
    func readResponse(head: Bool = false) throws -> RawResponse {
        var interim: [Int] = []
        var response = try readHead()
        while (100..<200).contains(response.status) {
            interim.append(response.status)
            response = try readHead()
        }
        response.interim = interim
        response.body = try readBody(of: response, head: head)
        return response
    }

    func readBody(of response: RawResponse, head: Bool = false) throws -> [UInt8] {
        if head || response.status == 204 || response.status == 304 { return [] }
        if let length = response.value("content-length").flatMap(Int.init) {
            let body = try read(length)
            guard body.count == length else { throw RigFailure("the body ended after \(body.count) of \(length) bytes") }
            return body
        }
        if response.value("transfer-encoding")?.lowercased() == "chunked" {
            var body: [UInt8] = []
            while true {
                let size = try line()
                guard let count = Int(size.prefix { $0 != ";" }, radix: 16) else { throw RigFailure("bad chunk size \(size)") }
                if count == 0 {
                    while try !line().isEmpty {}
                    return body
                }
                body += try read(count)
                _ = try read(2)
            }
        }
        return try readToEnd()
    }

    /// Closes at once, unread bytes and all.
    func close() {
        Glibc.close(descriptor)
    }
}
