/// The formats `site.yml` values must have, shared by the file and the `SITE_*` overrides.
struct FieldRules {
    /// A check returning a problem to report, or nil, and the value's normal form.
    struct Rule {
        let problem: (String) -> String?
        var normalise: (String) -> String = { $0 }

        func callAsFunction(_ value: String) -> String? { problem(value) }
        func normalised(_ value: String) -> String { normalise(value) }
    }

    let isLocal: Bool

    /// Reads a node as text and checks it with `rule`, blaming the node on failure.
    func check(_ node: YAMLNode, _ rule: Rule) throws -> String {
        let text = try node.nonEmptyString()
        if let message = rule(text) { throw node.error(message) }
        return rule.normalised(text)
    }

    var region: Rule {
        Rule { value in
            value.wholeMatch(of: /[a-z]{2}(-[a-z]+)+-[0-9]+/) == nil
                ? "'\(value)' is not an AWS region like eu-west-1" : nil
        }
    }

    var userPoolId: Rule {
        Rule { value in
            value.wholeMatch(of: /[a-z]{2}(-[a-z]+)+-[0-9]+_[0-9A-Za-z]+/) == nil
                ? "malformed user pool id '\(value)': expected <region>_<id>, e.g. eu-west-1_AbC123xyZ" : nil
        }
    }

    var clientId: Rule {
        Rule { value in
            value.wholeMatch(of: /[0-9A-Za-z]{1,128}/) == nil
                ? "malformed app client id '\(value)': expected letters and digits only (Cognito's are 26 characters)" : nil
        }
    }

    var baseURL: Rule {
        Rule(problem: { URLCheck.problem(with: $0, originOnly: false, allowHTTP: isLocal) },
             normalise: URLCheck.withoutTrailingSlash)
    }

    /// The video API's base: a path on the site's own origin (`/api`, as CloudFront's behaviour and
    /// `site serve` route it), or an absolute URL for an API elsewhere.
    var apiBase: Rule {
        Rule(problem: { $0.hasPrefix("/") ? URLCheck.pathProblem($0) : URLCheck.problem(with: $0, originOnly: false, allowHTTP: isLocal) },
             normalise: URLCheck.withoutTrailingSlash)
    }

    var origin: Rule {
        Rule(problem: { URLCheck.problem(with: $0, originOnly: true, allowHTTP: isLocal) },
             normalise: URLCheck.origin(of:))
    }

    var bucket: Rule {
        Rule { value in
            value.wholeMatch(of: /[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/) == nil || value.contains("..")
                ? "'\(value)' is not an S3 bucket name (3–63 lowercase letters, digits, '.' and '-')" : nil
        }
    }

    var prefix: Rule {
        Rule(problem: { value in
            value.hasPrefix("/") || value.split(separator: "/").contains("..")
                ? "'\(value)' must be a relative key prefix like site/ (no leading '/', no '..')" : nil
        }, normalise: { $0.hasSuffix("/") ? $0 : $0 + "/" })
    }

    var distributionId: Rule {
        Rule { value in
            value.wholeMatch(of: /[A-Z0-9]{8,32}/) == nil
                ? "'\(value)' is not a CloudFront distribution id like E2QWRUHAPOMQZL" : nil
        }
    }

    /// The pool id starts with its region; a mismatch means the ids were copied from different places.
    func poolRegionMismatch(_ cognito: Environment.Cognito) -> String? {
        let poolRegion = cognito.userPoolId.split(separator: "_").first.map(String.init) ?? ""
        return poolRegion == cognito.region ? nil
            : "user pool '\(cognito.userPoolId)' is in \(poolRegion) but cognito.region is \(cognito.region)"
    }
}

/// Small, dependency-free URL checks for configuration values.
enum URLCheck {
    /// Why `text` is not an acceptable URL, or nil. `originOnly` forbids a path.
    static func problem(with text: String, originOnly: Bool, allowHTTP: Bool) -> String? {
        guard let schemeEnd = text.range(of: "://") else { return "'\(text)' is not an absolute URL like https://example.com" }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        if scheme != "https" {
            if scheme == "http" && allowHTTP { /* fine: local development */ } else if scheme == "http" {
                return "'\(text)' uses http; only https is allowed outside the local environment"
            } else {
                return "'\(text)' must be an https URL"
            }
        }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let tail = rest[authorityEnd...]
        if authority.contains("@") { return "'\(text)' must not contain credentials" }
        var host = Substring(authority)
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            let port = authority[authority.index(after: colon)...]
            guard let number = Int(port), (1...65535).contains(number) else { return "'\(text)' has an invalid port" }
            host = authority[..<colon]
        }
        let hostOK = host.hasPrefix("[") ? host.hasSuffix("]")
            : !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
        if !hostOK { return "'\(text)' has no valid host name" }
        if tail.contains("?") || tail.contains("#") { return "'\(text)' must not have a query or fragment" }
        if originOnly && !(tail.isEmpty || tail == "/") {
            return "'\(text)' must be an origin (scheme and host only, like https://media.example.com)"
        }
        return nil
    }

    /// Why `text` is not a path on the site's origin (`/api`), or nil.
    static func pathProblem(_ text: String) -> String? {
        if text.hasPrefix("//") { return "'\(text)' must be a path like /api or an absolute URL, not a scheme-relative one" }
        if text.contains(where: { "?#\\ ".contains($0) || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? true }) {
            return "'\(text)' must be a path like /api: ASCII, no spaces, query or fragment"
        }
        return nil
    }

    /// `scheme://host[:port]` of a URL, lowercased.
    static func origin(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { !"/?#".contains($0) }
        return (url[..<schemeEnd.lowerBound] + "://" + authority).lowercased()
    }

    static func withoutTrailingSlash(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") && !url.hasSuffix("://") { url.removeLast() }
        return url
    }
}
