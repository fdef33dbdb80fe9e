/// One deployment target from `site.yml` (`local`, `staging`, `production`, …): the public settings the
/// app needs at run time, and where `site publish` sends the build.
public struct Environment: Sendable, Equatable {
    public struct Cognito: Sendable, Equatable {
        public var region: String
        public var userPoolId: String
        public var clientId: String
        /// Overrides the regional endpoint (the local cloud, or a proxy).
        public var endpoint: String?

        /// The URL the app sends Cognito requests to.
        public var effectiveEndpoint: String { endpoint ?? "https://cognito-idp.\(region).amazonaws.com" }
    }

    public struct Publish: Sendable, Equatable {
        public var bucket: String
        public var region: String
        public var prefix: String?
        public var distributionIds: [String]
        /// `Cache-Control` overrides by key pattern, first match wins (`publish.cacheControl` in site.yml).
        public var cacheRules: [CacheRule] = []
    }

    /// One `publish.cacheControl` entry: keys matching `pattern` (`*` within a segment, `**` across
    /// segments, matched against the path in dist/) are served with `value`.
    public struct CacheRule: Sendable, Equatable {
        public var pattern: String
        public var value: String
    }

    public var name: String
    public var cognito: Cognito?
    /// The video API's base, without a trailing slash: `/api` on the site's origin, or an absolute URL.
    public var apiBaseURL: String?
    /// Origins presigned upload URLs point to (e.g. the temp bucket's S3 host).
    public var uploadOrigins: [String]
    public var publish: Publish?
    /// Minutes without input after which the app signs the user out (`session.idleMinutes`; the app's default is 30).
    public var idleMinutes: Int?
    /// Who may make an account (`signup`); nil leaves it to `SignUpPolicy.fallback`.
    public var signUp: SignUpPolicy?

    /// The policy the app follows: site.yml's, or the fallback for this environment.
    public var effectiveSignUp: SignUpPolicy { signUp ?? .fallback(isLocal: isLocal) }

    /// `session.idleMinutes` read from text: a whole number from a minute to a day, else nil.
    static func parseIdleMinutes(_ text: String) -> Int? {
        Int(text.trimmingSpaces).flatMap { (1...1440).contains($0) ? $0 : nil }
    }

    /// Plain `http://` is allowed only here, for the local cloud on loopback.
    public var isLocal: Bool { name == "local" }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// The other origins the app talks to: Cognito, an API elsewhere and the upload origins,
    /// deduplicated in order. Media and an API under a path are on the site's own origin.
    public var connectOrigins: [String] {
        var origins: [String] = []
        for url in [cognito?.effectiveEndpoint, apiBaseURL].compactMap({ $0 }).filter({ !$0.hasPrefix("/") }) + uploadOrigins {
            let origin = URLCheck.origin(of: url)
            if !origins.contains(origin) { origins.append(origin) }
        }
        return origins
    }

