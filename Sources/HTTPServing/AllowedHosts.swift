/// The `Host` names a loopback server answers: a defence against DNS rebinding.
///
/// A page on another site can point a name of its own at 127.0.0.1 and then call this server "on
/// its own origin", reading what it answers (the local cloud's mailbox holds every code and
/// temporary password). The browser still sends that name in `Host`, so a server that answers only
/// names it knows is out of reach. Answered, as current dev servers do: `localhost` and names under
/// `.localhost` (they always mean this machine), IP addresses (a page whose origin is an address
/// is that address's own), and the names configured. A request with no `Host` (HTTP/1.0 tools;
/// browsers always send one) is answered.
public struct AllowedHosts: Sendable {
    /// The names answered besides loopback ones, lowercased.
    public let names: Set<String>

    public init(_ names: [String] = []) {
        self.names = Set(names.map { Self.normalized($0) })
    }

    /// Whether a request naming `authority` (its `Host`, with or without a port) may be answered.
    public func allows(authority: String?) -> Bool {
        guard let authority, !authority.isEmpty else { return true }
        guard let host = Self.host(of: authority) else { return false }
        if host.hasPrefix("[") { return true }  // an IPv6 literal
        if host == "localhost" || host.hasSuffix(".localhost") || Self.isIPv4(host) { return true }
        return names.contains(host)
    }

    /// The refusal's text: what was refused, why, and the option that allows it.
    public static func refusal(authority: String, option: String) -> String {
        let host = Self.host(of: authority) ?? authority
        return "This server answers only loopback names and the hosts it is given; \(host) is not one of them "
            + "(a page on another site could otherwise reach it through DNS rebinding). "
            + "To allow it, start the server with \(option) \(host).\n"
    }

    /// The host part of an authority, lowercased and without a trailing dot; an IPv6 literal keeps
    /// its brackets. Nil when it is not a host[:port] at all.
    static func host(of authority: String) -> String? {
        var text = Substring(authority.lowercased())
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isNumber)) else { return nil }
            return String(text[...close])
        }
        if let colon = text.lastIndex(of: ":") {
            guard text[text.index(after: colon)...].allSatisfy(\.isNumber) else { return nil }
            text = text[..<colon]
        }
        if text.hasSuffix(".") { text = text.dropLast() }
        guard !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }) else { return nil }
        return String(text)
    }

    static func normalized(_ name: String) -> String {
        let lowered = name.lowercased()
        return lowered.hasSuffix(".") ? String(lowered.dropLast()) : lowered
    }

    static func isIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && Int(part).map { $0 <= 255 } == true
        }
    }
}
