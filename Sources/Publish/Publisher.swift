import AWSClient
import Foundation
import SigV4
import SiteBuild

/// What `site publish` was asked to do.
public struct PublishOptions: Sendable {
    /// The build to publish (its `.site/manifest.json` lists the files).
    public var distFolder: String
    /// The environment being published to; the build must have been made for it.
    public var environment: String?
    public var target: SiteBuild.Environment.Publish
    /// Transfers in flight at once.
    public var concurrency = 16
    /// More deletes than this refuse the whole publish unless `allowManyDeletes`.
    public var maxDeletes = 256
    public var allowManyDeletes = false
    /// How long fingerprinted assets stay after leaving the site, for pages cached before the deploy.
    public var graceSeconds: Int64 = 7 * 86_400
    public var dryRun = false
    /// Wait for CloudFront to finish invalidating.
    public var wait = false
    /// Objects above this size go up in parts.
    public var multipartThreshold: Int64 = 64 << 20
    public var partSize: Int64 = 16 << 20
    /// Deploy records kept in the bucket, newest first.
    public var keptRecords = 20

    public init(distFolder: String, environment: String?, target: SiteBuild.Environment.Publish) {
        self.distFolder = distFolder
        self.environment = environment
        self.target = target
    }

    public var prefix: String { target.prefix ?? "" }
}

/// Progress, as it happens.
public enum PublishEvent: Sendable {
    case planned(SyncPlan)
    case phaseStarted(name: String, objects: Int, bytes: Int64)
    case uploaded(key: String, bytes: Int64)
    case deleted(count: Int)
    case recorded(key: String)
    case invalidationStarted(distributionId: String, invalidationId: String, paths: [String])
    case invalidationCompleted(distributionId: String, invalidationId: String)
    case warning(String)
}

/// What a publish did.
public struct PublishReport: Sendable {
    public var plan: SyncPlan
    public var recordKey: String?
    public var invalidations: [(distributionId: String, invalidationId: String, paths: [String])]
    /// True when `--wait` saw every invalidation complete.
    public var invalidationsCompleted = false
}

/// A publish refused before touching the bucket, with what to do about it.
public struct PublishRefusal: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

/// A multipart upload that failed, and that AWS would not abort: its parts stay in the bucket, and
/// are billed, until something deletes them.
public struct UploadNotAborted: Error, CustomStringConvertible, Sendable {
    public var failure: any Error
    public var abort: AWSError
    public var description: String { "\(failure); then its parts could not be removed: \(abort)" }
}

/// Carries out a publish: plan from the manifest and the bucket, then upload in the safe order
/// (fingerprinted assets, other files, pages), delete, record the deploy, invalidate.
public struct Publisher: Sendable {
    public let s3: S3Client
    public let cloudFront: CloudFrontClient
    public let options: PublishOptions
    public let events: @Sendable (PublishEvent) -> Void

    public init(s3: S3Client, cloudFront: CloudFrontClient, options: PublishOptions,
                events: @escaping @Sendable (PublishEvent) -> Void) {
        self.s3 = s3
        self.cloudFront = cloudFront
        self.options = options
        self.events = events
    }

    static let sha256Metadata = "site-sha256"
    static let headersMetadata = "site-headers"

    /// Publishes, step by step; a dry run stops once the plan is made. `now` gives the times of
    /// the plan's grace periods and of the deploy record.
    public func run(now: @Sendable () async -> Timestamp) async throws -> PublishReport {
        let planned = try await plan(now: now)
        try refuseTooManyDeletes(planned.plan)
        events(.planned(planned.plan))
        guard !options.dryRun else { return PublishReport(plan: planned.plan, recordKey: nil, invalidations: []) }
        let etags = try await uploadPhases(planned.plan)
        try await deleteRemoved(planned.plan)
        let (record, recordKey) = try await recordDeploy(planned, etags: etags, now: now)
        let invalidations = try await invalidate(planned.plan, deploy: record.id)
        if options.wait { try await waitUntilCompleted(invalidations) }
        return PublishReport(plan: planned.plan, recordKey: recordKey, invalidations: invalidations,
                             invalidationsCompleted: options.wait && !invalidations.isEmpty)
    }

    /// The plan, and what recording the deploy needs to know of the build and the bucket.
    private struct Planned {
        var plan: SyncPlan
        var manifest: Manifest
        var listing: [S3Client.ObjectSummary]
        /// The deploy records in the bucket, oldest first, and the newest one, read.
        var recordKeys: [String]
        var previous: DeployRecord?
        /// Whether some objects' state was read one by one (no record knew it).
        var headedObjects: Bool
    }

