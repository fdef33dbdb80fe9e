import Foundation
import HTTPServing
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Answers requests for the build's files on the event loop, as soon as their head is read,
/// without the trip through Swift concurrency that Hummingbird's responder takes. Anything that
/// has to wait or stream (the event stream, `.gz` files read from disk, requests made before the
/// first build ends) is passed on to Hummingbird's responder, which gives the same answers
/// (`DevResponder.decide`).
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
            if passedOn == 0, case .answer(let status, var fields, let body) = responder.decide(request, site: responder.files.value, waited: false) {
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
