import Foundation
import Testing
import _CryptoExtras
@testable import VideoService

/// The media cookies: what the video service signs, and the local cloud's check of them, which
/// must refuse what CloudFront refuses. (botocore's signer is checked against both in
/// Tests/EndToEnd/test_cloud_media.py.)
@Suite("media cookies")
struct MediaCookiesTests {
    static let key = try! MediaSigningKey(keyPairId: "KTESTKEY000001", privateKey: _RSA.Signing.PrivateKey(keySize: .bits2048))
    static let sub = "0b7e5f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
    static let origin = "https://video.example.com"
    let now: Int64 = 1_800_000_000

    func cookies(_ policy: String, key: MediaSigningKey = MediaCookiesTests.key) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try MediaCookies.sign(policy: policy, with: key).map { ($0.name, $0.value) })
    }

    func refusal(_ cookies: [String: String], _ path: String, at time: Int64? = nil, ip: String = "198.51.100.7") -> String? {
        MediaCookies.refusal(cookies: cookies, url: Self.origin + path, now: time ?? now, clientIP: ip,
                             publicKeys: [Self.key.keyPairId: Self.key.privateKey.publicKey])
    }

    var folderPolicy: String {
        MediaCookies.policy(resource: Self.origin + MediaCookies.folder(sub: Self.sub) + "*", expires: now + 600)
    }

    @Test func aSignedFolderOpensItsFilesOnly() throws {
        let cookies = try cookies(folderPolicy)
        #expect(refusal(cookies, "/media/videos/\(Self.sub)/abc/video.mp4") == nil)
        #expect(refusal(cookies, "/media/videos/\(Self.sub)/abc/thumbnail.0000000.jpg") == nil)
        // Another user's folder, a sibling whose name starts with this sub, and the folder's parent.
        #expect(refusal(cookies, "/media/videos/1b7e5f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b/abc/video.mp4") == "Access denied")
        #expect(refusal(cookies, "/media/videos/\(Self.sub)-x/abc/video.mp4") == "Access denied")
        #expect(refusal(cookies, "/media/videos/") == "Access denied")
        #expect(MediaCookies.refusal(cookies: cookies, url: "https://other.example.com/media/videos/\(Self.sub)/a", now: now,
                                     clientIP: nil, publicKeys: [Self.key.keyPairId: Self.key.privateKey.publicKey]) == "Access denied")
    }

    @Test func expiryIsExclusiveAndAStartDateIsHonoured() throws {
        let cookies = try cookies(folderPolicy)
        #expect(refusal(cookies, "/media/videos/\(Self.sub)/a", at: now + 599) == nil)
        #expect(refusal(cookies, "/media/videos/\(Self.sub)/a", at: now + 600) == "Access denied")
        let later = #"{"Statement":[{"Resource":"https://video.example.com/*","Condition":{"DateLessThan":{"AWS:EpochTime":\#(now + 600)},"DateGreaterThan":{"AWS:EpochTime":\#(now + 60)}}}]}"#
        #expect(refusal(try self.cookies(later), "/x", at: now) == "Access denied")
        #expect(refusal(try self.cookies(later), "/x", at: now + 60) == nil)
    }

    @Test func anAddressRangeIsHonoured() throws {
        let policy = #"{"Statement":[{"Resource":"https://video.example.com/*","Condition":{"DateLessThan":{"AWS:EpochTime":\#(now + 600)},"IpAddress":{"AWS:SourceIp":"198.51.100.0/24"}}}]}"#
        #expect(refusal(try cookies(policy), "/x") == nil)
        #expect(refusal(try cookies(policy), "/x", ip: "198.51.101.7") == "Access denied")
        let v6 = #"{"Statement":[{"Resource":"https://video.example.com/*","Condition":{"DateLessThan":{"AWS:EpochTime":\#(now + 600)},"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}}}]}"#
        #expect(refusal(try cookies(v6), "/x", ip: "2001:db8:1::5") == nil)
        #expect(refusal(try cookies(v6), "/x", ip: "2001:db9::5") == "Access denied")
    }

    @Test func tamperingAndUnknownKeysAreRefused() throws {
        var cookies = try cookies(folderPolicy)
        let path = "/media/videos/\(Self.sub)/a/video.mp4"
        var widened = cookies
        widened[MediaCookies.policyName] = MediaCookies.encode(Array(MediaCookies.policy(resource: Self.origin + "/*", expires: now + 600).utf8))
        #expect(refusal(widened, "/media/videos/another/a") == "Invalid signature")
        var otherKey = cookies
        otherKey[MediaCookies.keyPairIdName] = "KSOMEONEELSE01"
        #expect(refusal(otherKey, path) == "Unknown Key")
        let stranger = try MediaSigningKey(keyPairId: Self.key.keyPairId, privateKey: _RSA.Signing.PrivateKey(keySize: .bits2048))
        #expect(refusal(try self.cookies(folderPolicy, key: stranger), path) == "Invalid signature")
        cookies[MediaCookies.signatureName] = nil
        #expect(refusal(cookies, path) == "Missing Key-Pair-Id query parameter or cookie value")
        let noExpiry = #"{"Statement":[{"Resource":"https://video.example.com/*"}]}"#
        #expect(refusal(try self.cookies(noExpiry), path) == "Malformed Policy")
    }

    @Test func cloudFrontBase64AndWildcards() {
        let bytes: [UInt8] = [0xfb, 0xff, 0xfe, 0x3e, 0x3f]
        #expect(MediaCookies.encode(bytes) == "-~~-Pj8_")
        #expect(MediaCookies.decode("-~~-Pj8_") == bytes)
        #expect(MediaCookies.matches(pattern: "https://a/*", "https://a/"))
        #expect(MediaCookies.matches(pattern: "https://a/*.mp4", "https://a/x/y.mp4"))
        #expect(!MediaCookies.matches(pattern: "https://a/*.mp4", "https://a/x/y.mp4?x=1"))
        #expect(MediaCookies.matches(pattern: "https://a/?.mp4", "https://a/y.mp4"))
        #expect(!MediaCookies.matches(pattern: "https://a/?.mp4", "https://a/yy.mp4"))
        #expect(MediaCookies.matches(pattern: "*", "anything"))
        #expect(!MediaCookies.matches(pattern: "https://a/b", "https://a/bc"))
    }

    @Test func cookiesAreScopedAndClearedOnTheirPath() throws {
        let folder = MediaCookies.folder(sub: Self.sub)
        let set = MediaCookies.setCookieHeaders(try MediaCookies.sign(policy: folderPolicy, with: Self.key), path: folder, maxAge: 600, secure: true)
        #expect(set.count == 3)
        #expect(set.allSatisfy { $0.hasSuffix("; Path=/media/videos/\(Self.sub)/; Secure; HttpOnly; SameSite=Strict; Max-Age=600") })
        let cleared = MediaCookies.setCookieHeaders(nil, path: folder, maxAge: 0, secure: false)
        #expect(cleared == MediaCookies.names.map { "\($0)=; Path=/media/videos/\(Self.sub)/; HttpOnly; SameSite=Strict; Max-Age=0" })
        #expect(MediaCookies.parseCookieHeaders(["a=1; CloudFront-Policy=x_; b = 2", "a=3"]) == ["a": "1", "CloudFront-Policy": "x_", "b": "2"])
    }

    @Test func theSessionCallSignsForTheCallersFolderUntilTheirTokenEnds() async throws {
        struct Key: MediaKeySource { func signingKey() async throws -> MediaSigningKey { MediaCookiesTests.key } }
        struct Identity: CallerIdentity {
            let expiry: Int64
            func caller(of request: VideoRequest) async throws -> Caller { Caller(sub: MediaCookiesTests.sub, tokenExpiry: expiry) }
        }
        let expiry = Int64(Date().timeIntervalSince1970) + 300
        let service = VideoService(identity: Identity(expiry: expiry), library: MemoryLibrary(), storage: MemoryStorage(),
                                   media: MediaSettings(keys: Key(), origin: Self.origin, secure: true))
        let opened = await service.handle(VideoRequest(method: "POST", path: "/session"))
        #expect(opened.status == 200 && opened.cookies.count == 3)
        let values = Dictionary(uniqueKeysWithValues: opened.cookies.map { cookie in
            let pair = cookie.prefix { $0 != ";" }.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair[1]))
        })
        let encoded = try #require(values[MediaCookies.policyName])
        let policy = String(decoding: try #require(MediaCookies.decode(encoded)), as: UTF8.self)
        #expect(policy == #"{"Statement":[{"Resource":"https://video.example.com/media/videos/\#(Self.sub)/*","Condition":{"DateLessThan":{"AWS:EpochTime":\#(expiry)}}}]}"#)
        #expect(MediaCookies.refusal(cookies: values, url: Self.origin + "/media/videos/\(Self.sub)/x/video.mp4", now: expiry - 1, clientIP: nil,
                                     publicKeys: [Self.key.keyPairId: Self.key.privateKey.publicKey]) == nil)
        let closed = await service.handle(VideoRequest(method: "DELETE", path: "/session"))
        #expect(closed.status == 204 && closed.cookies.allSatisfy { $0.hasSuffix("Max-Age=0") })
        // A host without media has no session call.
        let bare = VideoService(identity: Identity(expiry: expiry), library: MemoryLibrary(), storage: MemoryStorage(), media: nil)
        #expect(await bare.handle(VideoRequest(method: "POST", path: "/session")).status == 404)
    }
}