    static func parse(name: String, node: YAMLNode) throws -> Environment {
        var environment = Environment(name: name, cognito: nil, apiBaseURL: nil, uploadOrigins: [], publish: nil)
        if let media = try node.mapping().first(where: { $0.key == "media" }) {
            throw media.value.error("'media' is no longer a setting: videos and thumbnails are served from /media/ on the site's own origin "
                                    + "(CloudFront's /media/* behaviour; `site serve` forwards it to the local cloud). Remove this section.")
        }
        let fields = try node.fields(allowed: ["cognito", "api", "uploads", "publish", "session", "signup"])
        let rules = FieldRules(isLocal: environment.isLocal)
        if let cognitoNode = fields["cognito"] {
            let cognito = try cognitoNode.fields(allowed: ["region", "userPoolId", "clientId", "endpoint"])
            func required(_ key: String) throws -> YAMLNode {
                guard let value = cognito[key] else { throw cognitoNode.error("missing required key '\(key)'") }
                return value
            }
            let region = try required("region")
            let pool = try required("userPoolId")
            environment.cognito = Cognito(
                region: try rules.check(region, rules.region),
                userPoolId: try rules.check(pool, rules.userPoolId),
                clientId: try rules.check(try required("clientId"), rules.clientId),
                endpoint: try cognito["endpoint"].map { try rules.check($0, rules.baseURL) })
            if let message = rules.poolRegionMismatch(environment.cognito!) { throw pool.error(message) }
        }
        if let apiNode = fields["api"] {
            let api = try apiNode.fields(allowed: ["baseUrl"])
            guard let base = api["baseUrl"] else { throw apiNode.error("missing required key 'baseUrl'") }
            environment.apiBaseURL = try rules.check(base, rules.apiBase)
        }
        if let uploadsNode = fields["uploads"] {
            let uploads = try uploadsNode.fields(allowed: ["origins"])
            if let origins = uploads["origins"] {
                environment.uploadOrigins = try origins.listItems.map { try rules.check($0, rules.origin) }
            }
        }
        if let sessionNode = fields["session"] {
            let session = try sessionNode.fields(allowed: ["idleMinutes"])
            if let minutes = session["idleMinutes"] {
                let text = try minutes.nonEmptyString()
                guard let value = parseIdleMinutes(text) else {
                    throw minutes.error("idleMinutes must be a whole number of minutes from 1 to 1440, not '\(text)'")
                }
                environment.idleMinutes = value
            }
        }
        if let policy = fields["signup"] {
            let text = try policy.nonEmptyString()
            if let message = SignUpPolicy.problem(text) { throw policy.error(message) }
            environment.signUp = SignUpPolicy(rawValue: text)
        }
        if let publishNode = fields["publish"] {
            let publish = try publishNode.fields(allowed: ["bucket", "region", "prefix", "distributionIds", "cacheControl"])
            guard let bucket = publish["bucket"] else { throw publishNode.error("missing required key 'bucket'") }
            guard let region = publish["region"] else { throw publishNode.error("missing required key 'region'") }
            let distributions = publish["distributionIds"]?.listItems ?? []
            environment.publish = Publish(
                bucket: try rules.check(bucket, rules.bucket),
                region: try rules.check(region, rules.region),
                prefix: try publish["prefix"].map { try rules.check($0, rules.prefix) },
                distributionIds: try distributions.map { try rules.check($0, rules.distributionId) },
                cacheRules: try publish["cacheControl"].map(Self.cacheRules) ?? [])
        }
        return environment
    }

    private static func cacheRules(_ node: YAMLNode) throws -> [CacheRule] {
        try node.mapping().map { entry in
            let value = try entry.value.nonEmptyString()
            guard !entry.key.hasPrefix("/"), !entry.key.isEmpty else {
                throw entry.value.error("cacheControl pattern '\(entry.key)' must be a path in dist/ without a leading '/', like 'media/**'")
            }
            guard !value.contains(where: { $0 == "\n" || $0 == "\r" }) else {
                throw entry.value.error("a Cache-Control value must be one line")
            }
            return CacheRule(pattern: entry.key, value: value)
        }
    }

    /// The process-environment variables that override fields of the selected environment, for CI secrets.
    public static let overrideVariables: [(variable: String, key: String)] = [
        ("SITE_COGNITO_REGION", "cognito.region"),
        ("SITE_COGNITO_USER_POOL_ID", "cognito.userPoolId"),
        ("SITE_COGNITO_CLIENT_ID", "cognito.clientId"),
        ("SITE_COGNITO_ENDPOINT", "cognito.endpoint"),
        ("SITE_API_BASE_URL", "api.baseUrl"),
        ("SITE_UPLOADS_ORIGINS", "uploads.origins"),
        ("SITE_SESSION_IDLE_MINUTES", "session.idleMinutes"),
        ("SITE_SIGNUP", "signup"),
        ("SITE_PUBLISH_BUCKET", "publish.bucket"),
        ("SITE_PUBLISH_REGION", "publish.region"),
        ("SITE_PUBLISH_PREFIX", "publish.prefix"),
        ("SITE_PUBLISH_DISTRIBUTION_IDS", "publish.distributionIds"),
    ]

