import Dispatch
import Foundation
import Synchronization

/// How many threads the build runs on: every core, or `SITE_JOBS` when set.
var buildThreadCount: Int {
    if let text = ProcessInfo.processInfo.environment["SITE_JOBS"], let jobs = Int(text), jobs > 0 { return jobs }
    return ProcessInfo.processInfo.activeProcessorCount
}

/// Runs `body` for every index in `0..<count` on all cores; each thread first makes its own `Local`
/// (a compressor, say) with `makeLocal`. Indices are handed out one at a time, so uneven work balances.
func parallelForEach<Local>(count: Int, makeLocal: () -> Local, _ body: (Int, Local) -> Void) {
    let workers = max(1, min(count, buildThreadCount))
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
        withoutActuallyEscaping(makeLocal) { makeLocal in
            let work = UncheckedBox((body, makeLocal))
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                let local = work.value.1()
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < count else { break }
                    work.value.0(index, local)
                }
            }
        }
    }
}

/// Carries a value across threads where the caller guarantees it is used safely.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
