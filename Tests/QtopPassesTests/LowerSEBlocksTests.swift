import Foundation
import XCTest
import QtopFormat
import QtopGraph
@testable import QtopPasses

/// lower-int8's SE-block and quantized-concat steps on the DBNet int8 family sample (MobileNetV3 SE blocks, RSE
/// neck, nearest-upsampled concat before the head): with and without input shapes (the UI and bench lower the
/// unspecialized graph), no f32 reorder, float pool, channel multiply or concat is left, and every removed node's
/// Paddle ops live on in a new node's provenance.
final class LowerSEBlocksTests: XCTestCase {
    func testDBNetSEBlocksAndNeckConcatStayOnNHWC() throws {
        guard let p = Samples.path("families/dbnet_int8") else { throw XCTSkip("dbnet_int8 sample not present") }
        let g0 = try ModelLoader.load(p).graph
        for shapes in [[:], ["x": [1, 3, 64, 64]]] as [[String: [Int]]] {
            let g = PassManager.lower(g0, PassOptions(target: .int8, inputShapes: shapes))
            let count = Dictionary(g.nodes.map { ($0.type, 1) }, uniquingKeysWith: +)
            let label = shapes.isEmpty ? "unspecialized" : "at [1,3,64,64]"
            for gone in ["layout_nhwc_to_nchw", "pool2d", "elementwise_mul", "concat"] {
                XCTAssertNil(count[gone], "\(gone) left \(label)")
            }
            XCTAssertGreaterThan(count["global_avg_pool_nhwc"] ?? 0, 0, label)
            XCTAssertEqual(count["global_avg_pool_nhwc"], count["scale_channels_nhwc"], label)
            XCTAssertEqual(count["qconcat"], 1, label)
            XCTAssertEqual(count["qnearest_interp"], 3, label)
            let se = g.nodes.filter { $0.type == "scale_channels_nhwc" }
            XCTAssertTrue(se.contains { $0.attrs["residual"]?.bool == true }, "RSE shortcuts fused \(label)")
            XCTAssertTrue(se.contains { ($0.attrs["out_dtype"]?.string ?? "f32") != "f32" }, "quantize fused \(label)")
            let prov = Set(g.nodes.flatMap(\.provenance))
            for n in g0.nodes where n.type == "elementwise_mul" || n.type == "pool2d" || n.type == "concat" {
                XCTAssertTrue(prov.contains(n.name), "\(n.type) \(n.name) lost from provenance \(label)")
            }
        }
    }
}
