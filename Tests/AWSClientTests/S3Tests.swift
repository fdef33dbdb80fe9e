import AsyncHTTPClient
@testable import AWSClient
import Foundation
import SigV4
import Testing

@Suite("The S3 client both the publisher and the functions use")
struct S3Tests {
    let credentials = Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    func client(_ endpoint: Endpoint, pathStyle: Bool, policy: String? = nil) -> S3 {
        let credentials = credentials
        return S3(transport: AWSTransport(http: .shared) { credentials }, region: "eu-west-1", endpoint: endpoint,
                  pathStyle: pathStyle, policy: policy)
    }

    @Test("addressing: the regional host virtual-hosted; a custom endpoint, dotted names or the variable path-style")
    func addressing() throws {
        let regional = try S3.addressing(region: "eu-west-1", buckets: ["site", "media"], variables: [:])
        #expect(regional.endpoint.description == "https://s3.eu-west-1.amazonaws.com" && !regional.pathStyle)
        #expect(try S3.addressing(region: "eu-west-1", buckets: ["site", "my.media"], variables: [:]).pathStyle)
        #expect(try S3.addressing(region: "eu-west-1", buckets: ["site"], variables: ["AWS_S3_FORCE_PATH_STYLE": "true"]).pathStyle)
        let custom = try S3.addressing(region: "eu-west-1", buckets: ["site"], variables: ["AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5000/base"])
        #expect(custom.endpoint.hostHeader == "127.0.0.1:5000" && custom.endpoint.basePath == "/base" && custom.pathStyle)
        #expect(throws: Endpoint.InvalidURL.self) {
            try S3.addressing(region: "eu-west-1", buckets: ["site"], variables: ["AWS_ENDPOINT_URL": "s3.local"])
        }
    }

    @Test("a bucket and its objects, path-style and virtual-hosted")
    func locations() {
        let endpoint = Endpoint(scheme: "https", host: "s3.eu-west-1.amazonaws.com")
        let virtual = client(endpoint, pathStyle: false)
        #expect(virtual.location(bucket: "site", key: "a/b c.html").endpoint.host == "site.s3.eu-west-1.amazonaws.com")
        #expect(virtual.location(bucket: "site", key: "a/b c.html").path == "/a/b c.html")
        #expect(virtual.location(bucket: "site", key: nil).path == "/")
        let path = client(endpoint, pathStyle: true)
        #expect(path.location(bucket: "my.site", key: "a").endpoint == endpoint)
        #expect(path.location(bucket: "my.site", key: "a").path == "/my.site/a")
        #expect(path.location(bucket: "my.site", key: nil).path == "/my.site")
    }

    @Test("a call names its permission only for a client with a policy; bodies in bytes are signed by their hash")
    func requests() {
        let endpoint = Endpoint(scheme: "https", host: "s3.eu-west-1.amazonaws.com")
        let body: [UInt8] = Array("<Delete/>".utf8)
        let named = client(endpoint, pathStyle: false, policy: "infra/publish-policy.json")
            .request("POST", bucket: "site", key: "k", body: .bytes(body), operation: "X", action: "s3:PutObject")
        #expect(named.permission?.description == "s3:PutObject on arn:aws:s3:::site/k")
        #expect(named.payloadHash == hexSHA256(body))
        let unnamed = client(endpoint, pathStyle: false).request("DELETE", bucket: "site", key: "k", operation: "X", action: "s3:DeleteObject")
        #expect(unnamed.permission == nil && unnamed.payloadHash == Signer.emptyPayloadHash)
    }

    @Test("a 200 answer holding an <Error> is thrown as that error, with what the call needed")
    func errorInOK() throws {
        let s3 = client(Endpoint(scheme: "https", host: "s3.eu-west-1.amazonaws.com"), pathStyle: false, policy: "infra/publish-policy.json")
        let complete = s3.request("POST", bucket: "site", key: "big.bin", operation: "CompleteMultipartUpload s3://site/big.bin", action: "s3:PutObject")
        let failed = AWSResponse(status: 200, headers: [], body: Array(
            "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message><RequestId>R1</RequestId></Error>".utf8))
        #expect { try s3.document(failed, of: complete) } throws: {
            guard let error = $0 as? AWSError else { return false }
            return error.status == 200 && error.code == "InternalError" && error.message == "We encountered an internal error."
                && error.requestId == "R1" && error.operation == "CompleteMultipartUpload s3://site/big.bin"
                && error.permission?.description == "s3:PutObject on arn:aws:s3:::site/big.bin"
        }
        let completed = AWSResponse(status: 200, headers: [], body: Array(
            "<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag></CompleteMultipartUploadResult>".utf8))
        #expect(try s3.document(completed, of: complete).value("ETag") == "\"e-2\"")
    }

    @Test("a presigned URL points where requests go: the bucket's host, or the endpoint's base path and the bucket")
    func presigned() {
        let time = Timestamp(amzDate: "20130524T000000Z")!
        let virtual = client(Endpoint(scheme: "https", host: "s3.amazonaws.com"), pathStyle: false)
        #expect(virtual.presignedURL(method: "GET", bucket: "examplebucket", key: "test.txt", expiresIn: 86_400,
                                     credentials: credentials, at: time).hasPrefix("https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm="))
        let custom = client(Endpoint(scheme: "http", host: "127.0.0.1", port: 5000, basePath: "/s3"), pathStyle: true)
        let url = custom.presignedURL(method: "PUT", bucket: "temp", key: "uploads/a b", query: [.init("partNumber", "1")],
                                      headers: [.init("Content-Type", "video/mp4")], expiresIn: 60, credentials: credentials, at: time)
        #expect(url.hasPrefix("http://127.0.0.1:5000/s3/temp/uploads/a%20b?partNumber=1&X-Amz-Algorithm="))
        #expect(url.contains("X-Amz-SignedHeaders=content-type%3Bhost&"))
    }

    @Test("Transfer Acceleration: the bucket's s3-accelerate host, signed as s3 in its region, exactly as botocore presigns it")
    func accelerated() throws {
        // A function's role credentials carry a session token, signed into the URL.
        let session = Credentials(accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey,
                                  sessionToken: "FwoGZXIvYXdzE+token/=")
        let regional = client(Endpoint(scheme: "https", host: "s3.eu-west-1.amazonaws.com"), pathStyle: false)
        let accelerated = regional.accelerated
        #expect(accelerated.location(bucket: "video-temp-111122223333-eu-west-1", key: "k").endpoint.host
                == "video-temp-111122223333-eu-west-1.s3-accelerate.amazonaws.com")
        #expect(accelerated.region == "eu-west-1")
        // A single PUT and a multipart part, as the video function presigns them for the browser.
        let bucket = "video-temp-111122223333-eu-west-1", key = "uploads/sub-1/v1/holiday clip (1).mp4"
        let checksum = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        let botocore = try Self.botocoreAcceleratedURLs(credentials: session, region: "eu-west-1", bucket: bucket, key: key, checksum: checksum)
        let put = try #require(botocore["put"]), part = try #require(botocore["part"])
        #expect(put.hasPrefix("https://\(bucket).s3-accelerate.amazonaws.com/uploads/sub-1/v1/holiday%20clip%20%281%29.mp4?"))
        #expect(try accelerated.presignedURL(method: "PUT", bucket: bucket, key: key, headers: [
            .init("content-type", "video/mp4"), .init("content-length", "1234"), .init("x-amz-checksum-sha256", checksum)],
            expiresIn: 900, credentials: session, at: Self.amzDate(of: put)) == put)
        #expect(try accelerated.presignedURL(method: "PUT", bucket: bucket, key: key, query: [.init("partNumber", "3"), .init("uploadId", "up~1")],
            headers: [.init("content-length", "5242880"), .init("x-amz-checksum-sha256", checksum)],
            expiresIn: 900, credentials: session, at: Self.amzDate(of: part)) == part)
    }

    /// The time a presigned URL was signed at (its `X-Amz-Date`).
    static func amzDate(of url: String) throws -> Timestamp {
        let value = url.components(separatedBy: "X-Amz-Date=").last.map { String($0.prefix(16)) }
        return try #require(value.flatMap(Timestamp.init(amzDate:)))
    }

    /// botocore's presigned PutObject and UploadPart URLs with `use_accelerate_endpoint`, from the
    /// project's virtualenv (scripts/install-deps test fills it; python3 on PATH otherwise).
    static func botocoreAcceleratedURLs(credentials: Credentials, region: String, bucket: String, key: String,
                                        checksum: String) throws -> [String: String] {
        let script = """
            import json, sys
            import boto3
            from botocore.config import Config
            access, secret, token, region, bucket, key, checksum = sys.argv[1:]
            session = boto3.session.Session(aws_access_key_id=access, aws_secret_access_key=secret,
                                            aws_session_token=token, region_name=region)
            s3 = session.client("s3", config=Config(signature_version="s3v4", s3={"use_accelerate_endpoint": True}))
            put = s3.generate_presigned_url("put_object", ExpiresIn=900, Params={
                "Bucket": bucket, "Key": key, "ContentType": "video/mp4", "ContentLength": 1234, "ChecksumSHA256": checksum})
            part = s3.generate_presigned_url("upload_part", ExpiresIn=900, Params={
                "Bucket": bucket, "Key": key, "PartNumber": 3, "UploadId": "up~1", "ContentLength": 5242880,
                "ChecksumSHA256": checksum})
            json.dump({"put": put, "part": part}, sys.stdout)
            """
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venvPython = repository.appendingPathComponent(".venv/bin/python").path
        let process = Process()
        let arguments = ["-c", script, credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken ?? "",
                         region, bucket, key, checksum]
        if FileManager.default.isExecutableFile(atPath: venvPython) {
            process.executableURL = URL(fileURLWithPath: venvPython)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3"] + arguments
        }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "botocore could not presign (is boto3 installed? scripts/install-deps test fills .venv/)")
        return try JSONDecoder().decode([String: String].self, from: data)
    }
}
