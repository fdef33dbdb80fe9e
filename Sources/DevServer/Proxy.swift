import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization

/// Forwards `/api`, `/api/…` and `/media/…` to the local cloud, so the browser sees one origin as
/// it will in production, where CloudFront sends those paths to the API and the media bucket and
/// everything else to the site.
///
/// As a development server's proxy does: every method; the request's fields except hop-by-hop ones,
/// with the browser's `Host` kept (the local cloud signs cookies for, and checks, the origin the
/// browser sees) and `X-Forwarded-For`, `-Proto` and `-Host` added; both bodies streamed with
/// backpressure (never held whole); the answer's status, fields (each `Set-Cookie` on its own line)
/// and bytes passed back as they are, never decompressed or re-encoded, redirects not followed.
/// Connections to the cloud are kept in a pool. An unreachable cloud gets 502; a client that goes
/// away cancels its request to the cloud.
final class Proxy: Sendable {
    /// `http://127.0.0.1:9400`, without a trailing slash.
    let origin: String
    private let client: HTTPClient
    let clients = ClientWatch()

    init(origin: String) {
        self.origin = origin.hasSuffix("/") ? String(origin.dropLast()) : origin
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled)
        configuration.httpVersion = .http1Only
        // Loopback: a refused connection is an answer, not a hiccup to retry until a timeout.
        configuration.timeout = .init(connect: .seconds(5))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.connectionPool.retryConnectionEstablishment = false
        // Media are read from the cloud up to 1 MiB at a time (NIO's reads stop at 64 KiB): each
        // part costs trips between threads whatever its size. (Measured by bench/proxy.py: 64 KiB reads
        // cost 0.7-0.8 s of CPU per GiB forwarded, 1 MiB reads 0.45-0.6 s, larger ones no less.)
        // And each request line carries the browser's target byte for byte (`RawTarget`).
        configuration.http1_1ConnectionDebugInitializer = { channel in
            channel.eventLoop.submit {
                try channel.syncOptions?.setOption(ChannelOptions.recvAllocator,
                                                   value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 << 10, maximum: 1 << 20))
                let pipeline = channel.pipeline.syncOperations
                try pipeline.addHandler(RawTarget(), position: .after(try pipeline.handler(type: HTTPRequestEncoder.self)))
            }
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    /// Whether a request target (path and query) is forwarded: `/api`, `/api/…`, `/media/…`, as
    /// the production distribution's behaviours match them (the raw path, case-sensitive).
    static func forwards(_ target: String) -> Bool {
        var utf8 = target.utf8[...]
        if let end = utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) { utf8 = utf8[..<end] }
        if utf8.starts(with: "/api".utf8) {
            return utf8.count == 4 || utf8.dropFirst(4).first == UInt8(ascii: "/")
        }
        return utf8.starts(with: "/media/".utf8)
    }

    /// Fields that describe one connection, not the message (RFC 9110 §7.6.1), and so are not
    /// forwarded either way; `Proxy-*` too. Lowercased.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]

    private static func isHopByHop(_ lowercased: String, named: Set<String>) -> Bool {
        hopByHop.contains(lowercased) || lowercased.hasPrefix("proxy-") || named.contains(lowercased)
    }

    /// The field names a `Connection` field lists: hop-by-hop for this message.
    private static func connectionOptions<S: Sequence<String>>(_ values: S) -> Set<String> {
        var names = Set<String>()
        for value in values {
            for token in value.split(separator: ",") {
                let name = token.trimmingCharacters(in: .whitespaces).lowercased()
                if !name.isEmpty { names.insert(name) }
            }
        }
        return names
    }

    /// The fields sent to the cloud: the request's end-to-end fields as named, `Host` as sent, and
    /// `X-Forwarded-For` (appended to), `X-Forwarded-Proto` and `X-Forwarded-Host` (replaced).
    /// `Expect` is answered here (`InMemoryAnswers`), and the body's framing is the client's to set.
    static func upstreamHeaders(_ head: HTTPRequest, client: SocketAddress?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headerFields.count + 4)
        if let authority = head.authority { headers.add(name: "Host", value: authority) }
        let named = connectionOptions(head.headerFields[values: .connection])
        var forwardedFor: [String] = []
        for field in head.headerFields {
            let name = field.name.canonicalName
            if isHopByHop(name, named: named) { continue }
            switch name {
            case "content-length", "expect", "x-forwarded-proto", "x-forwarded-host", "host", RawTarget.field: continue
            case "x-forwarded-for": forwardedFor.append(field.value)
            default: headers.add(name: field.name.rawName, value: field.value)
            }
        }
        if let address = client?.ipAddress { forwardedFor.append(address) }
        if !forwardedFor.isEmpty { headers.add(name: "X-Forwarded-For", value: forwardedFor.joined(separator: ", ")) }
        headers.add(name: "X-Forwarded-Proto", value: "http")
        if let authority = head.authority { headers.add(name: "X-Forwarded-Host", value: authority) }
        return headers
    }

    /// The cloud's answer's fields as the browser gets them: all but hop-by-hop ones, in order, each
    /// on its own line (several `Set-Cookie` stay several).
    static func responseFields(_ headers: HTTPHeaders) -> HTTPFields {
        let named = connectionOptions(headers[canonicalForm: "connection"].map(String.init))
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        for (name, value) in headers {
            guard let fieldName = HTTPField.Name(name), !isHopByHop(fieldName.canonicalName, named: named) else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
    }

    /// Sends `request` to the cloud and its answer back, both bodies streamed. `channel` is the
    /// browser's connection: its address goes into `X-Forwarded-For`, and its going away cancels
    /// the request while the cloud has not answered (afterwards, the failed write does).
    func forward(_ request: Request, channel: any Channel) async -> Response {
        let head = request.head
        // The client parses and re-encodes a URL's path and query (`%zz` would become `%25zz`, `{`
        // `%7B`): the target goes in a field of its own instead, and into the request line as sent.
        var upstream = HTTPClientRequest(url: origin + "/")
        upstream.method = NIOHTTP1.HTTPMethod(rawValue: head.method.rawValue)
        upstream.headers = Self.upstreamHeaders(head, client: channel.remoteAddress)
        upstream.headers.add(name: RawTarget.field, value: head.path ?? "/")
        let lease = BodyLease()
        if let length = head.headerFields[.contentLength] {
            guard let bytes = Int64(length), bytes >= 0 else { return Self.text(400, "The Content-Length is not a number.\n") }
            if bytes > 0 { upstream.body = .stream(LeasedBody(body: request.body, lease: lease), length: .known(bytes)) }
        } else if head.headerFields[.transferEncoding] != nil {
            upstream.body = .stream(LeasedBody(body: request.body, lease: lease), length: .unknown)
        }
        let client = self.client
        let exchange = Task { try await client.execute(upstream, deadline: .distantFuture) }
        let connection = ObjectIdentifier(channel)
        if !clients.watch(connection, cancel: { exchange.cancel() }) { exchange.cancel() }
        let response: HTTPClientResponse
        do {
            response = try await withTaskCancellationHandler { try await exchange.value } onCancel: { exchange.cancel() }
            clients.end(connection)
        } catch {
            clients.end(connection)
            await lease.end()
            return Self.text(502, "The local cloud is not answering at \(origin) (\(Self.describe(error))). "
                + "site serve forwards /api and /media/ to it, as CloudFront does in production; "
                + "the terminal running site serve may say why it stopped.\n")
        }
        let body = response.body
        return Response(
            status: HTTPResponse.Status(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
            headers: Self.responseFields(response.headers),
            body: ResponseBody { writer in
                // Each part as it comes; a failed write (the browser went away) drops the rest of
                // the cloud's answer, which cancels it.
                do {
                    for try await part in body { try await writer.write(part) }
                    try await writer.finish(nil)
                } catch {
                    await lease.end()
                    throw error
                }
                await lease.end()
            })
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return error.shortDescription }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return "connection refused" }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }

    private static func text(_ status: Int, _ text: String) -> Response {
        DevResponder.response(DevResponder.text(status, text))
    }
}

