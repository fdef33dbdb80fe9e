import SigV4

/// What `site publish` will do to the bucket, decided from the build and the bucket alone (pure).
public struct SyncPlan: Sendable {
    public enum Reason: String, Sendable, Codable {
        case new, contentChanged = "content changed", headersChanged = "headers changed"
        case unchanged, retained = "kept for the grace period", removed = "not in the build", expired = "grace period over"
    }

    public struct Upload: Sendable, Equatable {
        public var object: LocalObject
        public var reason: Reason
    }

    public struct Deletion: Sendable, Equatable {
        public var key: String
        public var size: Int64
        public var reason: Reason
    }

    public struct Retention: Sendable, Equatable {
        public var key: String
        /// When it left the site; it is deleted once the grace period has passed after that.
        public var retiredAt: Int64
    }

    /// New and changed objects, in the safe order: fingerprinted assets, other files, then HTML.
    public var uploads: [Upload]
    public var unchanged: [LocalObject]
    public var deletions: [Deletion]
    public var retained: [Retention]
    /// URL paths whose cached copies must go (changed or deleted un-fingerprinted objects).
    public var invalidationPaths: [String]

    public var isEmpty: Bool { uploads.isEmpty && deletions.isEmpty }
    public var uploadBytes: Int64 { uploads.reduce(0) { $0 + $1.object.size } }

    /// The three upload phases in order; each finishes before the next starts.
    public var phases: [(name: String, uploads: [Upload])] {
        [("assets", uploads.filter { $0.object.fingerprinted }),
         ("files", uploads.filter { !$0.object.fingerprinted && !$0.object.isHTML }),
         ("pages", uploads.filter { !$0.object.fingerprinted && $0.object.isHTML })]
    }

    /// What the bucket says about one of its objects: the hashes the object carries.
    public struct KnownState: Sendable, Equatable {
        public var sha256: String?
        public var headers: String?
    }

    /// Keys that need a HEAD because neither the deploy record vouches for them (its ETag and size
    /// match the listing's) nor are they absent: after a crash, or an upload by something else.
    public static func keysNeedingHead(local: [LocalObject], listing: [S3Client.ObjectSummary], record: DeployRecord?) -> [String] {
        let remote = Dictionary(listing.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        return local.compactMap { object in
            guard let summary = remote[object.key] else { return nil }
            if let entry = record?.objects[object.key], entry.etag == summary.etag, entry.size == summary.size { return nil }
            return object.key
        }
    }

    /// Decides upload / keep / delete for every key. `heads` holds the metadata read for
    /// `keysNeedingHead`; `prefix` bounds the site's keys; deploy records are not site objects.
    public static func make(local: [LocalObject], listing: [S3Client.ObjectSummary], record: DeployRecord?,
                            heads: [String: KnownState], now: Int64, graceSeconds: Int64, prefix: String) -> SyncPlan {
        let remote = Dictionary(listing.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var uploads: [Upload] = []
        var unchanged: [LocalObject] = []
        for object in local {
            guard let summary = remote[object.key] else {
                uploads.append(Upload(object: object, reason: .new))
                continue
            }
            let known: KnownState
            if let entry = record?.objects[object.key], entry.etag == summary.etag, entry.size == summary.size {
                known = KnownState(sha256: entry.sha256, headers: entry.headers)
            } else {
                known = heads[object.key] ?? KnownState()
            }
            if known.sha256 != object.sha256 || summary.size != object.size {
                uploads.append(Upload(object: object, reason: .contentChanged))
            } else if known.headers != object.headers.hash {
                uploads.append(Upload(object: object, reason: .headersChanged))
            } else {
                unchanged.append(object)
            }
        }
        let localKeys = Set(local.map(\.key))
        var deletions: [Deletion] = []
        var retained: [Retention] = []
        for summary in listing where !localKeys.contains(summary.key) && !summary.key.hasPrefix(prefix + DeployRecord.folder) {
            let path = String(summary.key.dropFirst(prefix.count))
            let fingerprinted = record?.objects[summary.key]?.fingerprinted ?? looksFingerprinted(path)
            guard fingerprinted else {
                deletions.append(Deletion(key: summary.key, size: summary.size, reason: .removed))
                continue
            }
            // When did it leave the site? Recorded earlier, or now if the last deploy still had it;
            // a stray the records never saw counts from its upload.
            let retiredAt = record?.retired[summary.key]
                ?? (record?.objects[summary.key] != nil ? now : (summary.lastModified?.secondsSince1970 ?? now))
            if now - retiredAt < graceSeconds {
                retained.append(Retention(key: summary.key, retiredAt: retiredAt))
            } else {
                deletions.append(Deletion(key: summary.key, size: summary.size, reason: .expired))
            }
        }
        let order: (Upload) -> Int = { $0.object.fingerprinted ? 0 : ($0.object.isHTML ? 2 : 1) }
        uploads.sort { (order($0), $0.object.key) < (order($1), $1.object.key) }
        deletions.sort { $0.key < $1.key }

        var paths: [String] = []
        for upload in uploads where upload.reason != .new && !upload.object.fingerprinted {
            paths += InvalidationPlan.urlPaths(forKey: upload.object.path)
        }
        for deletion in deletions where deletion.reason == .removed {
            paths += InvalidationPlan.urlPaths(forKey: String(deletion.key.dropFirst(prefix.count)))
        }
        return SyncPlan(uploads: uploads, unchanged: unchanged, deletions: deletions, retained: retained,
                        invalidationPaths: paths)
    }

    /// `name.0123abcd.ext`: the build's fingerprint form, for objects no record describes.
    static func looksFingerprinted(_ path: String) -> Bool {
        let name = path.split(separator: "/").last ?? ""
        let parts = name.split(separator: ".")
        guard parts.count >= 3 else { return false }
        let hash = parts[parts.count - 2]
        return hash.count == 8 && hash.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// The record of this deploy once the plan is carried out; `etags` are the ETags of uploads.
    public func record(id: String, now: Int64, environment: String?, generator: String,
                       listing: [S3Client.ObjectSummary], etags: [String: String]) -> DeployRecord {
        let remote = Dictionary(listing.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var objects: [String: DeployRecord.Object] = [:]
        for object in uploads.map(\.object) + unchanged {
            let etag = etags[object.key] ?? remote[object.key]?.etag ?? ""
            objects[object.key] = DeployRecord.Object(sha256: object.sha256, headers: object.headers.hash, etag: etag,
                                                      size: object.size, fingerprinted: object.fingerprinted)
        }
        return DeployRecord(id: id, time: now, environment: environment, generator: generator, objects: objects,
                            retired: Dictionary(retained.map { ($0.key, $0.retiredAt) }, uniquingKeysWith: min))
    }
}
