import Foundation

/// The environment's public settings as the app reads them at start, from
/// `<script type="application/json" id="site-config">` — data, never executed.
enum AppConfig {
    struct Payload: Encodable {
        struct Cognito: Encodable { let region, userPoolId, clientId, endpoint: String }
        struct API: Encodable { let baseUrl: String }
        struct Uploads: Encodable { let origins: [String] }
        struct Session: Encodable { let idleMinutes: Int }
        let environment: String
        let cognito: Cognito?
        let api: API?
        let uploads: Uploads?
        let session: Session?
        /// Who may make an account: `open`, `invite` or `closed`.
        let signUp: String
    }

    /// The template context's `config.*`.
    static func templateValue(_ environment: Environment?) -> [String: Any] {
        guard let environment else { return [:] }
        var value: [String: Any] = ["environment": environment.name, "signUp": environment.effectiveSignUp.rawValue,
                                    "signUpOpen": environment.effectiveSignUp == .open,
                                    "signUpInvite": environment.effectiveSignUp == .invite]
        if let cognito = environment.cognito {
            value["cognito"] = ["region": cognito.region, "userPoolId": cognito.userPoolId,
                                "clientId": cognito.clientId, "endpoint": cognito.effectiveEndpoint]
        }
        if let api = environment.apiBaseURL { value["api"] = ["baseUrl": api] }
        if !environment.uploadOrigins.isEmpty { value["uploads"] = ["origins": environment.uploadOrigins] }
        if let minutes = environment.idleMinutes { value["session"] = ["idleMinutes": minutes] }
        return value
    }

    /// JSON safe to place inside a `<script>` element.
    static func json(_ environment: Environment) -> String {
        let payload = Payload(
            environment: environment.name,
            cognito: environment.cognito.map {
                .init(region: $0.region, userPoolId: $0.userPoolId, clientId: $0.clientId, endpoint: $0.effectiveEndpoint)
            },
            api: environment.apiBaseURL.map { .init(baseUrl: $0) },
            uploads: environment.uploadOrigins.isEmpty ? nil : .init(origins: environment.uploadOrigins),
            session: environment.idleMinutes.map { .init(idleMinutes: $0) },
            signUp: environment.effectiveSignUp.rawValue)
        return scriptSafeJSON(payload)
    }

    /// Compact, key-sorted JSON with `<`, `>`, `&` and line separators escaped, so it cannot end the element.
    static func scriptSafeJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
        var safe = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": safe += "\\u003c"
            case ">": safe += "\\u003e"
            case "&": safe += "\\u0026"
            case "\u{2028}": safe += "\\u2028"
            case "\u{2029}": safe += "\\u2029"
            default: safe.unicodeScalars.append(scalar)
            }
        }
        return safe
    }
}

/// The import map that points module paths at fingerprinted files, with their integrity.
enum ImportMap {
    struct Payload: Encodable {
        let imports: [String: String]
        let integrity: [String: String]
    }

    static func json(for catalog: AssetCatalog) -> String {
        var imports: [String: String] = [:]
        var integrity: [String: String] = [:]
        for module in catalog.modules {
            imports[module.url] = module.outputURL
            integrity[module.outputURL] = module.integrity
        }
        return AppConfig.scriptSafeJSON(Payload(imports: imports, integrity: integrity))
    }
}
