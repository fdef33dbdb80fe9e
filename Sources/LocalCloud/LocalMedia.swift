import Crypto
import Foundation
import Hummingbird
import SigV4
import VideoService
import _CryptoExtras

/// `/media/<key>`: the main bucket as CloudFront's `/media/*` behaviour serves it — GET and HEAD
/// only, and only with signed cookies whose policy allows the URL, checked as CloudFront checks
/// them (`MediaCookies.refusal`); anything else gets CloudFront's 403.
struct LocalMedia: Sendable {
    let s3: S3Service
    /// The trusted key group: the data folder's key, by its id.
    let publicKeys: [String: _RSA.Signing.PublicKey]

    /// A stable id for the data folder's key, shaped like CloudFront's public key ids.
    static func keyPairId(of key: _RSA.Signing.PublicKey) -> String {
        "K" + SHA256.hash(data: key.derRepresentation).prefix(7).map { String(format: "%02X", $0) }.joined().prefix(13)
    }

    func handle(_ request: Request, _ signable: SignableRequest) async -> Response {
        guard signable.method == "GET" || signable.method == "HEAD" else {
            return Self.refusal(code: "MethodNotAllowed", "This distribution is not configured to allow the HTTP request method that was used for this request.",
                                status: 403)
        }
        let url = "http://" + (signable.header("host") ?? "") + (request.head.path ?? "/")
        let cookies = MediaCookies.parseCookieHeaders(request.headers[values: .cookie])
        // The local cloud listens on loopback only: the client is this machine, or whom the dev server names.
        let client = signable.header("x-forwarded-for")?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "127.0.0.1"
        if let reason = MediaCookies.refusal(cookies: cookies, url: url, now: Int64(Date().timeIntervalSince1970), clientIP: client,
                                             publicKeys: publicKeys) {
            return Self.refusal(code: reason.hasPrefix("Missing") ? "MissingKey" : "AccessDenied", reason, status: 403)
        }
        let key = String(signable.path.dropFirst(MediaCookies.mediaPrefix.count))
        return await s3.media(signable, bucket: LocalVideoHost.mainBucket, key: key)
    }

    /// CloudFront's own error answer (not S3's: it has no resource or request id).
    static func refusal(code: String, _ message: String, status: Int) -> Response {
        Reply.text(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(xmlEscape(code))</Code><Message>\(xmlEscape(message))</Message></Error>",
                   type: "text/xml")
    }
}

extension S3Service {
    /// A main-bucket object for `/media/`, whose cookies the caller has checked: S3's answer as
    /// CloudFront relays it through its origin access control (no `s3:ListBucket`, so a missing
    /// key is 403), with the `Cache-Control` production's response headers policy sets.
    func media(_ signable: SignableRequest, bucket: String, key: String) async -> Response {
        var response: Response
        do {
            response = try await getObject(signable, bucket: bucket, key: key, head: signable.method == "HEAD")
        } catch let failure as Failure where failure.status == 404 {
            response = Self.error(Failure(status: 403, code: "AccessDenied", message: "Access Denied"), resource: signable.path)
        } catch {
            response = Self.error(for: error, resource: signable.path)
        }
        response.headers[.cacheControl] = "private, max-age=86400"
        return response
    }
}