/// Sets the request line's target to the one in the `x-site-proxy-target` field, and removes the
/// field: in the pipeline of each connection to the cloud, before the request is encoded.
final class RawTarget: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart
    /// Lowercased, as field names are compared.
    static let field = "x-site-proxy-target"

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data), let target = head.headers.first(name: Self.field) else {
            context.write(data, promise: promise)
            return
        }
        head.uri = target
        head.headers.remove(name: Self.field)
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}

/// The request's body as the cloud's request reads it, until the exchange ends. The client reads
/// it in a task of its own, and may still be reading when the cloud has answered (an answer before
/// the whole body, or a failed connection); the server reads the rest of the body itself (to skip
/// it) once the exchange is over, and two readers at once are not allowed. So at the end the
/// exchange waits for a read in progress, and the reads after it find the body ended.
final class BodyLease: Sendable {
    private struct State {
        var ended = false
        var reading = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    /// Whether a read may start (false once the exchange has ended).
    fileprivate func beginRead() -> Bool {
        state.withLock { state in
            if state.ended { return false }
            state.reading = true
            return true
        }
    }

    fileprivate func endRead() {
        let waiters = state.withLock { state in
            state.reading = false
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Ends the exchange's hold on the body, once a read in progress has returned.
    func end() async {
        await withCheckedContinuation { waiter in
            let reading = state.withLock { state in
                state.ended = true
                if state.reading { state.waiters.append(waiter) }
                return state.reading
            }
            if !reading { waiter.resume() }
        }
    }
}

/// A request body read under a `BodyLease`.
struct LeasedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let body: RequestBody
    let lease: BodyLease

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let lease: BodyLease

        mutating func next() async throws -> ByteBuffer? {
            guard lease.beginRead() else { return nil }
            defer { lease.endRead() }
            return try await base.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: body.makeAsyncIterator(), lease: lease)
    }
}

/// The browser connections of requests waiting for the cloud's answer, so one that goes away (its
/// input closed, or the connection closed) cancels the wait. Noticed by `InMemoryAnswers`, which
/// sees every connection's events.
final class ClientWatch: Sendable {
    private enum Entry {
        case gone
        case waiting(@Sendable () -> Void)
    }
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    /// Runs `cancel` if the client of `connection` goes away before `end`; false when it has gone already.
    func watch(_ connection: ObjectIdentifier, cancel: @escaping @Sendable () -> Void) -> Bool {
        entries.withLock { entries in
            if case .gone = entries[connection] { return false }
            entries[connection] = .waiting(cancel)
            return true
        }
    }

    func end(_ connection: ObjectIdentifier) {
        entries.withLock { entries in
            if case .waiting = entries[connection] { entries[connection] = nil }
        }
    }

    /// The client closed its side (it sends nothing more: for HTTP/1 it has gone).
    func inputClosed(_ connection: ObjectIdentifier) {
        let waiting = entries.withLock { $0.updateValue(.gone, forKey: connection) }
        if case .waiting(let cancel) = waiting { cancel() }
    }

    /// The connection closed: nothing more is kept for it.
    func closed(_ connection: ObjectIdentifier) {
        let waiting = entries.withLock { $0.removeValue(forKey: connection) }
        if case .waiting(let cancel) = waiting { cancel() }
    }

    var count: Int { entries.withLock { $0.count } }
}

extension HTTPClientError {
    /// "connect timeout", "remote connection closed", …
    var shortDescription: String {
        switch self {
        case .connectTimeout: "connection timed out"
        case .remoteConnectionClosed: "the connection closed"
        case .cancelled: "cancelled"
        default: String(describing: self).replacingOccurrences(of: "HTTPClientError.", with: "")
        }
    }
}
