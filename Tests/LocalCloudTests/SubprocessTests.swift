import Foundation
import Testing
@testable import LocalCloud
import VideoService

@Suite("Running the conversion's tools")
struct SubprocessTests {
    @Test("a tool still running at its time limit is killed and says so; one that ends in time is not")
    func timeLimit() async throws {
        let started = Date()
        let slow = try await Subprocess.run("sleep", ["30"], timeLimit: 0.3)
        #expect(slow.timedOut)
        #expect(slow.status != 0)
        #expect(Date().timeIntervalSince(started) < 10)
        let quick = try await Subprocess.run("sh", ["-c", "echo done"], timeLimit: 10)
        #expect(!quick.timedOut && quick.status == 0 && quick.output == "done\n")
        let unbounded = try await Subprocess.run("true", [])
        #expect(!unbounded.timedOut && unbounded.status == 0)
    }

    @Test("cancelling the task that runs a tool stops the tool")
    func cancellation() async throws {
        let began = Date()
        let run = Task { try await Subprocess.run("sleep", ["30"]) }
        try await Task.sleep(for: .milliseconds(300))
        run.cancel()
        let result = try await run.value
        #expect(result.status != 0)
        #expect(Date().timeIntervalSince(began) < 10, "the tool was stopped, not waited for")
    }

    @Test("ffmpeg gets four times the input's duration, at least half an hour")
    func conversionLimit() {
        #expect(ConversionSettings.timeLimit(durationSeconds: nil) == 1800)
        #expect(ConversionSettings.timeLimit(durationSeconds: 20) == 1800)
        #expect(ConversionSettings.timeLimit(durationSeconds: 3600) == 14_400)
    }
}
