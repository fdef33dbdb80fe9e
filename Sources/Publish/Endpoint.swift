/// Where an AWS service is reached: scheme, host, port and an optional base path.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// A path prefix every request goes under (rare; some proxies), without a trailing slash.
    public var basePath: String

    /// Parses `https://host[:port][/path]`; nil for anything else.
    public init?(url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
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
}

/// The endpoints of the services `site publish` calls, from the standard variables
/// (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_CLOUDFRONT`, `AWS_ENDPOINT_URL_STS`, then
/// `AWS_ENDPOINT_URL`) or AWS's public hosts. A custom S3 endpoint is addressed path-style.
public struct ServiceEndpoints: Sendable, Equatable {
    public var s3: Endpoint
    /// Path-style (`host/bucket/key`) rather than virtual-hosted (`bucket.host/key`).
    public var s3PathStyle: Bool
    public var cloudFront: Endpoint
    public var sts: Endpoint

    public struct InvalidURL: Error, CustomStringConvertible, Sendable {
        public var variable: String
        public var value: String
        public var description: String { "\(variable)='\(value)' is not an http(s) URL like https://s3.example.com" }
    }

    public static func resolve(region: String, bucket: String, variables: [String: String]) throws(InvalidURL) -> ServiceEndpoints {
        func custom(_ service: String) throws(InvalidURL) -> Endpoint? {
            for variable in ["AWS_ENDPOINT_URL_\(service)", "AWS_ENDPOINT_URL"] {
                guard let value = variables[variable], !value.isEmpty else { continue }
                guard let endpoint = Endpoint(url: value) else { throw InvalidURL(variable: variable, value: value) }
                return endpoint
            }
            return nil
        }
        let customS3 = try custom("S3")
        // Virtual-hosted addressing needs a bucket name that is a valid DNS label under TLS: no dots.
        let pathStyle = customS3 != nil || bucket.contains(".") || variables["AWS_S3_FORCE_PATH_STYLE"] == "true"
        return ServiceEndpoints(
            s3: customS3 ?? Endpoint(scheme: "https", host: "s3.\(region).amazonaws.com"),
            s3PathStyle: pathStyle,
            cloudFront: try custom("CLOUDFRONT") ?? Endpoint(scheme: "https", host: "cloudfront.amazonaws.com"),
            sts: try custom("STS") ?? Endpoint(scheme: "https", host: "sts.\(region).amazonaws.com"))
    }
}
