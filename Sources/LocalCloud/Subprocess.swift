import Foundation
import Synchronization

/// Runs a tool on its own thread (ffmpeg can take minutes; the cooperative pool must not wait on it).
enum Subprocess {
    struct Result: Sendable {
        var status: Int32
        var output: String
        var errorOutput: String
        /// The tool ran past its time limit and was killed.
        var timedOut = false
    }

    /// Runs `tool` (looked up on PATH) with `arguments`. Standard output goes to `line` one line at a
    /// time when given, otherwise it is collected; standard error goes to `errorFile` when given.
    /// A tool still running `timeLimit` seconds after it started is killed (`Result.timedOut`). When
    /// the calling task is cancelled (the server stopping) the tool is killed and the call returns
    /// once it has ended; the caller checks for the cancellation. (SIGKILL: the server's signal
    /// handling ignores SIGINT and SIGTERM, and a child inherits that, so ffmpeg would not hear them.)
    static func run(_ tool: String, _ arguments: [String], errorFile: URL? = nil, timeLimit: Double? = nil,
                    started: (@Sendable (Int32) -> Void)? = nil,
                    line: (@Sendable (Substring) -> Void)? = nil) async throws -> Result {
        let running = Running()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let thread = Thread {
                    do {
                        continuation.resume(returning: try runBlocking(tool, arguments, errorFile: errorFile, timeLimit: timeLimit,
                                                                       started: { pid in
                            running.started(pid)
                            started?(pid)
                        }, line: line))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.start()
            }
        } onCancel: {
            running.cancel()
        }
    }

    /// The tool's process id once it runs, and whether it was asked to stop before that.
    private final class Running: Sendable {
        private let state = Mutex<(pid: Int32?, cancelled: Bool)>((nil, false))

        func started(_ pid: Int32) {
            if state.withLock({ $0.pid = pid; return $0.cancelled }) { kill(pid, SIGKILL) }
        }

        func cancel() {
            if let pid = state.withLock({ $0.cancelled = true; return $0.pid }) { kill(pid, SIGKILL) }
        }
    }

    private static func runBlocking(_ tool: String, _ arguments: [String], errorFile: URL?, timeLimit: Double?,
                                    started: (@Sendable (Int32) -> Void)?, line: (@Sendable (Substring) -> Void)?) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        // Standard error goes to a file, never a pipe: a chatty tool must not block on a full pipe.
        let errorURL = errorFile ?? FileManager.default.temporaryDirectory.appendingPathComponent("site-\(UUID().uuidString).stderr")
        // A file that cannot be made is reported by FileHandle's error just below.
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let errorHandle = try FileHandle(forWritingTo: errorURL)
        process.standardError = errorHandle
        defer {
            try? errorHandle.close()
            if errorFile == nil { try? FileManager.default.removeItem(at: errorURL) }
        }
        try process.run()
        started?(process.processIdentifier)
        let timedOut = Mutex(false)
        let watchdog = timeLimit.map { limit in
            let work = DispatchWorkItem { [process] in
                guard process.isRunning else { return }
                timedOut.withLock { $0 = true }
                kill(process.processIdentifier, SIGKILL)
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: work)
            return work
        }
        defer { watchdog?.cancel() }
        var collected = Data()
        var pending = Data()
        let reader = output.fileHandleForReading
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            if let line {
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 10) {
                    line(Substring(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            } else {
                collected.append(chunk)
            }
        }
        process.waitUntilExit()
        let errorData = FileManager.default.contents(atPath: errorURL.path) ?? Data()
        return Result(status: process.terminationStatus, output: String(decoding: collected, as: UTF8.self),
                      errorOutput: String(decoding: errorData.suffix(64 * 1024), as: UTF8.self), timedOut: timedOut.withLock { $0 })
    }
}
