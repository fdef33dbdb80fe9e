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
    public static func refusal(authority: String?, option: String = "--allowed-host") -> String {
        let host = authority.flatMap(Self.host(of:)) ?? authority ?? ""
        return "This server answers only loopback names and the hosts it is given; \(host) is not one of them "
            + "(a page on another site could otherwise reach it through DNS rebinding). "
            + "To allow it, start the server with \(option) \(host).\n"
    }

    /// The host part of an authority, lowercased and without a trailing dot; an IPv6 literal keeps
    /// its brackets. Nil when it is not a host[:port] at all. It reads bytes, not characters: this
    /// runs for every request, and a `Host` is ASCII (international names travel as punycode).
    static func host(of authority: String) -> String? {
        var bytes = Array(authority.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let rest = bytes[(close + 1)...]
            guard rest.isEmpty || (rest.first == UInt8(ascii: ":") && rest.dropFirst().allSatisfy(isDigit)) else { return nil }
            return String(decoding: bytes[...close], as: UTF8.self).lowercased()
        }
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) {
            guard bytes[(colon + 1)...].allSatisfy(isDigit) else { return nil }
            bytes.removeSubrange(colon...)
        }
        let name = normalized(String(decoding: bytes, as: UTF8.self))
        let allowed = { (byte: UInt8) in
            isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
        }
        guard !name.isEmpty, name.utf8.allSatisfy(allowed) else { return nil }
        return name
    }

    /// A name as compared: lowercased, without the trailing dot of a fully qualified name.
    static func normalized(_ name: String) -> String {
        let lowered = name.lowercased()
        return lowered.hasSuffix(".") ? String(lowered.dropLast()) : lowered
    }

    static func isIPv4(_ host: String) -> Bool {
        let parts = host.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
                && Int(Substring(part)).map { $0 <= 255 } == true
        }
    }
}
