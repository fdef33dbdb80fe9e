/// The IAM permission an AWS call needs: the action and the resource it acts on. A request that
/// carries one names it in its error when AWS refuses the call (`AWSError.isAccessDenied`).
public struct Permission: Sendable, Equatable, CustomStringConvertible {
    /// `s3:PutObject`
    public var action: String
    /// An ARN (`arn:aws:s3:::bucket/key`), or the resource by name where its ARN holds the account,
    /// which the caller does not know (`distribution E2QWRUHAPOMQZL`).
    public var resource: String
    /// The policy in this repository that grants it.
    public var policy: String?

    public init(_ action: String, on resource: String, policy: String? = nil) {
        self.action = action
        self.resource = resource
        self.policy = policy
    }

    public var description: String { "\(action) on \(resource)" }

    /// What `site publish` (and `--stack`'s DescribeStacks) is allowed to do, as an IAM policy.
    public static let publishPolicy = "infra/publish-policy.json"

    /// The ARN partition of a region: `aws`, or `aws-cn` and `aws-us-gov` for those regions.
    public static func partition(ofRegion region: String) -> String {
        region.hasPrefix("cn-") ? "aws-cn" : region.hasPrefix("us-gov-") ? "aws-us-gov" : "aws"
    }
}
