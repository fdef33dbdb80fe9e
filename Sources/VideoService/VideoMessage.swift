#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One call of the video API as either host receives it: the local cloud from its HTTP server,
/// the Lambda from API Gateway's payload 2.0 event.
public struct VideoRequest: Sendable {
    public var method: String
    /// The path below the API's base (`/videos/…`).
    public var path: String
    /// Query parameters, decoded.
    public var query: [(name: String, value: String)]
    /// Header names in lower case.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The host could not take the whole body in (more than `VideoService.maximumBodyBytes`).
    public var bodyTooLarge: Bool
    /// The claims API Gateway's authorizer verified; set by the Lambda host from the event's
    /// `requestContext`, never from anything the client sent.
    public var authorizerClaims: [String: JSONValue]?

    public init(method: String, path: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)] = [], body: [UInt8] = [], bodyTooLarge: Bool = false,
                authorizerClaims: [String: JSONValue]? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers.map { ($0.name.lowercased(), $0.value) }
        self.body = body
        self.bodyTooLarge = bodyTooLarge
        self.authorizerClaims = authorizerClaims
    }

    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return headers.first { $0.name == name }?.value
    }

    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }
}

/// The API's answer: a status, headers and a JSON body (or none).
public struct VideoResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    /// `Set-Cookie` values, one header each (API Gateway's payload 2.0 `cookies`).
    public var cookies: [String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], cookies: [String] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.cookies = cookies
        self.body = body
    }

    /// A JSON answer with sorted keys, so both hosts answer byte for byte alike.
    public static func json(_ status: Int, _ value: JSONValue, headers: [String: String] = [:]) -> VideoResponse {
        var headers = headers
        headers["Content-Type"] = "application/json"
        return VideoResponse(status: status, headers: headers, body: value.bytes)
    }

    public static func empty(_ status: Int) -> VideoResponse { VideoResponse(status: status) }
}

/// A refusal the API answers with `{"error": {"code", "message"}}`; the message is for a person.
public struct APIFailure: Error, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    public var headers: [String: String] = [:]

    public init(status: Int, code: String, message: String, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public static func badRequest(_ message: String) -> APIFailure { .init(status: 400, code: "BadRequest", message: message) }
    public static let notFound = APIFailure(status: 404, code: "NotFound", message: "This video does not exist or has been deleted.")
    public static let noSuchEndpoint = APIFailure(status: 404, code: "NotFound", message: "There is no such API endpoint.")
    public static let uploadNotFound = APIFailure(status: 404, code: "NotFound", message: "This upload does not exist or has already finished.")
    public static let forbidden = APIFailure(status: 403, code: "Forbidden", message: "This upload does not belong to your account.")
    public static let completed = APIFailure(status: 409, code: "Conflict", message: "This upload has already been completed.")
    public static let tooLarge = APIFailure(status: 413, code: "PayloadTooLarge", message: "The request body is larger than 1 MiB.")
    public static let internalError = APIFailure(status: 500, code: "InternalError", message: "Something went wrong on our side. Please try again.")

    static let challenge = "Bearer realm=\"sstech-video\""

    /// 401 with the RFC 6750 challenge: `error` is nil (no credentials), `invalid_request` or `invalid_token`.
    public static func unauthorized(_ message: String, error: String? = nil, description: String? = nil) -> APIFailure {
        var value = challenge
        if let error { value += ", error=\"\(error)\"" }
        if let description { value += ", error_description=\"\(description)\"" }
        return .init(status: 401, code: "Unauthorized", message: message, headers: ["WWW-Authenticate": value])
    }

    public static let signIn = unauthorized("Please sign in.")
    public static let expiredToken = unauthorized("Your session has expired. Please sign in again.",
                                                  error: "invalid_token", description: "The access token expired")
    public static let invalidToken = unauthorized("Your session is not valid. Please sign in again.",
                                                  error: "invalid_token", description: "The access token is not valid")

    public var response: VideoResponse {
        .json(status, ["error": ["code": .string(code), "message": .string(message)]], headers: headers)
    }
}

/// The caller of a request: who, and until when their access token is good.
public struct Caller: Sendable, Equatable {
    public var sub: String
    /// The access token's `exp`, seconds since 1970.
    public var tokenExpiry: Int64?

    public init(sub: String, tokenExpiry: Int64?) {
        self.sub = sub
        self.tokenExpiry = tokenExpiry
    }
}

/// Who is calling. Locally: the access token, verified against the local user pool. In
/// production: the claims API Gateway's JWT authorizer verified, checked once more.
public protocol CallerIdentity: Sendable {
    /// The caller; throws an `APIFailure` (401) otherwise.
    func caller(of request: VideoRequest) async throws -> Caller
}

extension CallerIdentity {
    /// The caller's `sub`; throws an `APIFailure` (401) otherwise.
    public func sub(of request: VideoRequest) async throws -> String { try await caller(of: request).sub }

    /// The token of `Authorization: Bearer <token>`; 401 when there is none or the header has another shape.
    public func bearerToken(_ request: VideoRequest) throws -> String {
        guard let header = request.header("authorization") else { throw APIFailure.signIn }
        let token = String(header.dropFirst(7).drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        guard header.lowercased().hasPrefix("bearer "), !token.isEmpty else {
            throw APIFailure.unauthorized("The Authorization header must be “Bearer <access token>”.", error: "invalid_request")
        }
        return token
    }
}

/// The claims of a Cognito access token that API Gateway's JWT authorizer has verified (signature,
/// issuer, expiry, `client_id` as audience). They are checked again here: an access token, not an
/// id token, for this app's client, naming a user.
public struct AuthorizerClaims: CallerIdentity {
    public var clientId: String?

    public init(clientId: String?) {
        self.clientId = clientId
    }

    public func caller(of request: VideoRequest) async throws -> Caller {
        guard let claims = request.authorizerClaims else { throw APIFailure.signIn }
        guard case .string("access")? = claims["token_use"], case .string(let sub)? = claims["sub"], VideoRules.isSub(sub[...]) else {
            throw APIFailure.invalidToken
        }
        if let clientId { guard case .string(clientId)? = claims["client_id"] else { throw APIFailure.invalidToken } }
        return Caller(sub: sub, tokenExpiry: claims["exp"]?.stringValue.flatMap { Int64($0) })
    }
}
