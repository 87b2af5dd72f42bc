import Foundation
import QtopFormat
import QtopGraph

// multiclass_nms3 with Paddle's CPU semantics (phi's multiclass_nms3 kernel), in its operation order:
// per class, candidates scoring strictly above score_threshold, stable-sorted by descending score (ties keep box
// order) and cut to nms_top_k; greedy NMS keeps a box when its IoU with every kept box is ≤ the adaptive threshold
// (×nms_eta after each keep while it is > 0.5); over all classes, when more than keep_top_k survive, a stable sort
// of (score, class order, keep order) keeps the best keep_top_k. Rows come out by ascending label, each class in
// its (kept) order. Out and Index are sized by the kernel (`KernelIO.allocate`).

/// Paddle's BBoxArea: 0 for an inverted box; (w + 1)(h + 1) in pixel (not normalized) coordinates.
@inline(__always) func nmsBoxArea(_ b: UnsafePointer<Float>, normalized: Bool) -> Float {
    if b[2] < b[0] || b[3] < b[1] { return 0 }
    let w = b[2] - b[0], h = b[3] - b[1]
    return normalized ? w * h : (w + 1) * (h + 1)
}

/// Paddle's JaccardOverlap of a candidate `a` with a kept box `b`.
@inline(__always) func nmsIoU(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, normalized: Bool) -> Float {
    if b[0] > a[2] || b[2] < a[0] || b[1] > a[3] || b[3] < a[1] { return 0 }
    let norm: Float = normalized ? 0 : 1
    let iw = Swift.min(a[2], b[2]) - Swift.max(a[0], b[0]) + norm
    let ih = Swift.min(a[3], b[3]) - Swift.max(a[1], b[1]) + norm
    let inter = iw * ih
    let a1 = nmsBoxArea(a, normalized: normalized), a2 = nmsBoxArea(b, normalized: normalized)
    return inter / (a1 + a2 - inter)
}

/// One image: the kept (label, box index) pairs in output order. `boxes` is [M, 4], `scores` [C, M].
func multiclassNMS(boxes: UnsafePointer<Float>, scores: UnsafePointer<Float>, m: Int, classes: Int,
                   _ spec: MultiClassNMSSpec) -> [(label: Int, index: Int)] {
    var perClass: [[Int]] = Array(repeating: [], count: classes)
    for c in 0..<classes where c != spec.backgroundLabel {
        let s = scores + c * m
        var cands: [(Float, Int)] = []
        for i in 0..<m where s[i] > spec.scoreThreshold { cands.append((s[i], i)) }
        cands = stableSortDescending(cands)
        if spec.nmsTopK > -1 && spec.nmsTopK < cands.count { cands.removeLast(cands.count - spec.nmsTopK) }
        var kept: [Int] = []
        var threshold = spec.nmsThreshold
        for (_, idx) in cands {
            var keep = true
            for k in kept {
                keep = nmsIoU(boxes + idx * 4, boxes + k * 4, normalized: spec.normalized) <= threshold
                if !keep { break }
            }
            if keep {
                kept.append(idx)
                if spec.nmsEta < 1 && threshold > 0.5 { threshold *= spec.nmsEta }
            }
        }
        perClass[c] = kept
    }
    let total = perClass.reduce(0) { $0 + $1.count }
    if spec.keepTopK > -1 && total > spec.keepTopK {
        var pairs: [(Float, (Int, Int))] = []
        for (c, kept) in perClass.enumerated() { for i in kept { pairs.append((scores[c * m + i], (c, i))) } }
        pairs = stableSortDescending(pairs)
        pairs.removeLast(pairs.count - spec.keepTopK)
        perClass = Array(repeating: [], count: classes)
        for (_, (c, i)) in pairs { perClass[c].append(i) }
    }
    return perClass.enumerated().flatMap { c, kept in kept.map { (label: c, index: $0) } }
}

/// std::stable_sort by descending score: equal scores keep their order.
func stableSortDescending<T>(_ a: [(Float, T)]) -> [(Float, T)] {
    a.enumerated().sorted { x, y in x.element.0 != y.element.0 ? x.element.0 > y.element.0 : x.offset < y.offset }.map(\.element)
}

func registerReferenceDetectionKernels(_ r: KernelRegistry) {
    for op in MultiClassNMSSpec.opTypes {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(MultiClassNMSSpec.self)
            return refReady { io in
                let b = try io.input("BBoxes"), s = try io.input("Scores")
                try requireF32(b, "\(op) BBoxes")
                try requireF32(s, "\(op) Scores")
                guard b.rank == 3, s.rank == 3, b.shape[2] == 4, b.shape[0] == s.shape[0], b.shape[1] == s.shape[2] else {
                    throw KernelError("\(op): BBoxes \(b.shape) and Scores \(s.shape) must be [N, M, 4] and [N, C, M]")
                }
                let n = b.shape[0], m = b.shape[1], classes = s.shape[1]
                var rows: [(image: Int, label: Int, index: Int)] = []
                var perImage: [Int] = []
                for i in 0..<n {
                    let kept = multiclassNMS(boxes: b.f32 + i * m * 4, scores: s.f32 + i * classes * m, m: m, classes: classes, spec)
                    rows += kept.map { (i, $0.label, $0.index) }
                    perImage.append(kept.count)
                }
                let out = try io.allocate("Out", dtype: .f32, shape: [rows.count, 6])
                for (k, row) in rows.enumerated() {
                    let o = out.f32 + k * 6
                    o[0] = Float(row.label)
                    o[1] = s.f32[(row.image * classes + row.label) * m + row.index]
                    for j in 0..<4 { o[2 + j] = b.f32[(row.image * m + row.index) * 4 + j] }
                }
                if io.runTimeSized["Index"] != nil {
                    let index = try io.allocate("Index", dtype: .i32, shape: [rows.count, 1])
                    for (k, row) in rows.enumerated() { index.i32[k] = Int32(truncatingIfNeeded: row.image * m + row.index) }
                }
                if let num = io.optionalOutput("NmsRoisNum") {
                    guard num.count == n else { throw KernelError("\(op): NmsRoisNum holds \(num.count) values for \(n) images") }
                    for (i, c) in perImage.enumerated() { ElementStore.store(num.data, num.dtype, i, Double(c), int: Int64(c)) }
                }
            }
        }
    }
}
