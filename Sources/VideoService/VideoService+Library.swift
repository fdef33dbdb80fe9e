#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The video API's media session (the signed cookies of the caller's folder) and library: the
/// caller's videos listed, read and deleted.
extension VideoService {
    // MARK: Media session

    /// Signed cookies that open the caller's media folder, and nothing else, until their access
    /// token expires (an hour at most).
    func openSession(_ caller: Caller, request: VideoRequest) async throws -> VideoResponse {
        guard let media else { throw APIFailure.noSuchEndpoint }
        let now = Int64(Date().timeIntervalSince1970)
        let expires = min(caller.tokenExpiry ?? Int64.max, now + Int64(MediaCookies.longestLifetime))
        guard expires > now else { throw APIFailure.expiredToken }
        guard let origin = media.origin ?? request.header("host").map({ "http://" + $0 }) else {
            throw APIFailure.badRequest("The request has no Host header.")
        }
        let folder = MediaCookies.folder(sub: caller.sub)
        let values: [(name: String, value: String)]
        do {
            values = try MediaCookies.sign(policy: MediaCookies.policy(resource: origin + folder + "*", expires: expires),
                                           with: try await media.keys.signingKey())
        } catch {
            log("error: cannot sign media cookies: \(error)")
            throw APIFailure.internalError
        }
        var response = VideoResponse.json(200, ["mediaPath": .string(folder), "expiresAt": .string(Self.iso8601(Double(expires))),
                                                "expiresIn": .integer(expires - now)],
                                          headers: ["Cache-Control": "no-store"])
        response.cookies = MediaCookies.setCookieHeaders(values, path: folder, maxAge: Int(expires - now), secure: media.secure)
        return response
    }

    /// Removes the caller's media cookies (sign-out), and the media the browser cached (`private`,
    /// for a day) with them: `Clear-Site-Data` empties the site's HTTP cache.
    func closeSession(sub: String) throws -> VideoResponse {
        guard let media else { throw APIFailure.noSuchEndpoint }
        var response = VideoResponse.empty(204)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Clear-Site-Data"] = "\"cache\""
        response.cookies = MediaCookies.setCookieHeaders(nil, path: MediaCookies.folder(sub: sub), maxAge: 0, secure: media.secure)
        return response
    }

    // MARK: Library

    func json(_ video: VideoRecord) -> JSONValue {
        let keys = VideoRules.mainKeys(sub: video.sub, id: video.id)
        let ready = video.status == .ready
        // Plain paths on the site's origin: the session's cookies open them.
        func playback(_ key: String) -> JSONValue { ready ? .string(MediaCookies.path(ofKey: key)) : .null }
        return [
            "id": .string(video.id), "title": .string(video.title), "status": .string(video.status.rawValue),
            "sizeBytes": .integer(video.sizeBytes), "durationSeconds": JSONValue(video.durationSeconds),
            "createdAt": .string(Self.iso8601(video.createdAt)),
            "playbackUrl": playback(keys.video), "thumbnailUrl": playback(keys.thumbnail),
            "streamUrl": video.hlsLadder ? playback(StreamLadder.masterKey(sub: video.sub, id: video.id)) : .null,
            "error": video.status == .failed ? .string(video.error ?? "The conversion failed.") : .null,
            "progress": video.status == .converting ? .number(video.progress ?? 0) : .null,
            // Set when only the first `durationSeconds` of a longer source were converted.
            "cutFromSeconds": ready ? JSONValue(video.cutFromSeconds) : .null,
        ]
    }

    /// `2026-01-02T03:04:05.678Z`, in UTC.
    static func iso8601(_ seconds: Double) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = max(0, min(999, Int(((seconds - Double(time)) * 1000).rounded())))
        func padded(_ value: Int, _ width: Int = 2) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(Int(parts.tm_year) + 1900, 4))-\(padded(Int(parts.tm_mon) + 1))-\(padded(Int(parts.tm_mday)))T"
            + "\(padded(Int(parts.tm_hour))):\(padded(Int(parts.tm_min))):\(padded(Int(parts.tm_sec))).\(padded(millis, 3))Z"
    }

    func listVideos(sub: String) async throws -> VideoResponse {
        .json(200, ["videos": .array(try await library.videos(sub: sub).map(json))])
    }

    func getVideo(_ id: String, sub: String) async throws -> VideoResponse {
        guard let video = try await library.video(sub: sub, id: id) else { throw APIFailure.notFound }
        return .json(200, json(video))
    }

    func deleteVideo(_ id: String, sub: String) async throws -> VideoResponse {
        guard let video = try await library.remove(sub: sub, id: id) else { throw APIFailure.notFound }
        if let uploadId = video.uploadId {
            try? await storage.abortMultipartUpload(key: video.uploadKey, uploadId: uploadId)
        }
        try await storage.delete(bucket: storage.tempBucket, key: video.uploadKey)
        try await storage.deleteConverted(sub: sub, id: id)
        return .empty(204)
    }
}
