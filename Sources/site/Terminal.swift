import Foundation
import SiteBuild

/// How the CLI shows things to a person: colour on a terminal, plain text elsewhere.
enum Terminal {
    static let isInteractive = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    static func red(_ text: String) -> String { isInteractive ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    static func bold(_ text: String) -> String { isInteractive ? "\u{1B}[1m\(text)\u{1B}[0m" : text }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func reportErrors(_ diagnostics: [Diagnostic], output: String) {
        for diagnostic in diagnostics {
            printError("\(red("error:")) \(diagnostic)")
        }
        let count = diagnostics.count == 1 ? "1 error" : "\(diagnostics.count) errors"
        printError("build failed with \(count); \(output) was left as it was")
    }
}

/// The one-paragraph summary printed after a build.
enum BuildSummary {
    static func text(_ report: BuildReport, seconds: Double, projectRoot: String) -> String {
        let languages = report.languages.count == 1 ? report.languages[0] : "\(report.languages.count) languages"
        let environment = report.environment.map { ", environment \($0)" } ?? ""
        var lines = ["\(Terminal.bold("built")) \(report.pages) pages (\(languages)) and \(report.assets) assets\(environment) in \(String(format: "%.2f", seconds)) s → \(report.output)"]
        if report.compressibleBytes > 0 {
            let saved = 100 - Double(report.compressedBytes) * 100 / Double(report.compressibleBytes)
            lines.append("  text \(bytes(report.compressibleBytes)) → \(bytes(report.compressedBytes)) with gzip (\(String(format: "%.0f", saved))% smaller)")
        }
        return lines.joined(separator: "\n")
    }

    static func bytes(_ count: Int) -> String {
        if count < 1024 { return "\(count) B" }
        if count < 1024 * 1024 { return String(format: "%.1f KiB", Double(count) / 1024) }
        return String(format: "%.1f MiB", Double(count) / 1024 / 1024)
    }
}

func fileExists(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: path)
}

/// Prints a JSON object on stdout, keys sorted, for `--json`.
func printJSON(_ value: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted])) ?? Data()
    print(String(decoding: data, as: UTF8.self))
}
