import QtopFormat

/// Checks, at import, the attributes of mapped ops that shape inference and the kernels index or divide by
/// (strides, kernel sizes, axes, target shapes), against the ranks the program declares — so a damaged file is
/// refused with one line instead of tripping an index or a division later.
enum PIRAttributeChecks {
    static let maxExtent = Int(Int32.max)

    static func check(_ n: Node, _ values: [String: ValueInfo], _ fail: (String) -> FormatError) throws {
        let a = n.attrs
        func rank(_ slot: String) -> Int? { n.input(slot).flatMap { values[$0]?.shape?.count } }
        func list(_ name: String, count: ClosedRange<Int>, min lo: Int, max hi: Int = maxExtent) throws {
            guard let v = a[name] else { return }
            guard let xs = v.ints, count.contains(xs.count), xs.allSatisfy({ $0 >= lo && $0 <= hi }) else {
                throw fail("attribute \(name) must hold \(count.lowerBound)–\(count.upperBound) integers in \(lo)…\(hi)")
            }
        }
        func axis(_ name: String, rank r: Int?, extra: Int = 0) throws {
            guard let r, let v = a[name] else { return }
            guard let xs = v.ints, xs.allSatisfy({ $0 >= -(r + extra) && $0 < r + extra }) else {
                throw fail("attribute \(name) is not an axis of a rank-\(r) tensor")
            }
        }
        switch n.type {
        case "conv2d", "depthwise_conv2d", "conv2d_transpose":
            try list("strides", count: 2...2, min: 1)
            try list("dilations", count: 1...2, min: 1)
            try list("paddings", count: 2...4, min: 0)
            try list("groups", count: 1...1, min: 1)
        case "pool2d":
            try list("ksize", count: 1...2, min: 1)
            try list("strides", count: 1...2, min: 1)
            try list("paddings", count: 2...4, min: 0)
        case "flatten_contiguous_range":
            try axis("start_axis", rank: rank("X"))
            try axis("stop_axis", rank: rank("X"))
        case "transpose2":
            if let r = rank("X"), let perm = a["axis"]?.ints, perm.count != r || Set(perm) != Set(0..<r) {
                throw fail("attribute axis \(perm) is not a permutation of a rank-\(r) tensor")
            }
        case "concat":
            try axis("axis", rank: rank("X"))
        case "split":
            try axis("axis", rank: rank("X"))
            try list("sections", count: 0...4096, min: -1)
            try list("num", count: 1...1, min: 0, max: 4096)
        case "squeeze2", "reduce_mean", "reduce_sum", "reduce_max", "reduce_min":
            try axis(n.type == "squeeze2" ? "axes" : "dim", rank: rank("X"))
        case "unsqueeze2":
            try axis("axes", rank: rank("X"), extra: 1)
        case "reshape2":
            try list("shape", count: 0...16, min: -1)
            if let s = a["shape"]?.ints {
                var numel = 1
                for d in s where d > 0 {
                    let (m, o) = numel.multipliedReportingOverflow(by: d)
                    guard !o, m <= 1 << 40 else { throw fail("attribute shape \(s) describes too many elements") }
                    numel = m
                }
            }
        default:
            break
        }
    }
}
