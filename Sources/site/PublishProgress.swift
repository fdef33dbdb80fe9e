import Foundation
import Publish

/// What a person (or CI, or a program with --json) sees of a publish.
///
/// On a terminal one line is redrawn in place as objects go up; elsewhere each phase is one plain
/// line. With --json only the summary (or the error) is printed, on stdout.
final class PublishProgress: @unchecked Sendable {
    private let json: Bool
    private let dryRun: Bool
    private let lock = NSLock()
    private var phase = ""
    private var phaseTotal = 0
    private var phaseDone = 0
    private var bytesDone: Int64 = 0
    private var lastDraw = Date.distantPast
    private var source = ""
    private var region = ""
    private var stack: String?
    private var requestCounts: [String: Int] = [:]
    private var retries = 0
    private var warnings: [String] = []

    init(json: Bool, dryRun: Bool) {
        self.json = json
        self.dryRun = dryRun
    }

    func credentials(_ source: String, region: String) {
        lock.withLock { self.source = source; self.region = region }
        say("credentials: \(source); region \(region)")
    }

    func stack(_ name: String, region: String) {
        lock.withLock { stack = name }
        say("stack: \(name) in \(region)")
    }

    func requests(_ counts: [String: Int], retries: Int) {
        lock.withLock { requestCounts = counts; self.retries = retries }
    }

    func handle(_ event: PublishEvent) {
        switch event {
        case .planned(let plan):
            say("plan: \(plan.uploads.count) to upload (\(BuildSummary.bytes(Int(plan.uploadBytes)))), \(plan.unchanged.count) unchanged, "
                + "\(plan.deletions.count) to delete, \(plan.retained.count) kept for the grace period")
            if !json {
                for upload in plan.uploads { say("  upload  \(upload.object.key)  (\(upload.reason.rawValue))") }
                for deletion in plan.deletions { say("  delete  \(deletion.key)  (\(deletion.reason.rawValue))") }
                for retention in plan.retained { say("  keep    \(retention.key)  (retired, kept for the grace period)") }
            }
        case .phaseStarted(let name, let objects, let bytes):
            lock.withLock { phase = name; phaseTotal = objects; phaseDone = 0; bytesDone = 0 }
            endLine()
            if !Terminal.isInteractive || json { say("uploading \(objects) \(name) (\(BuildSummary.bytes(Int(bytes))))") }
        case .uploaded(_, let bytes):
            let line: String? = lock.withLock { () -> String? in
                phaseDone += 1
                bytesDone += bytes
                guard Terminal.isInteractive, !json, Date().timeIntervalSince(lastDraw) > 0.08 || phaseDone == phaseTotal else { return nil }
                lastDraw = Date()
                return "\r\u{1B}[2Kuploading \(phase): \(phaseDone)/\(phaseTotal) (\(BuildSummary.bytes(Int(bytesDone))))"
            }
            if let line { FileHandle.standardError.write(Data(line.utf8)) }
        case .deleted(let count):
            endLine()
            say("deleted \(count) objects")
        case .recorded(let key):
            endLine()
            say("recorded the deploy as \(key)")
        case .invalidationStarted(let distribution, let id, let paths):
            say("invalidating \(paths.count) paths on \(distribution) (\(id)): \(paths.prefix(5).joined(separator: " "))\(paths.count > 5 ? " …" : "")")
        case .invalidationCompleted(let distribution, let id):
            say("invalidation \(id) on \(distribution) completed")
        case .warning(let message):
            lock.withLock { warnings.append(message) }
            say("warning: \(message)")
        }
    }

    func finish(_ report: PublishReport, seconds: Double) {
        endLine()
        let plan = report.plan
        if json {
            let summary: [String: Any] = lock.withLock { [
                "ok": true,
                "dryRun": dryRun,
                "credentials": source,
                "region": region,
                "stack": stack as Any,
                "uploaded": plan.uploads.map { ["key": $0.object.key, "bytes": $0.object.size, "reason": $0.reason.rawValue] as [String: Any] },
                "unchanged": plan.unchanged.count,
                "deleted": plan.deletions.map { ["key": $0.key, "reason": $0.reason.rawValue] },
                "retained": plan.retained.map(\.key),
                "uploadBytes": plan.uploadBytes,
                "record": report.recordKey as Any,
                "invalidations": report.invalidations.map { ["distributionId": $0.distributionId, "id": $0.invalidationId, "paths": $0.paths,
                                                             "completed": report.invalidationsCompleted] as [String: Any] },
                "requests": requestCounts,
                "retries": retries,
                "warnings": warnings,
                "seconds": (seconds * 1000).rounded() / 1000,
            ] }
            printJSON(summary)
        } else {
            let puts = lock.withLock { requestCounts["PUT"] ?? 0 }
            say("\(dryRun ? "dry run, nothing changed" : "published"): \(plan.uploads.count) uploaded (\(BuildSummary.bytes(Int(plan.uploadBytes)))), \(plan.deletions.count) deleted, "
                + "\(plan.unchanged.count) unchanged, \(puts) PUT requests, in \(String(format: "%.2f", seconds)) s")
        }
    }

    func fail(_ error: Error) {
        endLine()
        if json { printJSON(["ok": false, "error": "\(error)"]) }
        Terminal.printError("\(Terminal.red("error:")) \(error)")
    }

    private func say(_ line: String) {
        guard !json else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private func endLine() {
        guard Terminal.isInteractive, !json else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
