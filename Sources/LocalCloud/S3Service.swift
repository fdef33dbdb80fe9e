import Foundation
import VideoService
import HTTPServing
import Hummingbird
import NIOCore
import SigV4

/// The S3 REST API over the object store: path-style buckets, SigV4 header and presigned
/// authorisation, S3's XML answers and errors.
struct S3Service: Sendable {
    let store: ObjectStore
    let credentials: Credentials
    let region: String
    let verifier: Verifier

    init(store: ObjectStore, credentials: Credentials, region: String) {
        self.store = store
        self.credentials = credentials
        self.region = region
        verifier = Verifier(region: region, service: "s3")
    }

    struct Failure: Error {
        var status: Int
        var code: String
        var message: String
        var headers: [(String, String)] = []
    }

    func handle(_ request: Request, signable: SignableRequest) async -> Response {
        let resource = signable.path
        do {
            do {
                _ = try verifier.verify(signable, now: Timestamp.now) {
                    $0 == credentials.accessKeyId ? credentials : nil
                }
            } catch {
                // S3 answers an expired presigned URL with AccessDenied.
                let code = error.code == .expired ? "AccessDenied" : error.code.rawValue
                throw Failure(status: 403, code: code, message: error.message)
            }
            return try await route(request, signable)
        } catch {
            return Self.error(for: error, resource: resource)
        }
    }

    /// S3's XML error for whatever an operation threw.
    static func error(for error: any Error, resource: String) -> Response {
        switch error {
        case let failure as Failure: self.error(failure, resource: resource)
        case let refusal as StoreError: self.error(Failure(status: refusal.status, code: refusal.code, message: refusal.message), resource: resource)
        default: self.error(Failure(status: 500, code: "InternalError", message: "We encountered an internal error. Please try again."), resource: resource)
        }
    }

