@testable import AWSClient
@testable import Publish
import SigV4
import Testing

@Suite("AWS wire formats")
struct WireFormatTests {
    @Test("XML: nested elements, entities, namespaces, CDATA")
    func xml() throws {
        let text = #"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated><Contents><Key>a &amp; b&#x2F;&lt;c&gt;</Key><ETag>&quot;e&quot;</ETag></Contents><Contents><Key><![CDATA[x<y]]></Key></Contents><Empty/></ListBucketResult>"#
        let root = try XMLElement.parse(Array(text.utf8))
        #expect(root.name == "ListBucketResult")
        #expect(root.all("Contents").map { $0.value("Key") } == ["a & b/<c>", "x<y"])
        #expect(root["Contents"]?.value("ETag") == "\"e\"")
        #expect(root["Empty"]?.text == "")
        #expect(throws: XMLElement.ParseError.self) { try XMLElement.parse(Array("<a><b></a>".utf8)) }
    }

    @Test("shared config files: profiles, comments, nested blocks, credentials over config")
    func sharedConfig() {
        let config = SharedConfigFile(parsing: """
            [default]
            region = eu-west-1
            [profile ci]
            role_arn = arn:aws:iam::123456789012:role/deploy
            source_profile = default   # the keys below
            s3 =
              addressing_style = path
            [sso-session corp]
            sso_region = us-east-1
            """, isConfigFile: true)
        #expect(config.profiles["default"]?["region"] == "eu-west-1")
        #expect(config.profiles["ci"]?["source_profile"] == "default")
        #expect(config.profiles["ci"]?["addressing_style"] == nil)
        #expect(config.profiles["corp"] == nil)
        let credentials = SharedConfigFile(parsing: "[default]\naws_access_key_id=AKID\naws_secret_access_key = se+cret/=\n", isConfigFile: false)
        #expect(credentials.profiles["default"]?["aws_secret_access_key"] == "se+cret/=")
    }

    @Test("endpoints: per-service variables first, then AWS_ENDPOINT_URL; custom S3 is path-style")
    func endpoints() throws {
        let defaults = try ServiceEndpoints.resolve(region: "eu-west-1", bucket: "site", variables: [:])
        #expect(defaults.s3.description == "https://s3.eu-west-1.amazonaws.com" && !defaults.s3PathStyle)
        #expect(defaults.cloudFront.host == "cloudfront.amazonaws.com")
        #expect(try ServiceEndpoints.resolve(region: "us-east-1", bucket: "my.site", variables: [:]).s3PathStyle)
        let custom = try ServiceEndpoints.resolve(region: "us-east-1", bucket: "site", variables: [
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:6000/"])
        #expect(custom.s3.hostHeader == "127.0.0.1:5000" && custom.s3PathStyle)
        #expect(custom.sts.port == 6000 && custom.sts.basePath == "")
        #expect(throws: ServiceEndpoints.InvalidURL.self) {
            try ServiceEndpoints.resolve(region: "us-east-1", bucket: "site", variables: ["AWS_ENDPOINT_URL_S3": "s3.local"])
        }
    }

    @Test("backoff grows exponentially up to the cap, jitter below the ceiling")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 8, baseSeconds: 0.1, capSeconds: 2)
        #expect(policy.ceiling(forRetry: 1) == 0.2)
        #expect(policy.ceiling(forRetry: 3) == 0.8)
        #expect(policy.ceiling(forRetry: 10) == 2)
        #expect(policy.delay(forRetry: 3, random: 0.5) == 0.4)
    }

    @Test("deploy record ids sort in deploy order, even within one second")
    func recordIds() {
        let time = Timestamp(secondsSince1970: 1_800_000_000)
        let first = DeployRecord.makeId(at: time, after: nil)
        let record = DeployRecord(id: first, time: 0, environment: nil, generator: "", objects: [:], retired: [:])
        let second = DeployRecord.makeId(at: time, after: record)
        #expect(first < second)
        #expect(second.hasPrefix("00000002-"))
    }
}
