import QtopFormat

// Detection post-processing: multiclass_nms3, whose output size depends on the data.

public enum DetectionSpecs {
    static let specs: [any OpSpec.Type] = [MultiClassNMSSpec.self]
}

/// multiclass_nms3 (and multiclass_nms2 / multiclass_nms, same attributes) on BBoxes [N, M, 4] and Scores
/// [N, C, M]: per image and class (except `background_label`), boxes scoring above `score_threshold`, the best
/// `nms_top_k`, greedy NMS at `nms_threshold` (adapted by `nms_eta`); per image the best `keep_top_k` over all
/// classes. Out [K, 6] (label, score, x1, y1, x2, y2), Index [K, 1], NmsRoisNum [N]: K is known only at run
/// time, so the kernel sizes those outputs itself (`runTimeSizedOutputs`).
public struct MultiClassNMSSpec: OpSpec {
    public static let opTypes = ["multiclass_nms3", "multiclass_nms2", "multiclass_nms"]
    public let scoreThreshold: Float
    public let nmsTopK: Int
    public let keepTopK: Int
    public let nmsThreshold: Float
    public let normalized: Bool
    public let nmsEta: Float
    public let backgroundLabel: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        scoreThreshold = try a.float("score_threshold", default: 0)
        nmsTopK = try a.int("nms_top_k", default: -1)
        keepTopK = try a.int("keep_top_k", default: -1)
        nmsThreshold = try a.float("nms_threshold", default: 0.3)
        normalized = try a.bool("normalized", default: true)
        nmsEta = try a.float("nms_eta", default: 1)
        backgroundLabel = try a.int("background_label", default: 0)
        guard nmsEta > 0, nmsEta <= 1 else { throw a.fail("nms_eta", "must be in (0, 1], got \(nmsEta)") }
        guard !nmsThreshold.isNaN, !scoreThreshold.isNaN else { throw a.fail("nms_threshold", "is NaN") }
        if !node.inputs("RoisNum").isEmpty { throw a.fail("RoisNum", "input (the LoD box form) is not supported; BBoxes [N, M, 4] with Scores [N, C, M] is") }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let b = try s.shape("BBoxes"), sc = try s.shape("Scores")
        guard b.count == 3, sc.count == 3 else {
            throw OpSpecError("\(s.node.type): BBoxes \(b) and Scores \(sc) must be [N, M, 4] and [N, C, M] (the LoD form is not supported)")
        }
        guard b[2] == 4 || b[2] < 0 else { throw OpSpecError("\(s.node.type): boxes of \(b[2]) coordinates; only 4 are supported") }
        if b[0] >= 0, sc[0] >= 0, b[0] != sc[0] { throw OpSpecError("\(s.node.type): \(b[0]) box sets for \(sc[0]) score sets") }
        if b[1] >= 0, sc[2] >= 0, b[1] != sc[2] { throw OpSpecError("\(s.node.type): \(b[1]) boxes for \(sc[2]) scores") }
        return s.output("Out", s.dtype("BBoxes"), [-1, 6]) + s.output("Index", .i32, [-1, 1])
            + s.output("NmsRoisNum", .i32, [b[0]])
    }

    /// Out and Index have as many rows as boxes survive: the kernel allocates them.
    public var runTimeSizedOutputs: [String] { ["Out", "Index"] }
}