    static func error(_ failure: Failure, resource: String) -> Response {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>\(xmlEscape(failure.code))</Code><Message>\(xmlEscape(failure.message))</Message><Resource>\(xmlEscape(resource))</Resource><RequestId>\(ObjectStore.randomToken(bytes: 8))</RequestId></Error>
            """
        return Reply.text(failure.status, body, type: "application/xml", headers: failure.headers)
    }

    private func route(_ request: Request, _ signable: SignableRequest) async throws -> Response {
        let path = signable.path
        let trimmed = path.dropFirst()
        let slash = trimmed.firstIndex(of: "/")
        let bucket = String(slash.map { trimmed[..<$0] } ?? trimmed)
        let key = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? ""
        let method = signable.method
        if bucket.isEmpty {
            guard method == "GET" else { throw Failure(status: 405, code: "MethodNotAllowed", message: "The specified method is not allowed against this resource.") }
            return listBuckets()
        }
        guard store.buckets.contains(bucket) else {
            throw Failure(status: 404, code: "NoSuchBucket", message: "The specified bucket does not exist.")
        }
        if key.isEmpty {
            switch method {
            case "HEAD": return Reply.empty(200, headers: [("x-amz-bucket-region", region)])
            case "GET" where signable.queryValue("location") != nil:
                return Reply.text(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>", type: "application/xml")
            case "GET": return try await listObjects(bucket: bucket, signable)
            default: throw Failure(status: 501, code: "NotImplemented", message: "The local cloud does not implement this bucket operation.")
            }
        }
        guard key.utf8.count <= ObjectStore.maximumKeyBytes else {
            throw Failure(status: 400, code: "KeyTooLongError", message: "Your key is too long.")
        }
        let uploadId = signable.queryValue("uploadId")
        switch method {
        case "PUT":
            if signable.header("x-amz-copy-source") != nil {
                throw Failure(status: 501, code: "NotImplemented", message: "The local cloud does not implement CopyObject.")
            }
            if let uploadId { return try await uploadPart(request, signable, bucket: bucket, key: key, uploadId: uploadId) }
            return try await putObject(request, signable, bucket: bucket, key: key)
        case "GET":
            if let uploadId { return try await listParts(bucket: bucket, key: key, uploadId: uploadId, signable) }
            return try await getObject(signable, bucket: bucket, key: key, head: false)
        case "HEAD":
            return try await getObject(signable, bucket: bucket, key: key, head: true)
        case "DELETE":
            if let uploadId {
                try await store.abort(uploadId: uploadId, bucket: bucket, key: key)
            } else {
                try await store.delete(bucket: bucket, key: key)
            }
            return Reply.empty(204)
        case "POST":
            if signable.query.contains(where: { $0.name == "uploads" }) {
                return try await createUpload(signable, bucket: bucket, key: key)
            }
            if let uploadId { return try await completeUpload(request, bucket: bucket, key: key, uploadId: uploadId) }
            throw Failure(status: 501, code: "NotImplemented", message: "The local cloud does not implement this POST operation.")
        default:
            throw Failure(status: 405, code: "MethodNotAllowed", message: "The specified method is not allowed against this resource.")
        }
    }

    // MARK: Operations

    private func listBuckets() -> Response {
        let entries = store.buckets.sorted().map {
            "<Bucket><Name>\($0)</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>"
        }.joined()
        return xml("ListAllMyBucketsResult", "<Owner><ID>local</ID><DisplayName>local</DisplayName></Owner><Buckets>\(entries)</Buckets>")
    }

    private func listObjects(bucket: String, _ signable: SignableRequest) async throws -> Response {
        let prefix = signable.queryValue("prefix") ?? ""
        let delimiter = signable.queryValue("delimiter").flatMap { $0.isEmpty ? nil : $0 }
        let maxKeys = min(1000, max(0, Int(signable.queryValue("max-keys") ?? "1000") ?? 1000))
        let encode = signable.queryValue("encoding-type") == "url"
        let v2 = signable.queryValue("list-type") == "2"
        var after: String?
        if let token = signable.queryValue("continuation-token") {
            guard let data = Data(base64Encoded: token), let key = String(data: data, encoding: .utf8) else {
                throw Failure(status: 400, code: "InvalidArgument", message: "The continuation token provided is incorrect.")
            }
            after = key
        } else {
            after = signable.queryValue(v2 ? "start-after" : "marker")
        }
        let listing = try await store.list(bucket: bucket, prefix: prefix, delimiter: delimiter, after: after, maxKeys: maxKeys)
        func text(_ value: String) -> String { xmlEscape(encode ? uriEncode(value, keepSlash: true) : value) }
        var body = "<Name>\(bucket)</Name><Prefix>\(text(prefix))</Prefix><MaxKeys>\(maxKeys)</MaxKeys>"
        if let delimiter { body += "<Delimiter>\(text(delimiter))</Delimiter>" }
        if encode { body += "<EncodingType>url</EncodingType>" }
        body += "<IsTruncated>\(listing.truncated)</IsTruncated>"
        if v2 {
            body += "<KeyCount>\(listing.objects.count + listing.commonPrefixes.count)</KeyCount>"
            if let token = signable.queryValue("continuation-token") { body += "<ContinuationToken>\(xmlEscape(token))</ContinuationToken>" }
            if let start = signable.queryValue("start-after") { body += "<StartAfter>\(text(start))</StartAfter>" }
            if listing.truncated, let last = listing.last {
                body += "<NextContinuationToken>\(Data(last.utf8).base64EncodedString())</NextContinuationToken>"
            }
        } else {
            body += "<Marker>\(text(signable.queryValue("marker") ?? ""))</Marker>"
            if listing.truncated, let last = listing.last { body += "<NextMarker>\(text(last))</NextMarker>" }
        }
        for object in listing.objects {
            body += "<Contents><Key>\(text(object.key))</Key><LastModified>\(HTTPDate.iso8601(object.lastModified))</LastModified>"
            body += "<ETag>&quot;\(object.etag)&quot;</ETag><Size>\(object.size)</Size><StorageClass>STANDARD</StorageClass></Contents>"
        }
        for prefix in listing.commonPrefixes {
            body += "<CommonPrefixes><Prefix>\(text(prefix))</Prefix></CommonPrefixes>"
        }
        return xml("ListBucketResult", body)
    }

    private func putObject(_ request: Request, _ signable: SignableRequest, bucket: String, key: String) async throws -> Response {
        let checksum = try declaredChecksum(signable)
        let object = try await store.put(bucket: bucket, key: key, contentType: contentType(signable), metadata: userMetadata(signable),
                                         body: try body(request, signable), expectedLength: try contentLength(signable),
                                         expectedSHA256: payloadHash(signable), expectedMD5: signable.header("content-md5"),
                                         checksumSHA256: checksum.sha256)
        var headers = [("ETag", "\"\(object.etag)\"")]
        if let value = object.checksumSHA256, let type = object.checksumType {
            headers += [("x-amz-checksum-sha256", value), ("x-amz-checksum-type", type)]
        }
        return Reply.empty(200, headers: headers)
    }

    private func createUpload(_ signable: SignableRequest, bucket: String, key: String) async throws -> Response {
        var algorithm: ChecksumAlgorithm?
        if let name = signable.header("x-amz-checksum-algorithm") {
            guard let known = ChecksumAlgorithm(rawValue: name.uppercased()) else {
                throw Failure(status: 400, code: "InvalidRequest",
                              message: "The local cloud supports the SHA256 checksum algorithm only; x-amz-checksum-algorithm was \(name).")
            }
            algorithm = known
        }
        switch (signable.header("x-amz-checksum-type")?.uppercased(), algorithm) {
        case (nil, _), ("COMPOSITE"?, _?): break
        case (_, nil):
            throw Failure(status: 400, code: "InvalidRequest", message: "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
        case (let type?, _):
            throw Failure(status: 400, code: "InvalidRequest", message: "The \(type) checksum type cannot be used with the SHA256 checksum algorithm; use COMPOSITE.")
        }
        let uploadId = try await store.createUpload(bucket: bucket, key: key, contentType: contentType(signable),
                                                    metadata: userMetadata(signable), checksumAlgorithm: algorithm)
        let headers = algorithm.map { [("x-amz-checksum-algorithm", $0.rawValue), ("x-amz-checksum-type", "COMPOSITE")] } ?? []
        return xml("InitiateMultipartUploadResult", "<Bucket>\(xmlEscape(bucket))</Bucket><Key>\(xmlEscape(key))</Key><UploadId>\(uploadId)</UploadId>",
                   headers: headers)
    }

    private func uploadPart(_ request: Request, _ signable: SignableRequest, bucket: String, key: String, uploadId: String) async throws -> Response {
        guard let number = Int(signable.queryValue("partNumber") ?? ""), (1...10_000).contains(number) else {
            throw Failure(status: 400, code: "InvalidArgument", message: "Part number must be an integer between 1 and 10000, inclusive.")
        }
        let checksum = try declaredChecksum(signable)
        let part = try await store.putPart(uploadId: uploadId, bucket: bucket, key: key, partNumber: number,
                                           body: try body(request, signable), expectedLength: try contentLength(signable),
                                           expectedSHA256: payloadHash(signable), expectedMD5: signable.header("content-md5"),
                                           checksumSHA256: checksum.sha256, otherChecksum: checksum.otherAlgorithm)
        var headers = [("ETag", "\"\(part.etag)\"")]
        if let value = part.checksumSHA256 { headers.append(("x-amz-checksum-sha256", value.description)) }
        return Reply.empty(200, headers: headers)
    }

    private func listParts(bucket: String, key: String, uploadId: String, _ signable: SignableRequest) async throws -> Response {
        let upload = try await store.upload(uploadId, bucket: bucket, key: key)
        let marker = Int(signable.queryValue("part-number-marker") ?? "0") ?? 0
        let maxParts = min(1000, max(1, Int(signable.queryValue("max-parts") ?? "1000") ?? 1000))
        let all = try await store.parts(uploadId: uploadId).map(\.0).filter { $0.partNumber > marker }
        let page = all.prefix(maxParts)
        var body = "<Bucket>\(xmlEscape(bucket))</Bucket><Key>\(xmlEscape(key))</Key><UploadId>\(xmlEscape(uploadId))</UploadId>"
        body += "<PartNumberMarker>\(marker)</PartNumberMarker><MaxParts>\(maxParts)</MaxParts><IsTruncated>\(all.count > maxParts)</IsTruncated>"
        if all.count > maxParts, let last = page.last { body += "<NextPartNumberMarker>\(last.partNumber)</NextPartNumberMarker>" }
        body += "<StorageClass>STANDARD</StorageClass>"
        if let algorithm = upload.checksumAlgorithm {
            body += "<ChecksumAlgorithm>\(algorithm.rawValue)</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType>"
        }
        for part in page {
            body += "<Part><PartNumber>\(part.partNumber)</PartNumber><LastModified>\(HTTPDate.iso8601(part.lastModified))</LastModified>"
            body += "<ETag>&quot;\(part.etag)&quot;</ETag><Size>\(part.size)</Size>"
            if let checksum = part.checksumSHA256 { body += "<ChecksumSHA256>\(checksum)</ChecksumSHA256>" }
            body += "</Part>"
        }
        return xml("ListPartsResult", body)
    }

    private func completeUpload(_ request: Request, bucket: String, key: String, uploadId: String) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 4 << 20)
        let document: XMLElement
        do {
            document = try XMLElement.parse(Array(buffer.readableBytesView))
        } catch {
            throw Failure(status: 400, code: "MalformedXML", message: "The XML you provided was not well-formed or did not validate against our published schema.")
        }
        var parts: [ObjectStore.CompletedPart] = []
        for part in document.all("Part") {
            guard let number = part.value("PartNumber").flatMap({ Int($0) }), let etag = part.value("ETag") else {
                throw Failure(status: 400, code: "MalformedXML", message: "Each Part needs a PartNumber and an ETag.")
            }
            parts.append(.init(number: number, etag: etag, checksumSHA256: part.value("ChecksumSHA256")))
        }
        let object = try await store.complete(uploadId: uploadId, bucket: bucket, key: key, parts: parts)
        var body = "<Location>/\(xmlEscape(bucket))/\(xmlEscape(key))</Location><Bucket>\(xmlEscape(bucket))</Bucket><Key>\(xmlEscape(key))</Key>"
        body += "<ETag>&quot;\(object.etag)&quot;</ETag>"
        if let checksum = object.checksumSHA256, let type = object.checksumType {
            body += "<ChecksumSHA256>\(checksum)</ChecksumSHA256><ChecksumType>\(type)</ChecksumType>"
        }
        return xml("CompleteMultipartUploadResult", body)
    }

    func getObject(_ signable: SignableRequest, bucket: String, key: String, head: Bool) async throws -> Response {
        guard let object = try await store.object(bucket: bucket, key: key) else {
            if head { throw Failure(status: 404, code: "NotFound", message: "Not Found") }
            throw Failure(status: 404, code: "NoSuchKey", message: "The specified key does not exist.")
        }
        let etag = "\"\(object.etag)\""
        var headers: [(String, String)] = [
            ("ETag", etag), ("Last-Modified", HTTPDate.rfc1123(object.lastModified)), ("Accept-Ranges", "bytes"),
            ("Content-Type", signable.queryValue("response-content-type") ?? object.contentType),
        ]
        for (name, value) in object.metadata.sorted(by: { $0.key < $1.key }) { headers.append(("x-amz-meta-\(name)", value)) }
        for (parameter, header) in [("response-content-disposition", "Content-Disposition"), ("response-cache-control", "Cache-Control"),
                                    ("response-content-language", "Content-Language"), ("response-expires", "Expires"),
                                    ("response-content-encoding", "Content-Encoding")] {
            if let value = signable.queryValue(parameter) { headers.append((header, value)) }
        }
        if let match = signable.header("if-match"), !etagListMatches(match, etag, acceptingUnquoted: true) {
            throw Failure(status: 412, code: "PreconditionFailed", message: "At least one of the pre-conditions you specified did not hold")
        }
        if let noneMatch = signable.header("if-none-match"), etagListMatches(noneMatch, etag, acceptingUnquoted: true) {
            return Reply.empty(304, headers: headers.filter { $0.0 != "Content-Type" })
        }
        var start: Int64 = 0
        var length = object.size
        var status = 200
        if let range = signable.header("range") {
            switch ByteRange.parse(range, size: object.size) {
            case .whole: break
            case .unsatisfiable:
                throw Failure(status: 416, code: "InvalidRange", message: "The requested range is not satisfiable",
                              headers: [("Content-Range", "bytes */\(object.size)")])
            case .range(let first, let last):
                start = first
                length = last - first + 1
                status = 206
                headers.append(("Content-Range", "bytes \(first)-\(last)/\(object.size)"))
            }
        }
        // The checksum is of the whole object, so S3 leaves it out of a ranged answer.
        if signable.header("x-amz-checksum-mode")?.uppercased() == "ENABLED", status == 200,
           let checksum = object.checksumSHA256, let type = object.checksumType {
            headers += [("x-amz-checksum-sha256", checksum), ("x-amz-checksum-type", type)]
        }
        if head {
            var reply = Reply.empty(status, headers: headers)
            reply.headers[.contentLength] = String(length)
            return reply
        }
        do {
            return try Reply.file(status, path: store.path(object.file), offset: start, length: length, headers: headers)
        } catch {
            // Deleted between the lookup and the open.
            throw Failure(status: 404, code: "NoSuchKey", message: "The specified key does not exist.")
        }
    }

    // MARK: Request pieces

    private func contentType(_ signable: SignableRequest) -> String {
        signable.header("content-type") ?? "binary/octet-stream"
    }

    private func userMetadata(_ signable: SignableRequest) -> [String: String] {
        var metadata: [String: String] = [:]
        for header in signable.headers where header.name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(header.name.lowercased().dropFirst("x-amz-meta-".count))] = header.value
        }
        return metadata
    }

    private func contentLength(_ signable: SignableRequest) throws -> Int64? {
        guard let text = signable.header("content-length") else {
            if signable.header("transfer-encoding") != nil { return nil }
            throw Failure(status: 411, code: "MissingContentLength", message: "You must provide the Content-Length HTTP header.")
        }
        guard let length = Int64(text), length >= 0 else {
            throw Failure(status: 400, code: "InvalidArgument", message: "Content-Length is not a number.")
        }
        guard length <= 5 * 1024 * 1024 * 1024 else {
            throw Failure(status: 400, code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed size.")
        }
        return length
    }

    /// The `x-amz-checksum-*` header a PutObject or UploadPart carried: SHA-256's value (checked and
    /// kept), or the name of another algorithm (not checked; boto3 sends CRC32 unasked).
    private func declaredChecksum(_ signable: SignableRequest) throws -> (sha256: ChecksumSHA256?, otherAlgorithm: String?) {
        let notValues: Set<String> = ["algorithm", "type", "mode"]
        let names = signable.headers.map { $0.name.lowercased() }.filter { $0.hasPrefix("x-amz-checksum-") }
            .map { String($0.dropFirst("x-amz-checksum-".count)) }.filter { !notValues.contains($0) }
        guard Set(names).count <= 1 else {
            throw Failure(status: 400, code: "InvalidRequest", message: "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        }
        guard let text = signable.header("x-amz-checksum-sha256") else { return (nil, names.first) }
        guard let value = ChecksumSHA256(base64: text) else {
            throw Failure(status: 400, code: "InvalidRequest", message: "Value for x-amz-checksum-sha256 header is invalid.")
        }
        return (value, nil)
    }

    /// The body's SHA-256 the client signed, when it signed one (not UNSIGNED-PAYLOAD).
    private func payloadHash(_ signable: SignableRequest) -> String? {
        guard let value = signable.header("x-amz-content-sha256"), value.count == 64,
              value.allSatisfy(\.isHexDigit) else { return nil }
        return value
    }

    private func body(_ request: Request, _ signable: SignableRequest) throws -> RequestBody {
        if let value = signable.header("x-amz-content-sha256"), value.hasPrefix("STREAMING-") {
            throw Failure(status: 501, code: "NotImplemented", message: "The local cloud does not accept aws-chunked uploads; send the body as is.")
        }
        return request.body
    }

    private func xml(_ root: String, _ inner: String, headers: [(String, String)] = []) -> Response {
        Reply.text(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(root) xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\(inner)</\(root)>",
                   type: "application/xml", headers: headers)
    }
}
