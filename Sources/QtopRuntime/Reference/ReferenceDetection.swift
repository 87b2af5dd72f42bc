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

/// One image of the dense form: the kept (label, box index) pairs in output order. `boxes` is [M, 4], `scores`
/// [C, M].
func multiclassNMS(boxes: UnsafePointer<Float>, scores: UnsafePointer<Float>, m: Int, classes: Int,
                   _ spec: MultiClassNMSSpec) -> [(label: Int, index: Int)] {
    multiclassNMS(m: m, classes: classes, spec, box: { _, i in boxes + i * 4 }, score: { c, i in scores[c * m + i] })
}

/// One image of the LoD form: `boxes` [M, C, 4] (one box per row and class), `scores` [M, C].
func multiclassNMSPerClassBoxes(boxes: UnsafePointer<Float>, scores: UnsafePointer<Float>, m: Int, classes: Int,
                                _ spec: MultiClassNMSSpec) -> [(label: Int, index: Int)] {
    multiclassNMS(m: m, classes: classes, spec, box: { c, i in boxes + (i * classes + c) * 4 },
                  score: { c, i in scores[i * classes + c] }, ascendingRows: true)
}

/// The NMS of one image over `m` rows and `classes` classes; `box(c, i)` / `score(c, i)` give row i's box and
/// score for class c. `ascendingRows` (the LoD form): Paddle lists each class's kept rows in row order, after NMS
/// and after the keep_top_k cut, instead of in keep order.
func multiclassNMS(m: Int, classes: Int, _ spec: MultiClassNMSSpec, box: (Int, Int) -> UnsafePointer<Float>,
                   score: (Int, Int) -> Float, ascendingRows: Bool = false) -> [(label: Int, index: Int)] {
    var perClass: [[Int]] = Array(repeating: [], count: classes)
    for c in 0..<classes where c != spec.backgroundLabel {
        var cands: [(Float, Int)] = []
        for i in 0..<m { let v = score(c, i); if v > spec.scoreThreshold { cands.append((v, i)) } }
        cands = stableSortDescending(cands)
        if spec.nmsTopK > -1 && spec.nmsTopK < cands.count { cands.removeLast(cands.count - spec.nmsTopK) }
        var kept: [Int] = []
        var threshold = spec.nmsThreshold
        for (_, idx) in cands {
            var keep = true
            for k in kept {
                keep = nmsIoU(box(c, idx), box(c, k), normalized: spec.normalized) <= threshold
                if !keep { break }
            }
            if keep {
                kept.append(idx)
                if spec.nmsEta < 1 && threshold > 0.5 { threshold *= spec.nmsEta }
            }
        }
        perClass[c] = ascendingRows ? kept.sorted() : kept
    }
    let total = perClass.reduce(0) { $0 + $1.count }
    if spec.keepTopK > -1 && total > spec.keepTopK {
        var pairs: [(Float, (Int, Int))] = []
        for (c, kept) in perClass.enumerated() { for i in kept { pairs.append((score(c, i), (c, i))) } }
        pairs = stableSortDescending(pairs)
        pairs.removeLast(pairs.count - spec.keepTopK)
        perClass = Array(repeating: [], count: classes)
        for (_, (c, i)) in pairs { perClass[c].append(i) }
        if ascendingRows { perClass = perClass.map { $0.sorted() } }
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
                // rows: (label, score, box, Index value) per kept box, images in order
                var rows: [(label: Int, score: Float, box: UnsafePointer<Float>, index: Int)] = []
                var perImage: [Int] = []
                if s.rank == 2 {
                    guard b.rank == 3, b.shape[2] == 4, b.shape[0] == s.shape[0], b.shape[1] == s.shape[1] else {
                        throw KernelError("\(op): BBoxes \(b.shape) and Scores \(s.shape) must be [M, C, 4] and [M, C]")
                    }
                    guard let r = io.optionalInput("RoisNum") else { throw KernelError("\(op): Scores [M, C] needs RoisNum") }
                    let m = s.shape[0], classes = s.shape[1]
                    var start = 0
                    for (i, rowsI) in intArray(r).enumerated() {
                        guard rowsI >= 0, rowsI <= m - start else {
                            throw KernelError("\(op): RoisNum[\(i)] = \(rowsI) with \(m - start) of \(m) rows left")
                        }
                        let kept = multiclassNMSPerClassBoxes(boxes: b.f32 + start * classes * 4, scores: s.f32 + start * classes,
                                                              m: rowsI, classes: classes, spec)
                        // Index: the (row, class) position in Scores, as Paddle numbers it
                        rows += kept.map { (row: (label: Int, index: Int)) in
                            let g = start + row.index
                            return (row.label, s.f32[g * classes + row.label], UnsafePointer(b.f32 + (g * classes + row.label) * 4), g * classes + row.label)
                        }
                        perImage.append(kept.count)
                        start += rowsI
                    }
                } else {
                    guard b.rank == 3, s.rank == 3, b.shape[2] == 4, b.shape[0] == s.shape[0], b.shape[1] == s.shape[2] else {
                        throw KernelError("\(op): BBoxes \(b.shape) and Scores \(s.shape) must be [N, M, 4] and [N, C, M]")
                    }
                    let n = b.shape[0], m = b.shape[1], classes = s.shape[1]
                    for i in 0..<n {
                        let kept = multiclassNMS(boxes: b.f32 + i * m * 4, scores: s.f32 + i * classes * m, m: m, classes: classes, spec)
                        rows += kept.map { row in
                            (row.label, s.f32[(i * classes + row.label) * m + row.index], UnsafePointer(b.f32 + (i * m + row.index) * 4),
                             i * m + row.index)
                        }
                        perImage.append(kept.count)
                    }
                }
                let n = perImage.count
                let out = try io.allocate("Out", dtype: .f32, shape: [rows.count, 6])
                for (k, row) in rows.enumerated() {
                    let o = out.f32 + k * 6
                    o[0] = Float(row.label)
                    o[1] = row.score
                    for j in 0..<4 { o[2 + j] = row.box[j] }
                }
                if io.runTimeSized["Index"] != nil {
                    let index = try io.allocate("Index", dtype: .i32, shape: [rows.count, 1])
                    for (k, row) in rows.enumerated() { index.i32[k] = Int32(truncatingIfNeeded: row.index) }
                }
                if let num = io.optionalOutput("NmsRoisNum") {
                    guard num.count == n else { throw KernelError("\(op): NmsRoisNum holds \(num.count) values for \(n) images") }
                    for (i, c) in perImage.enumerated() { ElementStore.store(num.data, num.dtype, i, Double(c), int: Int64(c)) }
                }
            }
        }
    }
}
