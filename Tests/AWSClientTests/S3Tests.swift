import AsyncHTTPClient
@testable import AWSClient
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
}
