import AWSClient
import Testing

@Suite("service endpoints")
struct EndpointTests {
    @Test("a service's own variable wins over AWS_ENDPOINT_URL, which wins over the public regional host")
    func order() throws {
        #expect(try Endpoint.resolve(service: "dynamodb", region: "eu-west-1", variables: [:]).description
            == "https://dynamodb.eu-west-1.amazonaws.com")
        #expect(try Endpoint.resolve(service: "mediaconvert", region: "sa-east-1", variables: [:]).description
            == "https://mediaconvert.sa-east-1.amazonaws.com")
        let variables = ["AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000/"]
        #expect(try Endpoint.resolve(service: "dynamodb", region: "eu-west-1", variables: variables).hostHeader == "127.0.0.1:8000")
        #expect(try Endpoint.resolve(service: "mediaconvert", region: "eu-west-1", variables: variables).hostHeader == "127.0.0.1:5000")
    }

    @Test("the variable's suffix is the service id upper-cased, dashes and spaces as underscores")
    func variableName() throws {
        let variables = ["AWS_ENDPOINT_URL_COGNITO_IDP": "http://localhost:9229", "AWS_ENDPOINT_URL": ""]
        #expect(try Endpoint.resolve(service: "cognito-idp", region: "us-east-1", variables: variables).port == 9229)
        #expect(try Endpoint.custom(service: "s3", variables: variables) == nil)
    }

    @Test("a value that is not an http(s) URL is an error naming the variable")
    func invalid() {
        #expect(throws: Endpoint.InvalidURL.self) {
            try Endpoint.resolve(service: "mediaconvert", region: "us-east-1", variables: ["AWS_ENDPOINT_URL_MEDIACONVERT": "mediaconvert.local"])
        }
    }
}
