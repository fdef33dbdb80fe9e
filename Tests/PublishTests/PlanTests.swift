@testable import Publish
import SigV4
@testable import SiteBuild
import Testing

private func object(_ path: String, sha: String = "a", fingerprinted: Bool = false, html: Bool? = nil,
                    cache: String? = nil) -> LocalObject {
    let isHTML = html ?? path.hasSuffix(".html")
    return LocalObject(key: path, path: path, file: path, size: 10, sha256: sha,
                       headers: ObjectHeaders(contentType: isHTML ? "text/html; charset=utf-8" : "text/css; charset=utf-8",
                                              contentEncoding: nil,
                                              cacheControl: cache ?? (fingerprinted ? ObjectHeaders.immutableCacheControl : "no-cache")),
                       fingerprinted: fingerprinted)
}

private func listed(_ key: String, etag: String = "\"e\"", size: Int64 = 10, modified: Int64 = 0) -> S3Client.ObjectSummary {
    S3Client.ObjectSummary(key: key, size: size, etag: etag, lastModified: Timestamp(secondsSince1970: modified))
}

private func record(_ objects: [LocalObject], etag: String = "\"e\"", retired: [String: Int64] = [:]) -> DeployRecord {
    DeployRecord(id: "00000001-20261124T000000Z", time: 0, environment: "production", generator: "site",
                 objects: Dictionary(uniqueKeysWithValues: objects.map {
                     ($0.key, DeployRecord.Object(sha256: $0.sha256, headers: $0.headers.hash, etag: etag, size: $0.size,
                                                  fingerprinted: $0.fingerprinted))
                 }), retired: retired)
}

@Suite("The sync plan")
struct PlanTests {
    let day: Int64 = 86_400

    @Test("an empty bucket gets everything, assets first and HTML last")
    func firstPublishOrder() {
        let local = [object("index.html"), object("assets/app.0123abcd.css", fingerprinted: true), object("robots.txt", html: false)]
        let plan = SyncPlan.make(local: local, listing: [], record: nil, heads: [:], now: 0, graceSeconds: day, prefix: "")
        #expect(plan.uploads.map(\.object.key) == ["assets/app.0123abcd.css", "robots.txt", "index.html"])
        #expect(plan.phases.map { $0.uploads.count } == [1, 1, 1])
        #expect(plan.uploads.allSatisfy { $0.reason == .new })
        #expect(plan.invalidationPaths.isEmpty)
    }

    @Test("a bucket the record vouches for needs no HEAD and no upload")
    func unchangedFromRecord() {
        let local = [object("index.html"), object("assets/app.0123abcd.css", fingerprinted: true)]
        let listing = local.map { listed($0.key) }
        let previous = record(local)
        #expect(SyncPlan.keysNeedingHead(local: local, listing: listing, record: previous).isEmpty)
        let plan = SyncPlan.make(local: local, listing: listing, record: previous, heads: [:], now: 0, graceSeconds: day, prefix: "")
        #expect(plan.isEmpty)
        #expect(plan.unchanged.count == 2)
    }

    @Test("an object changed behind the record's back is checked by HEAD, not by ETag")
    func etagMismatchUsesMetadata() {
        let page = object("index.html", sha: "b")
        let listing = [listed("index.html", etag: "\"multipart-3\"")]
        let previous = record([object("index.html", sha: "old")])
        #expect(SyncPlan.keysNeedingHead(local: [page], listing: listing, record: previous) == ["index.html"])
        let same = SyncPlan.make(local: [page], listing: listing, record: previous,
                                 heads: ["index.html": .init(sha256: "b", headers: page.headers.hash)], now: 0, graceSeconds: day, prefix: "")
        #expect(same.isEmpty)
        let different = SyncPlan.make(local: [page], listing: listing, record: previous,
                                      heads: ["index.html": .init(sha256: "c", headers: page.headers.hash)], now: 0, graceSeconds: day, prefix: "")
        #expect(different.uploads.map(\.reason) == [.contentChanged])
        #expect(different.invalidationPaths == ["/", "/index.html"])
    }

    @Test("a header-only change is uploaded")
    func headerChange() {
        let before = object("help/index.html")
        let after = object("help/index.html", cache: "max-age=60")
        let plan = SyncPlan.make(local: [after], listing: [listed(after.key)], record: record([before]), heads: [:],
                                 now: 0, graceSeconds: day, prefix: "")
        #expect(plan.uploads.map(\.reason) == [.headersChanged])
        #expect(plan.invalidationPaths == ["/help/", "/help", "/help/index.html"])
    }

    @Test("removed HTML is deleted; a removed fingerprinted asset is kept for the grace period, then deleted")
    func deletesAndGrace() {
        let oldAsset = object("assets/app.0123abcd.css", fingerprinted: true)
        let page = object("about/index.html")
        let listing = [listed(oldAsset.key), listed(page.key), listed(".site/deploys/00000001-x.json")]
        let previous = record([oldAsset, page])
        let now = 100 * day
        let plan = SyncPlan.make(local: [], listing: listing, record: previous, heads: [:], now: now, graceSeconds: 7 * day, prefix: "")
        #expect(plan.deletions.map(\.key) == ["about/index.html"])
        #expect(plan.retained == [.init(key: oldAsset.key, retiredAt: now)])
        #expect(plan.invalidationPaths == ["/about/", "/about", "/about/index.html"])

        let next = plan.record(id: "2", now: now, environment: nil, generator: "site", listing: listing, etags: [:])
        let later = SyncPlan.make(local: [], listing: [listed(oldAsset.key)], record: next, heads: [:],
                                  now: now + 7 * day, graceSeconds: 7 * day, prefix: "")
        #expect(later.deletions.map(\.reason) == [.expired])
        #expect(later.invalidationPaths.isEmpty)
    }

