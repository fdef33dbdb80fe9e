import Foundation
import Testing
@testable import LocalCloud

@Suite("The pipeline's probe")
struct PipelineProbeTests {
    func size(_ json: String) throws -> String {
        let stream = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let size = Pipeline.displaySize(stream)
        return "\(size.width)x\(size.height)"
    }

    @Test("the ladder is chosen from the picture as shown: pixel aspect applied, a quarter turn swapping the sides")
    func displaySize() throws {
        #expect(try size(#"{"width": 1920, "height": 1080, "sample_aspect_ratio": "1:1"}"#) == "1920x1080")
        #expect(try size(#"{"width": 1920, "height": 1080}"#) == "1920x1080")
        // Anamorphic DV: 720x576 shown 4:3.
        #expect(try size(#"{"width": 720, "height": 576, "sample_aspect_ratio": "16:15"}"#) == "768x576")
        // A phone's portrait video: stored landscape with a display matrix of -90°, or an old rotate tag.
        #expect(try size(#"{"width": 1920, "height": 1080, "side_data_list": [{"rotation": -90}]}"#) == "1080x1920")
        #expect(try size(#"{"width": 1920, "height": 1080, "tags": {"rotate": "90"}}"#) == "1080x1920")
        #expect(try size(#"{"width": 1920, "height": 1080, "side_data_list": [{"rotation": 180}]}"#) == "1920x1080")
        #expect(try size(#"{"width": 1280, "height": 720, "sample_aspect_ratio": "0:1"}"#) == "1280x720")
    }
}
