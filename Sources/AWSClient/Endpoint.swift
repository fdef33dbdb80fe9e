/// Where an AWS service is reached: scheme, host, port and an optional base path.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// A path prefix every request goes under (rare; some proxies), without a trailing slash.
    public var basePath: String

    /// Parses `https://host[:port][/path]`; nil for anything else.
    public init?(url: String) {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var path = String(rest.dropFirst(authority.count).prefix { $0 != "?" && $0 != "#" })
        while path.hasSuffix("/") { path.removeLast() }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else { return nil }
            self.init(scheme: scheme, host: String(authority[..<colon]), port: port, basePath: path)
        } else {
            self.init(scheme: scheme, host: String(authority), port: nil, basePath: path)
        }
    }

    public init(scheme: String, host: String, port: Int? = nil, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    public var hostHeader: String {
        guard let port, port != (scheme == "https" ? 443 : 80) else { return host }
        return "\(host):\(port)"
    }

    public var description: String { "\(scheme)://\(hostHeader)\(basePath)" }

    /// A variable that should hold an endpoint URL and does not.
    public struct InvalidURL: Error, CustomStringConvertible, Sendable {
        public var variable: String
        public var value: String
        public var description: String { "\(variable)='\(value)' is not an http(s) URL like https://s3.example.com" }
    }

    /// Where `service` (its endpoint prefix: `s3`, `dynamodb`, `mediaconvert`, `sts`) is reached, the
    /// way the AWS SDKs decide: `AWS_ENDPOINT_URL_<SERVICE>` (upper-cased, `-` and spaces as `_`), then
    /// `AWS_ENDPOINT_URL`, else the public regional host `https://<service>.<region>.amazonaws.com`.
    /// For MediaConvert that host is the regional endpoint, which accepts every account's jobs, so
    /// no `DescribeEndpoints` call is needed.
    public static func resolve(service: String, region: String,
                               variables: [String: String]) throws(InvalidURL) -> Endpoint {
        try custom(service: service, variables: variables)
            ?? Endpoint(scheme: "https", host: "\(service).\(region).amazonaws.com")
    }

    /// The endpoint the variables set for `service`, or nil when they set none.
    public static func custom(service: String, variables: [String: String]) throws(InvalidURL) -> Endpoint? {
        let suffix = service.uppercased().map { $0 == "-" || $0 == " " ? "_" : String($0) }.joined()
        for variable in ["AWS_ENDPOINT_URL_\(suffix)", "AWS_ENDPOINT_URL"] {
            guard let value = variables[variable], !value.isEmpty else { continue }
            guard let endpoint = Endpoint(url: value) else { throw InvalidURL(variable: variable, value: value) }
            return endpoint
        }
        return nil
    }
}
