/// One run of a handler, raced against the invocation's deadline.
enum Invocation: Sendable {
    case response([UInt8])
    case failure(any Error)
    case timedOut

    var isTimeout: Bool { if case .timedOut = self { true } else { false } }

    /// Runs `handler` on `event`; if the deadline less `margin` comes first, cancels it and returns
    /// `.timedOut` at once. A handler that ignores cancellation is left to finish on its own, unwaited:
    /// the runtime must report in time, whatever the handler does.
    static func run(_ handler: any LambdaHandler, event: [UInt8], context: LambdaContext,
                    margin: Duration) async -> Invocation {
        // Whichever task yields first wins; the stream keeps only that first value.
        let (outcomes, continuation) = AsyncStream.makeStream(of: Invocation.self, bufferingPolicy: .bufferingOldest(1))
        let work = Task {
            do {
                continuation.yield(.response(try await handler.handle(event, context: context)))
            } catch {
                continuation.yield(.failure(error))
            }
        }
        let timer = Task {
            let wait = context.remaining - margin
            if wait > .zero {
                do { try await Task.sleep(for: wait) } catch { return }
            }
            continuation.yield(.timedOut)
        }
        var first = Invocation.timedOut
        for await outcome in outcomes {
            first = outcome
            break
        }
        continuation.finish()
        work.cancel()
        timer.cancel()
        return first
    }
}