    /// Reads the manifest, lists the bucket and its newest deploy record, asks S3 about the objects
    /// the record does not vouch for, and plans.
    private func plan(now: @Sendable () async -> Timestamp) async throws -> Planned {
        // The listings (read-only) start first; the manifest is read and the newest deploy record
        // fetched while the bucket is listed. A refused manifest cancels them.
        async let remote = s3.list(prefix: options.prefix)
        async let records = deployRecords(prefix: options.prefix + DeployRecord.folder)
        let manifest = try readManifest()
        let local = LocalObject.objects(from: manifest, prefix: options.prefix, cacheRules: options.target.cacheRules)
        let listing = try await remote
        let (recordKeys, previous) = try await records

        let needHead = SyncPlan.keysNeedingHead(local: local, listing: listing, record: previous)
        let heads = try await concurrently(needHead) { key -> (String, SyncPlan.KnownState) in
            let head = try await s3.head(key)
            return (key, SyncPlan.KnownState(sha256: head?.metadata[Self.sha256Metadata], headers: head?.metadata[Self.headersMetadata]))
        }
        let started = await now()
        let plan = SyncPlan.make(local: local, listing: listing, record: previous, heads: Dictionary(heads, uniquingKeysWith: { a, _ in a }),
                                 now: started.secondsSince1970, graceSeconds: options.graceSeconds, prefix: options.prefix)
        return Planned(plan: plan, manifest: manifest, listing: listing, recordKeys: recordKeys, previous: previous,
                       headedObjects: !needHead.isEmpty)
    }

    /// Refuses, before anything changes, a plan that deletes more than `--max-deletes` allows.
    private func refuseTooManyDeletes(_ plan: SyncPlan) throws {
        if plan.deletions.count > options.maxDeletes, !options.allowManyDeletes {
            throw PublishRefusal(message: """
                this publish would delete \(plan.deletions.count) objects from s3://\(s3.bucket)/\(options.prefix), more than the limit of \(options.maxDeletes); nothing was changed.
                Check that dist/ is the complete site (first keys: \(plan.deletions.prefix(3).map(\.key).joined(separator: ", "))), then re-run with --max-deletes \(plan.deletions.count) or --allow-many-deletes.
                """)
        }
    }

    /// Uploads each phase's objects, a phase only when the one before it is all up; returns each
    /// uploaded key's ETag.
    private func uploadPhases(_ plan: SyncPlan) async throws -> [String: String] {
        var etags: [String: String] = [:]
        for phase in plan.phases where !phase.uploads.isEmpty {
            events(.phaseStarted(name: phase.name, objects: phase.uploads.count, bytes: phase.uploads.reduce(0) { $0 + $1.object.size }))
            for (key, etag) in try await concurrently(phase.uploads, { (upload: SyncPlan.Upload) -> (String, String) in
                let etag = try await self.upload(upload.object)
                self.events(.uploaded(key: upload.object.key, bytes: upload.object.size))
                return (upload.object.key, etag)
            }) { etags[key] = etag }
        }
        return etags
    }

    /// Deletes what the plan removes, 1,000 keys (S3's most) a request.
    private func deleteRemoved(_ plan: SyncPlan) async throws {
        for chunk in stride(from: 0, to: plan.deletions.count, by: 1000) {
            let keys = plan.deletions[chunk..<min(chunk + 1000, plan.deletions.count)].map(\.key)
            try await s3.deleteObjects(keys)
            events(.deleted(count: keys.count))
        }
    }

    /// The deploy's record, and the key it was stored under: it is stored, and the oldest records
    /// beyond `keptRecords` deleted, unless nothing changed since the newest record.
    private func recordDeploy(_ planned: Planned, etags: [String: String],
                              now: @Sendable () async -> Timestamp) async throws -> (DeployRecord, String?) {
        let finished = await now()
        let record = planned.plan.record(id: DeployRecord.makeId(at: finished, after: planned.previous), now: finished.secondsSince1970,
                                         environment: planned.manifest.environment, generator: planned.manifest.generator,
                                         listing: planned.listing, etags: etags)
        guard !planned.plan.isEmpty || planned.headedObjects || planned.previous == nil || planned.previous?.retired != record.retired else {
            return (record, nil)
        }
        let key = options.prefix + DeployRecord.folder + record.id + ".json"
        let bytes = try record.encoded()
        try await s3.put(key, body: .bytes(bytes), sha256: hexSHA256(bytes),
                         headers: [.init("Content-Type", "application/json"), .init("Cache-Control", "no-store")])
        events(.recorded(key: key))
        let stale = planned.recordKeys.dropLast(max(0, options.keptRecords - 1))
        if !stale.isEmpty { try await s3.deleteObjects(Array(stale.prefix(1000))) }
        return (record, key)
    }

