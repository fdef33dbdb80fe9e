@testable import AWSClient
@testable import Publish
import SigV4
import Testing

@Suite("A refused call names the permission it needs")
struct PermissionTests {
    @Test("S3 calls need their action on the object's ARN, listing on the bucket's, in the region's partition")
    func s3Resources() {
        #expect(S3.permission("s3:PutObject", bucket: "site", key: "en/help/index.html", region: "eu-west-1", policy: Permission.publishPolicy).description
            == "s3:PutObject on arn:aws:s3:::site/en/help/index.html")
        #expect(S3.permission("s3:ListBucket", bucket: "site", key: nil, region: "us-east-1", policy: Permission.publishPolicy).description
            == "s3:ListBucket on arn:aws:s3:::site")
        #expect(S3.permission("s3:GetObject", bucket: "site", key: "a", region: "cn-north-1", policy: Permission.publishPolicy).resource == "arn:aws-cn:s3:::site/a")
        #expect(S3.permission("s3:GetObject", bucket: "site", key: "a", region: "us-gov-west-1", policy: Permission.publishPolicy).resource == "arn:aws-us-gov:s3:::site/a")
        // The publisher's client names its policy file with each permission.
        let client = S3Client(transport: AWSTransport(http: .shared) { Credentials(accessKeyId: "AKID", secretAccessKey: "secret") },
                              bucket: "site", region: "eu-west-1", endpoint: Endpoint(scheme: "https", host: "s3.eu-west-1.amazonaws.com"),
                              pathStyle: false)
        #expect(client.s3.permission("s3:DeleteObject", bucket: "site", key: "a")?.policy == "infra/publish-policy.json")
    }

    @Test("S3's AccessDenied: the operation, AWS's message and request id, then the action, resource and policy file")
    func s3Refusal() {
        var error = AWSError.parse(
            status: 403, headers: [],
            body: Array("<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>R1</RequestId></Error>".utf8),
            operation: "PUT s3://site/index.html")
        error.permission = S3.permission("s3:PutObject", bucket: "site", key: "index.html", region: "eu-west-1", policy: Permission.publishPolicy)
        #expect(error.isAccessDenied)
        #expect("\(error)" == "PUT s3://site/index.html: AccessDenied (HTTP 403): Access Denied [request id R1]; "
            + "the credentials need s3:PutObject on arn:aws:s3:::site/index.html (see infra/publish-policy.json)")
    }

    @Test("a HEAD refused with a bare 403 still names s3:GetObject")
    func bareHead() {
        var error = AWSError.parse(status: 403, headers: [("x-amz-request-id", "R2")], body: [], operation: "HEAD s3://site/a.css")
        error.permission = S3.permission("s3:GetObject", bucket: "site", key: "a.css", region: "eu-west-1", policy: Permission.publishPolicy)
        #expect("\(error)" == "HEAD s3://site/a.css: AccessDenied (HTTP 403) [request id R2]; "
            + "the credentials need s3:GetObject on arn:aws:s3:::site/a.css (see infra/publish-policy.json)")
    }

    @Test("CloudFront's refusal, in the <Errors><Error> form moto answers, names the distribution")
    func cloudFrontRefusal() {
        let body = #"<?xml version="1.0" encoding="utf-8"?><ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudfront:CreateInvalidation</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"#
        var error = AWSError.parse(status: 403, headers: [], body: Array(body.utf8), operation: "CreateInvalidation E2QWRUHAPOMQZL (3 paths)")
        error.permission = CloudFrontClient.permission("cloudfront:CreateInvalidation", distributionId: "E2QWRUHAPOMQZL")
        #expect(error.code == "AccessDenied" && error.message.hasSuffix("not authorized to perform: cloudfront:CreateInvalidation"))
        #expect("\(error)".hasSuffix("; the credentials need cloudfront:CreateInvalidation on distribution E2QWRUHAPOMQZL (see infra/publish-policy.json)"))
        #expect(CloudFrontClient.permission("cloudfront:GetInvalidation", distributionId: "E1").description
            == "cloudfront:GetInvalidation on distribution E1")
    }

    @Test("DescribeStacks names the stack and its region; CloudFormation's refusal passes through with it")
    func cloudFormationRefusal() {
        let permission = CloudFormationClient.permission(stack: "video-prod", region: "eu-west-1")
        #expect(permission.description == "cloudformation:DescribeStacks on stack video-prod in eu-west-1")
        let denied = AWSError(status: 403, code: "AccessDenied", message: "not authorized", requestId: nil,
                              operation: "CloudFormation DescribeStacks video-prod (eu-west-1)", permission: permission)
        let passed = CloudFormationClient.failure(denied, stack: "video-prod", region: "eu-west-1")
        #expect("\(passed)".hasSuffix("not authorized; the credentials need cloudformation:DescribeStacks on stack video-prod in eu-west-1 (see infra/publish-policy.json)"))
    }

    @Test("the JSON protocols' AccessDeniedException counts as a refusal")
    func jsonRefusal() {
        var error = AWSError.parse(status: 400, headers: [],
                                   body: Array(#"{"__type":"AccessDeniedException","message":"no"}"#.utf8), operation: "X")
        error.permission = Permission("dynamodb:PutItem", on: "arn:aws:dynamodb:eu-west-1:123456789012:table/t")
        #expect(error.isAccessDenied)
        #expect("\(error)" == "X: AccessDeniedException (HTTP 400): no; the credentials need dynamodb:PutItem on arn:aws:dynamodb:eu-west-1:123456789012:table/t")
    }

    @Test("other failures name no permission, even where the call knows one")
    func otherFailures() {
        let permission = S3.permission("s3:PutObject", bucket: "site", key: "k", region: "eu-west-1", policy: Permission.publishPolicy)
        for (status, code) in [(403, "SignatureDoesNotMatch"), (403, "InvalidAccessKeyId"), (503, "SlowDown"), (404, "NoSuchBucket")] {
            let error = AWSError(status: status, code: code, message: "m", requestId: nil, operation: "PUT s3://site/k", permission: permission)
            #expect(!error.isAccessDenied)
            #expect("\(error)" == "PUT s3://site/k: \(code) (HTTP \(status)): m")
        }
    }

    @Test("a failed multipart upload that AWS refuses to abort says both, and what the abort needs")
    func refusedAbort() {
        let abort = AWSError(status: 403, code: "AccessDenied", message: "Access Denied", requestId: nil,
                             operation: "AbortMultipartUpload s3://site/big.bin",
                             permission: S3.permission("s3:AbortMultipartUpload", bucket: "site", key: "big.bin", region: "eu-west-1", policy: Permission.publishPolicy))
        let failure = UploadNotAborted(failure: FileReadError(path: "dist/big.bin", errno: 5), abort: abort)
        #expect("\(failure)".hasPrefix("cannot read dist/big.bin: "))
        #expect("\(failure)".contains("; then its parts could not be removed: AbortMultipartUpload s3://site/big.bin: AccessDenied"))
        #expect("\(failure)".hasSuffix("the credentials need s3:AbortMultipartUpload on arn:aws:s3:::site/big.bin (see infra/publish-policy.json)"))
    }
}
