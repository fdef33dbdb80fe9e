import AWSClient
import SigV4
import Testing
@testable import VideoFunctions

@Suite("The functions' S3 storage")
struct S3StorageTests {
    func storage(accelerateUploads: Bool) -> S3Storage {
        let credentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token")
        let transport = AWSTransport(http: .shared) { credentials }
        let endpoint = Endpoint(scheme: "https", host: "s3.eu-west-1.amazonaws.com")
        let aws = AWSServices(transport: transport, region: "eu-west-1", credentials: credentials,
                              s3: S3(transport: transport, region: "eu-west-1", endpoint: endpoint, pathStyle: false),
                              dynamoDB: endpoint, mediaConvert: endpoint, secretsManager: endpoint)
        return S3Storage(aws: aws, tempBucket: "video-temp-111122223333-eu-west-1", mainBucket: "video-main-111122223333-eu-west-1",
                         accelerateUploads: accelerateUploads)
    }

    func presignedUpload(_ storage: S3Storage, query: [(name: String, value: String)] = []) -> String {
        storage.presign(method: "PUT", bucket: storage.tempBucket, key: "uploads/sub-1/v1/clip.mp4", query: query,
                        headers: [("content-length", "1234")], expiresIn: 900)
    }

    @Test("with UPLOAD_ACCELERATION the browser's upload URLs (single PUT and parts) go to the temp bucket's s3-accelerate host")
    func acceleratedUploads() {
        let accelerated = storage(accelerateUploads: true)
        for url in [presignedUpload(accelerated), presignedUpload(accelerated, query: [("partNumber", "1"), ("uploadId", "u1")])] {
            #expect(url.hasPrefix("https://video-temp-111122223333-eu-west-1.s3-accelerate.amazonaws.com/uploads/sub-1/v1/clip.mp4?"))
            // Still S3's signature in the bucket's region.
            #expect(url.contains("X-Amz-Credential=AKIDEXAMPLE%2F") && url.contains("%2Feu-west-1%2Fs3%2Faws4_request&"))
        }
        // Only the temporary bucket is accelerated.
        #expect(accelerated.presign(method: "GET", bucket: accelerated.mainBucket, key: "videos/a", query: [], headers: [], expiresIn: 60)
            .hasPrefix("https://video-main-111122223333-eu-west-1.s3.eu-west-1.amazonaws.com/videos/a?"))
    }

    @Test("without it they go to the bucket's regional host")
    func regionalUploads() {
        #expect(presignedUpload(storage(accelerateUploads: false))
            .hasPrefix("https://video-temp-111122223333-eu-west-1.s3.eu-west-1.amazonaws.com/uploads/sub-1/v1/clip.mp4?"))
    }
}
