import AWSClient

/// The endpoints of the services `site publish` calls, from the standard variables
/// (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_CLOUDFRONT`, `AWS_ENDPOINT_URL_STS`, then
/// `AWS_ENDPOINT_URL`) or AWS's public hosts; S3 is addressed as `S3.addressing` decides.
public struct ServiceEndpoints: Sendable, Equatable {
    public var s3: Endpoint
    /// Path-style (`host/bucket/key`) rather than virtual-hosted (`bucket.host/key`).
    public var s3PathStyle: Bool
    public var cloudFront: Endpoint
    public var sts: Endpoint

    public typealias InvalidURL = Endpoint.InvalidURL

    public static func resolve(region: String, bucket: String, variables: [String: String]) throws(InvalidURL) -> ServiceEndpoints {
        let s3 = try S3.addressing(region: region, buckets: [bucket], variables: variables)
        return ServiceEndpoints(
            s3: s3.endpoint,
            s3PathStyle: s3.pathStyle,
            // CloudFront is global: one host, not a regional one.
            cloudFront: try Endpoint.custom(service: "cloudfront", variables: variables)
                ?? Endpoint(scheme: "https", host: "cloudfront.amazonaws.com"),
            sts: try Endpoint.resolve(service: "sts", region: region, variables: variables))
    }
}
