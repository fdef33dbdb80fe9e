import Foundation
import Logging

/// A log handler for the local servers: warnings and worse go to standard error as one line each;
/// metadata is kept but never formatted unless a line is printed. (swift-log's stream handler
/// formats all metadata each time a key is set, which Hummingbird does for every request.)
public struct QuietLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .warning
    private let label: String

    public init(label: String) { self.label = label }

    /// A logger that prints warnings and errors only.
    public static func logger(label: String) -> Logger {
        Logger(label: label) { QuietLogHandler(label: $0) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let details = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        FileHandle.standardError.write(Data("\(label): \(event.level): \(event.message)\(details)\n".utf8))
    }
}
