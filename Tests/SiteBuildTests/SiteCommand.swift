import Foundation

/// Runs the built `site` executable, for tests of the command line itself.
enum SiteCommand {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The `site` built beside the running tests (`.build/<triple>/debug/` or `release/`): the
    /// test executable's own folder, so `swift test` and `swift test -c release` each run their
    /// own build's `site`.
    static var executable: String {
        let tests = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return tests.deletingLastPathComponent().appendingPathComponent("site").path
    }

    static func run(_ arguments: [String], launchPath: String? = nil, environment: [String: String]? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launchPath ?? executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs `site` as user nobody (with `setpriv`), after giving nobody the project folder.
    static func runAsNobody(_ arguments: [String], owning folder: String) throws -> Result {
        _ = try run(["-R", "65534:65534", folder], launchPath: "/bin/chown")
        return try run(["--reuid=65534", "--regid=65534", "--clear-groups", executable] + arguments, launchPath: "/usr/bin/setpriv")
    }
}
