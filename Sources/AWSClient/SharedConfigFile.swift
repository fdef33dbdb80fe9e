/// `~/.aws/credentials` and `~/.aws/config`: INI sections of `key = value` lines.
///
/// In the config file a profile's section is `[profile NAME]` (`[default]` for the default); in the
/// credentials file it is `[NAME]`. Comments start with `#` or `;`. Indented lines belong to a
/// nested block (`s3 =` settings) and are ignored here.
public struct SharedConfigFile: Sendable, Equatable {
    /// Profile name → its settings (keys lower-cased).
    public var profiles: [String: [String: String]] = [:]

    public init(parsing text: String, isConfigFile: Bool) {
        var current: String?
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            let line = String(rawLine).trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                let name = String(line.dropFirst().dropLast()).trimmingSpaces
                if isConfigFile {
                    if name == "default" { current = "default" }
                    else if name.hasPrefix("profile ") { current = String(name.dropFirst(8)).trimmingSpaces }
                    else { current = nil } // sso-session and services sections
                } else {
                    current = name
                }
                if let current, profiles[current] == nil { profiles[current] = [:] }
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals]).trimmingSpaces.lowercased()
            var value = String(line[line.index(after: equals)...]).trimmingSpaces
            if let comment = value.firstRange(of: " #") ?? value.firstRange(of: " ;") { value = String(value[..<comment.lowerBound]).trimmingSpaces }
            profiles[current]?[key] = value
        }
    }

    /// Config values first, credentials-file values over them, as the AWS CLI merges them.
    static func merged(config: SharedConfigFile, credentials: SharedConfigFile) -> [String: [String: String]] {
        var result = config.profiles
        for (name, settings) in credentials.profiles {
            result[name, default: [:]].merge(settings) { _, new in new }
        }
        return result
    }
}

extension String {
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