    @Test("a stray fingerprinted object no record knows counts its grace from its upload")
    func strayAsset() {
        let stray = listed("assets/app.89abcdef.js", modified: 10 * 86_400)
        let plan = SyncPlan.make(local: [], listing: [stray], record: nil, heads: [:], now: 12 * day, graceSeconds: 7 * day, prefix: "")
        #expect(plan.retained.map(\.key) == [stray.key])
        let old = SyncPlan.make(local: [], listing: [stray], record: nil, heads: [:], now: 20 * day, graceSeconds: 7 * day, prefix: "")
        #expect(old.deletions.map(\.key) == [stray.key])
    }

    @Test("keys outside the build under the prefix are planned; deploy records never are")
    func prefixAndRecords() {
        let local = [LocalObject(key: "site/index.html", path: "index.html", file: "index.html", size: 10, sha256: "a",
                                 headers: object("index.html").headers, fingerprinted: false)]
        let listing = [listed("site/old.html"), listed("site/.site/deploys/00000001-x.json")]
        let plan = SyncPlan.make(local: local, listing: listing, record: nil, heads: [:], now: 0, graceSeconds: day, prefix: "site/")
        #expect(plan.deletions.map(\.key) == ["site/old.html"])
        #expect(plan.invalidationPaths == ["/old.html"])
    }
}

@Suite("Objects from the manifest")
struct LocalObjectTests {
    @Test("gzipped files go up compressed with Content-Encoding; cache class and rules set Cache-Control")
    func objects() {
        let manifest = Manifest(generator: "site", environment: "production", files: [
            .init(path: "index.html", size: 100, sha256: "p", contentType: "text/html; charset=utf-8", cache: .revalidate,
                  source: nil, gzip: .init(path: "index.html.gz", size: 50, sha256: "g")),
            .init(path: "assets/app.0123abcd.css", size: 10, sha256: "c", contentType: "text/css; charset=utf-8", cache: .immutable,
                  source: nil, gzip: nil),
            .init(path: "media/intro.mp4", size: 10, sha256: "m", contentType: "video/mp4", cache: .revalidate, source: nil, gzip: nil),
            .init(path: ".site/headers.json", size: 10, sha256: "h", contentType: "application/json", cache: .revalidate, source: nil, gzip: nil),
        ])
        let objects = LocalObject.objects(from: manifest, prefix: "", cacheRules: [.init(pattern: "media/**", value: "max-age=3600")])
        #expect(objects.map(\.key) == ["index.html", "assets/app.0123abcd.css", "media/intro.mp4"])
        #expect(objects[0].file == "index.html.gz" && objects[0].sha256 == "g" && objects[0].size == 50)
        #expect(objects[0].headers.contentEncoding == "gzip" && objects[0].headers.cacheControl == "no-cache")
        #expect(objects[1].headers.cacheControl == "public, max-age=31536000, immutable")
        #expect(objects[2].headers.cacheControl == "max-age=3600")
        #expect(objects[0].headers.hash != objects[2].headers.hash)
    }

    @Test("glob patterns: * stays in a segment, ** crosses them")
    func globs() {
        #expect(globMatches("*.html", "index.html"))
        #expect(!globMatches("*.html", "help/index.html"))
        #expect(globMatches("**/*.html", "help/index.html"))
        #expect(globMatches("**/*.html", "index.html"))
        #expect(globMatches("media/**", "media/a/b.mp4"))
        #expect(!globMatches("media/**", "assets/media.css"))
        #expect(globMatches("assets/?.js", "assets/a.js"))
    }
}

@Suite("Invalidation batches")
struct InvalidationTests {
    @Test("a folder's index page is invalidated as /dir/, /dir and /dir/index.html")
    func pagePaths() {
        #expect(InvalidationPlan.urlPaths(forKey: "index.html") == ["/", "/index.html"])
        #expect(InvalidationPlan.urlPaths(forKey: "en/help/index.html") == ["/en/help/", "/en/help", "/en/help/index.html"])
        #expect(InvalidationPlan.urlPaths(forKey: "a b.txt") == ["/a%20b.txt"])
    }

    @Test("a few paths stay exact")
    func fewPaths() {
        let paths = InvalidationPlan.urlPaths(forKey: "help/index.html")
        #expect(InvalidationPlan.batch(paths + paths) == paths)
    }

    @Test("many paths in a folder become one wildcard, never more than 15 wildcards")
    func wildcards() {
        let posts = (0..<40).flatMap { InvalidationPlan.urlPaths(forKey: "posts/p\($0)/index.html") }
        let batch = InvalidationPlan.batch(posts + InvalidationPlan.urlPaths(forKey: "help/index.html"))
        #expect(batch.contains("/posts/*"))
        #expect(batch.contains("/help/index.html") && batch.contains("/help"))
        #expect(batch.count < 10)

        let folders = (0..<30).flatMap { folder in (0..<5).map { "/f\(folder)/p\($0).html" } }
        let many = InvalidationPlan.batch(folders)
        #expect(many.filter { $0.hasSuffix("*") }.count == InvalidationPlan.maxWildcards)
        #expect(many.count == 15 + 15 * 5)
    }

    @Test("more than 3,000 paths become /*")
    func tooMany() {
        let paths = (0..<3500).map { "/p\($0).html" }
        #expect(InvalidationPlan.batch(paths) == ["/*"])
    }
}
