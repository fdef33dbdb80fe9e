/// The Content-Security-Policy and other security headers, generated from what the build knows: the
/// environment's origins and the hashes of inline blocks.
public struct SecurityPolicy: Sendable {
    public let environment: Environment?

    public init(environment: Environment?) {
        self.environment = environment
    }

    private var isLocal: Bool { environment?.isLocal ?? true }

    /// The policy text. `frame-ancestors` is only honoured in a header, so the meta form leaves it out.
    public func contentSecurityPolicy(scriptHashes: some Collection<String>, styleHashes: some Collection<String>, forHeader: Bool) -> String {
        // The API (`/api`) and the media (`/media/`) are on the site's own origin; Cognito and the
        // upload bucket are the only others. The player's MSE path plays what it fetched from
        // `/media/` through a `blob:` URL of a MediaSource, which only the page's own scripts make.
        let connect = environment?.connectOrigins ?? []
        var directives: [(String, [String])] = [
            ("default-src", ["'none'"]),
            ("script-src", ["'self'"] + scriptHashes.sorted()),
            ("style-src", ["'self'"] + styleHashes.sorted()),
            ("img-src", ["'self'"]),
            ("media-src", ["'self'", "blob:"]),
            ("connect-src", ["'self'"] + connect),
            ("font-src", ["'self'"]),
            ("manifest-src", ["'self'"]),
            // The upload page hashes parts in a module worker, the build's fingerprinted script.
            ("worker-src", ["'self'"]),
            ("form-action", ["'self'"]),
            ("base-uri", ["'none'"]),
            ("object-src", ["'none'"]),
            ("require-trusted-types-for", ["'script'"]),
            // The one policy the app makes: it passes the upload worker's URL to `new Worker`.
            ("trusted-types", ["upload-worker"]),
        ]
        if forHeader { directives.append(("frame-ancestors", ["'none'"])) }
        if !isLocal { directives.append(("upgrade-insecure-requests", [])) }
        return directives.map { name, sources in ([name] + sources).joined(separator: " ") }.joined(separator: "; ")
    }

    /// Every response header the site should be served with (CloudFront response headers policy).
    public func headers(scriptHashes: some Collection<String>, styleHashes: some Collection<String>) -> [String: String] {
        var headers = [
            "Content-Security-Policy": contentSecurityPolicy(scriptHashes: scriptHashes, styleHashes: styleHashes, forHeader: true),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Permissions-Policy": "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), fullscreen=(self), picture-in-picture=(self)",
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Resource-Policy": "same-origin",
        ]
        // HSTS on localhost would pin every local port to https in the developer's browser.
        if !isLocal { headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains; preload" }
        return headers
    }
}