    /// This environment with the `SITE_*` variables present in `variables` applied and validated.
    ///
    /// A list variable (`SITE_UPLOADS_ORIGINS`, `SITE_PUBLISH_DISTRIBUTION_IDS`) is comma-separated.
    /// Overriding part of a section the file does not have is an error naming what else is needed.
    public func applying(overrides variables: [String: String]) throws -> Environment {
        var result = self
        for (variable, key) in Self.overrideVariables {
            guard let raw = variables[variable] else { continue }
            try result.set(key, to: raw, from: "environment variable \(variable)")
        }
        if let cognito = result.cognito, let message = FieldRules(isLocal: isLocal).poolRegionMismatch(cognito) {
            throw Diagnostic(message, at: SourceLocation(file: "environment variables"), key: "\(name).cognito.userPoolId")
        }
        return result
    }

    /// The fields (`cognito.region`, …) the `SITE_*` variables in `variables` set.
    static func overriddenKeys(_ variables: [String: String]) -> Set<String> {
        Set(overrideVariables.filter { variables[$0.variable] != nil }.map(\.key))
    }

    /// Replaces the field `key` (`cognito.region`, `uploads.origins`, …) with `raw`, checked as the
    /// file's value would be; a list field is comma-separated. `source` says where `raw` came from.
    mutating func set(_ key: String, to raw: String, from source: String) throws {
        let rules = FieldRules(isLocal: isLocal)
        let location = SourceLocation(file: source)
        let fieldKey = "\(name).\(key)"
        func value(_ rule: FieldRules.Rule) throws -> String {
            if let message = rule(raw.trimmingSpaces) { throw Diagnostic(message, at: location, key: fieldKey) }
            return rule.normalised(raw.trimmingSpaces)
        }
        func list(_ rule: FieldRules.Rule) throws -> [String] {
            try raw.split(separator: ",").map { item in
                let text = String(item).trimmingSpaces
                if let message = rule(text) { throw Diagnostic(message, at: location, key: fieldKey) }
                return rule.normalised(text)
            }
        }
        func needs(_ section: String) -> Diagnostic {
            Diagnostic("environment '\(name)' has no \(section) section in site.yml to override; add it there (values may be placeholders)",
                       at: location, key: fieldKey)
        }
        switch key {
        case "cognito.region": guard cognito != nil else { throw needs("cognito") }; cognito!.region = try value(rules.region)
        case "cognito.userPoolId": guard cognito != nil else { throw needs("cognito") }; cognito!.userPoolId = try value(rules.userPoolId)
        case "cognito.clientId": guard cognito != nil else { throw needs("cognito") }; cognito!.clientId = try value(rules.clientId)
        case "cognito.endpoint": guard cognito != nil else { throw needs("cognito") }; cognito!.endpoint = try value(rules.baseURL)
        case "api.baseUrl": apiBaseURL = try value(rules.apiBase)
        case "uploads.origins": uploadOrigins = try list(rules.origin)
        case "session.idleMinutes":
            guard let minutes = Self.parseIdleMinutes(raw) else {
                throw Diagnostic("must be a whole number of minutes from 1 to 1440, not '\(raw)'", at: location, key: fieldKey)
            }
            idleMinutes = minutes
        case "signup":
            let text = raw.trimmingSpaces
            if let message = SignUpPolicy.problem(text) { throw Diagnostic(message, at: location, key: fieldKey) }
            signUp = SignUpPolicy(rawValue: text)
        case "publish.bucket": guard publish != nil else { throw needs("publish") }; publish!.bucket = try value(rules.bucket)
        case "publish.region": guard publish != nil else { throw needs("publish") }; publish!.region = try value(rules.region)
        case "publish.prefix": guard publish != nil else { throw needs("publish") }; publish!.prefix = try value(rules.prefix)
        case "publish.distributionIds": guard publish != nil else { throw needs("publish") }; publish!.distributionIds = try list(rules.distributionId)
        default: preconditionFailure("no field \(key) to set")
        }
    }
}
