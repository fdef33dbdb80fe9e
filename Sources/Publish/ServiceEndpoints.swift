import AWSClient

/// The endpoints of the services `site publish` calls, from the standard variables
/// (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_CLOUDFRONT`, `AWS_ENDPOINT_URL_STS`, then
/// `AWS_ENDPOINT_URL`) or AWS's public hosts. A custom S3 endpoint is addressed path-style.
public struct ServiceEndpoints: Sendable, Equatable {
    public var s3: Endpoint
    /// Path-style (`host/bucket/key`) rather than virtual-hosted (`bucket.host/key`).
    public var s3PathStyle: Bool
    public var cloudFront: Endpoint
    public var sts: Endpoint

    public typealias InvalidURL = Endpoint.InvalidURL

    public static func resolve(region: String, bucket: String, variables: [String: String]) throws(InvalidURL) -> ServiceEndpoints {
        let customS3 = try Endpoint.custom(service: "s3", variables: variables)
        // Virtual-hosted addressing needs a bucket name that is a valid DNS label under TLS: no dots.
        let pathStyle = customS3 != nil || bucket.contains(".") || variables["AWS_S3_FORCE_PATH_STYLE"] == "true"
        return ServiceEndpoints(
            s3: customS3 ?? Endpoint(scheme: "https", host: "s3.\(region).amazonaws.com"),
            s3PathStyle: pathStyle,
            // CloudFront is global: one host, not a regional one.
            cloudFront: try Endpoint.custom(service: "cloudfront", variables: variables)
                ?? Endpoint(scheme: "https", host: "cloudfront.amazonaws.com"),
            sts: try Endpoint.resolve(service: "sts", region: region, variables: variables))
    }
}
