import Foundation
import HTTPServing
import Hummingbird
import Mustache
import SigV4

/// `/_local/`: the mailbox, users, videos and queue, as a page (Mustache escapes every value, so
/// user data shows as text) or as JSON when asked with `Accept: application/json`.
struct LocalPages: Sendable {
    let database: CloudDatabase
    let origin: String
    let configuration: LocalCloudConfiguration
    let template: MustacheTemplate?

    init(database: CloudDatabase, origin: String, configuration: LocalCloudConfiguration) {
        self.database = database
        self.origin = origin
        self.configuration = configuration
        template = Bundle.module.url(forResource: "local", withExtension: "mustache")
            .flatMap { try? String(contentsOf: $0, encoding: .utf8) }
            .flatMap { try? MustacheTemplate(string: $0) }
    }

    static let securityHeaders = [
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store"),
    ]

    func handle(path: String, signable: SignableRequest) async -> Response {
        guard signable.method == "GET" || signable.method == "HEAD" else {
            return Reply.text(405, "Method not allowed.\n", type: "text/plain", headers: [("Allow", "GET, HEAD")])
        }
        let wantsJSON = (signable.header("accept") ?? "").contains("application/json")
        let overview: Bool
        switch path {
        case "/_local", "/_local/": overview = true
        case "/_local/mailbox", "/_local/mailbox/": overview = false
        default: return Reply.text(404, "Not found.\n", type: "text/plain")
        }
        do {
            let state = try await snapshot(overview: overview)
            if wantsJSON {
                var json: [String: Any] = ["messages": state.mail]
                if overview {
                    json = ["users": state.users, "videos": state.videos, "jobs": state.jobs, "mailbox": state.mail]
                }
                return Reply.json(200, json, headers: Self.securityHeaders)
            }
            return Reply.text(200, render(state, overview: overview), type: "text/html; charset=utf-8", headers: Self.securityHeaders)
        } catch {
            return Reply.text(500, "The local cloud's state could not be read: \(error)\n", type: "text/plain")
        }
    }

    struct Snapshot {
        var mail: [[String: Any]] = []
        var users: [[String: Any]] = []
        var videos: [[String: Any]] = []
        var jobs: [[String: Any]] = []
    }

    private func snapshot(overview: Bool) async throws -> Snapshot {
        try await database.read { db in
            var state = Snapshot()
            state.mail = try Row.fetchAll(db, sql: "SELECT * FROM mailbox ORDER BY id").map { row in
                ["id": row["id"] as Int64, "to": row["recipient"] as String, "subject": row["subject"] as String,
                 "body": row["body"] as String, "code": row["code"] as String, "kind": row["kind"] as String,
                 "createdAt": HTTPDate.iso8601(Date(timeIntervalSince1970: row["createdAt"]))]
            }
            guard overview else { return state }
            state.users = try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY createdAt").map { row in
                ["sub": row["sub"] as String, "username": row["username"] as String, "email": row["email"] as String,
                 "status": row["status"] as String, "mfa": (row["totpSecret"] as String?) != nil ? "TOTP" : "not set up",
                 "createdAt": HTTPDate.iso8601(Date(timeIntervalSince1970: row["createdAt"]))]
            }
            state.videos = try Row.fetchAll(db, sql: """
                SELECT videos.*, users.email FROM videos LEFT JOIN users ON users.sub = videos.sub ORDER BY videos.createdAt DESC
                """).map { row in
                var video: [String: Any] = [
                    "id": row["id"] as String, "title": row["title"] as String, "owner": (row["email"] as String?) ?? (row["sub"] as String),
                    "sub": row["sub"] as String, "status": row["status"] as String, "sizeBytes": row["sizeBytes"] as Int64,
                    "key": row["uploadKey"] as String,
                    "createdAt": HTTPDate.iso8601(Date(timeIntervalSince1970: row["createdAt"])),
                ]
                if let duration = row["durationSeconds"] as Double? { video["durationSeconds"] = (duration * 10).rounded() / 10 }
                if let error = row["error"] as String? { video["error"] = error }
                if let progress = row["progress"] as Double? {
                    video["progress"] = progress
                    video["progressPercent"] = Int(progress * 100)
                }
                return video
            }
            state.jobs = try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY id DESC LIMIT 200").map { row in
                var job: [String: Any] = [
                    "id": row["id"] as Int64, "videoId": row["videoId"] as String, "state": row["state"] as String,
                    "attempts": row["attempts"] as Int, "key": row["key"] as String,
                    "updatedAt": HTTPDate.iso8601(Date(timeIntervalSince1970: row["updatedAt"])),
                ]
                if let error = row["lastError"] as String? { job["lastError"] = error }
                if let command = row["command"] as String? { job["command"] = command }
                return job
            }
            return state
        }
    }

    private func render(_ state: Snapshot, overview: Bool) -> String {
        guard let template else { return "<!doctype html><title>local cloud</title><p>The page template is missing.</p>" }
        var context: [String: Any] = [
            "title": overview ? "Overview" : "Mailbox", "origin": origin,
            "userPoolId": configuration.userPoolId, "clientId": configuration.clientId,
            "mail": Array(state.mail.reversed()), "mailCount": state.mail.count, "hasMail": !state.mail.isEmpty,
        ]
        if let app = configuration.allowedOrigins.first { context["app"] = app }
        if overview {
            context["overview"] = [
                "users": state.users, "userCount": state.users.count, "hasUsers": !state.users.isEmpty,
                "videos": state.videos, "videoCount": state.videos.count, "hasVideos": !state.videos.isEmpty,
                "jobs": state.jobs, "jobCount": state.jobs.count, "hasJobs": !state.jobs.isEmpty,
            ] as [String: Any]
        }
        return template.render(context)
    }
}
