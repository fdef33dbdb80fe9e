import Foundation
import HTTPServing
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Answers requests for the build's files on the event loop, as soon as their head is read,
/// without the trip through Swift concurrency that Hummingbird's responder takes. Anything that
/// has to wait or stream (the event stream, `.gz` files read from disk, requests made before the
/// first build ends, requests forwarded to the local cloud) is passed on to Hummingbird's
/// responder, which gives the same answers (`DevResponder.decide`). For forwarded requests it also
/// answers `Expect: 100-continue` and tells the proxy when a client goes away.
///
/// Sits in Hummingbird's HTTP/1 pipeline, after the HTTPTypes codec. Responses leave in the order
/// requests came: while a request passed on has not been answered, the ones after it are passed
/// on too.
final class InMemoryAnswers: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let responder: DevResponder
    private let date: DateHeader
    /// Requests passed on whose response has not ended.
    private var passedOn = 0
    /// Where the parts of the current request go.
    private var current = Current.none
    private var needsFlush = false
    private var closing = false

    private enum Current { case none, answered, passedOn }

    init(responder: DevResponder, date: DateHeader) {
        self.responder = responder
        self.date = date
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let request):
            let decision = passedOn == 0 ? responder.decide(request, site: responder.files.value, waited: false) : nil
            if case .answer(let status, var fields, let body) = decision {
                current = .answered
                fields[.date] = date.now()
                context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
                if let body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
                if Self.asksToClose(request) {
                    // As Hummingbird does: answer, then close.
                    closing = true
                    let channel = context.channel
                    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
                } else {
                    context.write(wrapOutboundOut(.end(nil)), promise: nil)
                    needsFlush = true
                }
            } else {
                // A forwarded request's body is streamed to the cloud as it comes, so the client may
                // send it at once (the cloud's own answer to `Expect` would not reach the client).
                // Not while an earlier answer is being written: the client then waits its timeout.
                if case .forward = decision, Self.expectsContinue(request) {
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
                }
                current = .passedOn
                passedOn += 1
                context.fireChannelRead(data)
            }
        case .body:
            if case .passedOn = current { context.fireChannelRead(data) }
        case .end:
            if case .passedOn = current { context.fireChannelRead(data) }
            current = .none
        }
    }

    /// The client closed its side, or the connection closed: a forwarded request still waiting
    /// for the cloud's answer is cancelled.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let proxy = responder.proxy, case .some(.inputClosed) = event as? ChannelEvent {
            proxy.clients.inputClosed(ObjectIdentifier(context.channel))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        responder.proxy?.clients.closed(ObjectIdentifier(context.channel))
        context.fireChannelInactive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), passedOn > 0 { passedOn -= 1 }
        context.write(data, promise: promise)
    }

    static func expectsContinue(_ request: HTTPRequest) -> Bool {
        request.headerFields[.expect]?.lowercased() == "100-continue"
    }

    static func asksToClose(_ request: HTTPRequest) -> Bool {
        guard let connection = request.headerFields[.connection] else { return false }
        return connection.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
    }
}

/// The `Date` header's value, made once a second.
final class DateHeader: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    func now() -> String {
        let second = Int(time(nil))
        if let text = cached.withLock({ $0.second == second ? $0.text : nil }) { return text }
        let text = HTTPDate.rfc1123(Date(timeIntervalSince1970: TimeInterval(second)))
        cached.withLock { $0 = (second, text) }
        return text
    }
}