    /// Asks every distribution to invalidate the plan's paths (batched); none when nothing changed.
    private func invalidate(_ plan: SyncPlan, deploy: String) async throws -> [(String, String, [String])] {
        var invalidations: [(String, String, [String])] = []
        let paths = InvalidationPlan.batch(plan.invalidationPaths)
        guard !paths.isEmpty else { return invalidations }
        for distribution in options.target.distributionIds {
            let id = try await cloudFront.createInvalidation(
                distributionId: distribution, paths: paths,
                callerReference: "site-publish-\(deploy)-\(distribution)")
            events(.invalidationStarted(distributionId: distribution, invalidationId: id, paths: paths))
            invalidations.append((distribution, id, paths))
        }
        return invalidations
    }

    /// Polls each invalidation every 5 seconds until CloudFront says it is complete.
    private func waitUntilCompleted(_ invalidations: [(String, String, [String])]) async throws {
        for (distribution, id, _) in invalidations {
            while try await cloudFront.invalidationStatus(distributionId: distribution, invalidationId: id).lowercased() != "completed" {
                try await Task.sleep(nanoseconds: 5_000_000_000)
            }
            events(.invalidationCompleted(distributionId: distribution, invalidationId: id))
        }
    }

    private func readManifest() throws -> Manifest {
        let path = options.distFolder + "/" + Manifest.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PublishRefusal(message: "\(path) not found: there is no build to publish. Run `site build --env \(options.environment ?? "NAME")` first.")
        }
        let manifest: Manifest
        do { manifest = try Manifest.decode(Array(data)) } catch {
            throw PublishRefusal(message: "\(path) is not a manifest site build wrote (\(error)). Rebuild with `site build`.")
        }
        if manifest.environment != options.environment {
            throw PublishRefusal(message: """
                \(options.distFolder) was built for \(manifest.environment.map { "the '\($0)' environment" } ?? "no environment"), \
                not '\(options.environment ?? "")': its config would point the app at the wrong services. \
                Run `site build --env \(options.environment ?? "NAME")` first.
                """)
        }
        return manifest
    }

    /// The keys of the deploy records under `prefix`, oldest first, and the newest record.
    private func deployRecords(prefix: String) async throws -> ([String], DeployRecord?) {
        // Listed by the shorter prefix `.site`: some S3-compatible servers (moto) mis-verify the
        // signature of a query value with an encoded '/', and nothing else lives under `.site`.
        let folder = options.prefix + DeployRecord.folder.prefix { $0 != "/" }
        let keys = try await s3.list(prefix: folder).map(\.key)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
        guard let newest = keys.last, let bytes = try await s3.get(newest) else { return (keys, nil) }
        do { return (keys, try DeployRecord.decode(bytes)) } catch {
            events(.warning("ignoring unreadable deploy record \(newest) (\(error)); objects will be checked one by one"))
            return (keys, nil)
        }
    }

    /// Uploads one object with its headers and hash metadata; returns its ETag.
    private func upload(_ object: LocalObject) async throws -> String {
        let path = options.distFolder + "/" + object.file
        var headers = object.headers.fields.map { SignableRequest.Header($0.name, $0.value) }
        headers.append(.init("x-amz-meta-" + Self.sha256Metadata, object.sha256))
        headers.append(.init("x-amz-meta-" + Self.headersMetadata, object.headers.hash))
        guard object.size > options.multipartThreshold else {
            return try await s3.put(object.key, body: .file(path: path, offset: 0, length: object.size),
                                    sha256: object.sha256, headers: headers)
        }
        let uploadId = try await s3.createMultipartUpload(object.key, headers: headers)
        do {
            // S3 allows at most 10,000 parts: larger files get larger parts.
            let partSize = max(options.partSize, (object.size + 9_999) / 10_000)
            var etags: [String] = []
            var offset: Int64 = 0
            while offset < object.size {
                let length = min(partSize, object.size - offset)
                etags.append(try await s3.uploadPart(object.key, uploadId: uploadId, number: etags.count + 1,
                                                     body: .file(path: path, offset: offset, length: length)))
                offset += length
            }
            return try await s3.completeMultipartUpload(object.key, uploadId: uploadId, partETags: etags)
        } catch {
            do {
                try await s3.abortMultipartUpload(object.key, uploadId: uploadId)
            } catch let abort as AWSError {
                throw UploadNotAborted(failure: error, abort: abort)
            } catch {}  // cancelled or unreachable: the upload's own failure says enough
            throw error
        }
    }

    /// Runs `body` over `items` with at most `options.concurrency` in flight; the first failure
    /// cancels the rest and is thrown.
    private func concurrently<Item: Sendable, Result: Sendable>(
        _ items: [Item], _ body: @escaping @Sendable (Item) async throws -> Result) async throws -> [Result] {
        try await withThrowingTaskGroup(of: Result.self) { group in
            var results: [Result] = []
            var next = 0
            while next < min(options.concurrency, items.count) {
                let item = items[next]
                group.addTask { try await body(item) }
                next += 1
            }
            while let result = try await group.next() {
                results.append(result)
                if next < items.count {
                    let item = items[next]
                    group.addTask { try await body(item) }
                    next += 1
                }
            }
            return results
        }
    }
}
