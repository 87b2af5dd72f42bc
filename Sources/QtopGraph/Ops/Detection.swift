import QtopFormat

// Detection post-processing: multiclass_nms3, whose output size depends on the data.

public enum DetectionSpecs {
    static let specs: [any OpSpec.Type] = [MultiClassNMSSpec.self]
}

/// multiclass_nms3 (and multiclass_nms2 / multiclass_nms, same attributes) on BBoxes [N, M, 4] and Scores
/// [N, C, M], or in the LoD form on per-class boxes BBoxes [M, C, 4] and Scores [M, C] with RoisNum [N] (int32:
/// how many of the M rows each image owns, in order; Paddle needs it here, a plain tensor carries no LoD): per
/// image and class (except `background_label`), boxes scoring above `score_threshold`, the best
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
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let b = try s.shape("BBoxes"), sc = try s.shape("Scores")
        let op = s.node.type
        let images: Int
        if sc.count == 2 {
            guard b.count == 3 else { throw OpSpecError("\(op): with Scores \(sc) [M, C], BBoxes \(b) must be [M, C, 4]") }
            guard s.node.input("RoisNum") != nil else {
                throw OpSpecError("\(op): Scores \(sc) [M, C] (the LoD form) needs the RoisNum input saying which rows belong to which image")
            }
            if b[0] >= 0, sc[0] >= 0, b[0] != sc[0] { throw OpSpecError("\(op): \(b[0]) box rows for \(sc[0]) score rows") }
            if b[1] >= 0, sc[1] >= 0, b[1] != sc[1] { throw OpSpecError("\(op): boxes for \(b[1]) classes, scores for \(sc[1])") }
            let r = try s.shape("RoisNum")
            guard r.count == 1 else { throw OpSpecError("\(op): RoisNum \(r) must be 1-D") }
            images = r[0]
        } else {
            guard b.count == 3, sc.count == 3 else {
                throw OpSpecError("\(op): BBoxes \(b) and Scores \(sc) must be [N, M, 4] and [N, C, M], or [M, C, 4] and [M, C] with RoisNum")
            }
            if b[0] >= 0, sc[0] >= 0, b[0] != sc[0] { throw OpSpecError("\(op): \(b[0]) box sets for \(sc[0]) score sets") }
            if b[1] >= 0, sc[2] >= 0, b[1] != sc[2] { throw OpSpecError("\(op): \(b[1]) boxes for \(sc[2]) scores") }
            images = b[0]
        }
        guard b[2] == 4 || b[2] < 0 else { throw OpSpecError("\(op): boxes of \(b[2]) coordinates; only 4 are supported") }
        return s.output("Out", s.dtype("BBoxes"), [-1, 6]) + s.output("Index", .i32, [-1, 1])
            + s.output("NmsRoisNum", .i32, [images])
    }

    /// Out and Index have as many rows as boxes survive: the kernel allocates them.
    public var runTimeSizedOutputs: [String] { ["Out", "Index"] }
}
