import CQtopKernels
@testable import QtopRuntime
import XCTest

/// f32_ops.c: every SIMD row gives the generic row's (the scalar reference's) bits on odd lengths, broadcast
/// layouts and special values, one and two threads; the reference itself is Paddle's formula (exactly, or within a
/// few ulp of expf / sequential sums for the exp-based ops and the lane-summed rows).
final class Float32OpsTests: XCTestCase {
    var simdISAs: [ISALevel] {
        ISALevel.allCases.filter { $0 != .generic && qtop_f32_ops_available($0.cValue) == 1 }
    }

    /// Deterministic values in about [-12, 12] with NaN, ±0, ±inf and large magnitudes mixed in.
    func values(_ n: Int, seed: UInt64, special: Bool = true) -> [Float] {
        var s = seed
        return (0..<n).map { i in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let v = Float(Int64(bitPattern: s >> 11) % 24_000_000) / 1_000_000 - 12
            guard special else { return v }
            switch i % 97 {
            case 5: return .nan
            case 11: return .infinity
            case 13: return -.infinity
            case 17: return -0.0
            case 19: return 95
            case 23: return -95
            default: return v
            }
        }
    }

    func sameBits(_ a: [Float], _ b: [Float], _ what: String) {
        for i in a.indices where a[i].bitPattern != b[i].bitPattern && !(a[i].isNaN && b[i].isNaN) {
            XCTFail("\(what): element \(i): \(a[i]) vs reference \(b[i])"); return
        }
    }

    func close(_ a: [Float], _ b: [Float], rel: Float, _ what: String) {
        for i in a.indices {
            if a[i].isNaN || b[i].isNaN { XCTAssertEqual(a[i].isNaN, b[i].isNaN, "\(what): element \(i)"); continue }
            let tol = rel * abs(b[i]) + 1e-30  // 1e-30: the SIMD exp's clamp where expf under/overflows
            if abs(a[i] - b[i]) > tol { XCTFail("\(what): element \(i): \(a[i]) vs reference \(b[i])"); return }
        }
    }

    func binary(_ isa: ISALevel, _ op: qtop_binop, _ x: [Float], _ y: [Float], rows: Int, inner: Int,
                xoff: [Int64], yoff: [Int64], xstep: Int32, ystep: Int32, pool: NativeThreadPool?) -> [Float] {
        var out = [Float](repeating: -1, count: rows * inner)
        let ok = out.withUnsafeMutableBufferPointer { o in
            qtop_f32_binary_rows(isa.cValue, Int32(op.rawValue), x, y, o.baseAddress, Int64(rows), Int64(inner), xoff, yoff,
                                 xstep, ystep, pool?.handle)
        }
        XCTAssertEqual(ok, 1)
        return out
    }

    func testBinariesAreBitExactOnEveryISA() {
        let pool = NativeThreadPool(threads: 2)
        let ops = [QTOP_BIN_ADD, QTOP_BIN_SUB, QTOP_BIN_MUL, QTOP_BIN_DIV, QTOP_BIN_MAX, QTOP_BIN_MIN]
        for inner in [1, 7, 8, 9, 37, 1000] {
            let rows = 5
            let x = values(rows * inner, seed: UInt64(inner)), y = values(rows * inner, seed: UInt64(inner) + 99)
            // contiguous × contiguous, contiguous × per-row scalar, per-row scalar × contiguous (offsets per row)
            let layouts: [([Int64], [Int64], Int32, Int32)] = [
                ((0..<rows).map { Int64($0 * inner) }, (0..<rows).map { Int64($0 * inner) }, 1, 1),
                ((0..<rows).map { Int64($0 * inner) }, (0..<rows).map { Int64(($0 * 3) % (rows * inner)) }, 1, 0),
                ((0..<rows).map { Int64($0) }, (0..<rows).map { Int64(($0 % 2) * inner) }, 0, 1),
            ]
            for op in ops {
                for (xo, yo, xs, ys) in layouts {
                    let ref = binary(.generic, op, x, y, rows: rows, inner: inner, xoff: xo, yoff: yo, xstep: xs, ystep: ys, pool: nil)
                    // the reference itself: out = x op y elementwise
                    for r in 0..<rows {
                        for i in 0..<inner {
                            let a = x[Int(xo[r]) + i * Int(xs)], b = y[Int(yo[r]) + i * Int(ys)]
                            let want: Float
                            switch op {
                            case QTOP_BIN_ADD: want = a + b
                            case QTOP_BIN_SUB: want = a - b
                            case QTOP_BIN_MUL: want = a * b
                            case QTOP_BIN_DIV: want = a / b
                            case QTOP_BIN_MAX: want = a > b ? a : b
                            default: want = a < b ? a : b
                            }
                            let got = ref[r * inner + i]
                            if got.bitPattern != want.bitPattern && !(got.isNaN && want.isNaN) {
                                XCTFail("generic op \(op.rawValue) row \(r) i \(i): \(got) vs \(want)"); return
                            }
                        }
                    }
                    for isa in simdISAs {
                        for p in [nil, pool] {
                            let got = binary(isa, op, x, y, rows: rows, inner: inner, xoff: xo, yoff: yo, xstep: xs, ystep: ys, pool: p)
                            sameBits(got, ref, "\(isa) op \(op.rawValue) inner \(inner) steps \(xs)\(ys)")
                        }
                    }
                }
            }
        }
    }

    func unary(_ isa: ISALevel, _ d: qtop_unary_desc, _ x: [Float], pool: NativeThreadPool?) -> [Float] {
        var out = [Float](repeating: -1, count: x.count)
        var desc = d
        let ok = out.withUnsafeMutableBufferPointer { qtop_f32_unary(isa.cValue, &desc, x, $0.baseAddress, Int64(x.count), pool?.handle) }
        XCTAssertEqual(ok, 1)
        return out
    }

    func testActivationsMatchTheScalarReference() {
        let pool = NativeThreadPool(threads: 2)
        func desc(_ op: qtop_unop, _ a: Float = 0, _ b: Float = 0, _ c: Float = 0) -> qtop_unary_desc {
            qtop_unary_desc(op: Int32(op.rawValue), a: a, b: b, c: c)
        }
        let exact = [desc(QTOP_UN_RELU), desc(QTOP_UN_HARD_SIGMOID, 0.2, 0.5), desc(QTOP_UN_HARD_SIGMOID, 1.0 / 6, 0.5),
                     desc(QTOP_UN_HARD_SWISH, 6, 6, 3)]
        let approx = [desc(QTOP_UN_SIGMOID), desc(QTOP_UN_SWISH, 1), desc(QTOP_UN_SWISH, 1.7)]
        for n in [1, 8, 13, 40_001] {
            let x = values(n, seed: UInt64(n) * 7)
            for d in exact + approx {
                let ref = unary(.generic, d, x, pool: nil)
                // the scalar reference is Paddle's formula (sigmoid and swish through expf)
                for (i, v) in x.enumerated().prefix(200) {
                    let want: Float
                    switch d.op {
                    case Int32(QTOP_UN_RELU.rawValue): want = v > 0 ? v : 0
                    case Int32(QTOP_UN_SIGMOID.rawValue):
                        close([ref[i]], [1 / (1 + expf(-v))], rel: 4e-7, "generic sigmoid at \(v)"); continue
                    case Int32(QTOP_UN_SWISH.rawValue):
                        close([ref[i]], [v / (1 + expf(-d.a * v))], rel: 4e-7, "generic swish at \(v)"); continue
                    case Int32(QTOP_UN_HARD_SIGMOID.rawValue):
                        let t = v * d.a + d.b, m = t < 0 ? 0 : t
                        want = 1 < m ? 1 : m
                    default:
                        let t = v + d.c, m = t < 0 ? 0 : t
                        want = (d.a < m ? d.a : m) * v / d.b
                    }
                    if ref[i].bitPattern != want.bitPattern && !(ref[i].isNaN && want.isNaN) {
                        XCTFail("generic unary \(d.op) at \(v): \(ref[i]) vs \(want)"); break
                    }
                }
                for isa in simdISAs {
                    for p in [nil, pool] {
                        sameBits(unary(isa, d, x, pool: p), ref, "\(isa) unary \(d.op) n \(n)")
                    }
                }
            }
        }
    }

    func testLayerNormAndSoftmaxRows() {
        let pool = NativeThreadPool(threads: 2)
        for (rows, cols) in [(1, 1), (3, 7), (40, 120), (5, 1001)] {
            let x = values(rows * cols, seed: UInt64(cols), special: false)
            let scale = values(cols, seed: 5, special: false), bias = values(cols, seed: 6, special: false)
            func ln(_ isa: ISALevel, _ p: NativeThreadPool?, affine: Bool) -> ([Float], [Float], [Float]) {
                var y = [Float](repeating: 0, count: x.count), m = [Float](repeating: 0, count: rows), v = m
                let ok = y.withUnsafeMutableBufferPointer { yp in m.withUnsafeMutableBufferPointer { mp in v.withUnsafeMutableBufferPointer { vp in
                    qtop_f32_layer_norm(isa.cValue, x, yp.baseAddress, Int64(rows), Int64(cols), 1e-5, affine ? scale : nil,
                                        affine ? bias : nil, mp.baseAddress, vp.baseAddress, p?.handle)
                } } }
                XCTAssertEqual(ok, 1)
                return (y, m, v)
            }
            func sm(_ isa: ISALevel, _ p: NativeThreadPool?) -> [Float] {
                var y = [Float](repeating: 0, count: x.count)
                XCTAssertEqual(y.withUnsafeMutableBufferPointer { qtop_f32_softmax_rows(isa.cValue, x, $0.baseAddress, Int64(rows), Int64(cols), p?.handle) }, 1)
                return y
            }
            for affine in [false, true] {
                let ref = ln(.generic, nil, affine: affine)
                // the lane-summed reference against a sequential float64 layer_norm
                for r in 0..<rows {
                    let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
                    let m = row.reduce(0, +) / Double(cols)
                    let v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(cols)
                    XCTAssertEqual(Double(ref.1[r]), m, accuracy: 1e-5 * max(1, abs(m)))
                    XCTAssertEqual(Double(ref.2[r]), v, accuracy: 1e-4 * max(1, v))
                }
                for isa in simdISAs {
                    for p in [nil, pool] {
                        let got = ln(isa, p, affine: affine)
                        sameBits(got.0, ref.0, "\(isa) layer_norm \(rows)x\(cols)")
                        sameBits(got.1, ref.1, "\(isa) layer_norm mean")
                        sameBits(got.2, ref.2, "\(isa) layer_norm variance")
                    }
                }
            }
            let sref = sm(.generic, nil)
            for r in 0..<rows {
                let s = sref[(r * cols)..<((r + 1) * cols)].reduce(0, +)
                XCTAssertEqual(s, 1, accuracy: 1e-4, "softmax row \(r) sums to 1")
            }
            for isa in simdISAs { for p in [nil, pool] { sameBits(sm(isa, p), sref, "\(isa) softmax \(rows)x\(cols)") } }
        }
    }

    func testBadArgumentsWriteNothing() {
        var y: [Float] = [7]
        var d = qtop_unary_desc(op: 99, a: 0, b: 0, c: 0)
        XCTAssertEqual(y.withUnsafeMutableBufferPointer { qtop_f32_unary(ISALevel.generic.cValue, &d, [1], $0.baseAddress, 1, nil) }, 0)
        XCTAssertEqual(y.withUnsafeMutableBufferPointer { qtop_f32_binary_rows(ISALevel.generic.cValue, 42, [1], [1], $0.baseAddress, 1, 1, nil, nil, 1, 1, nil) }, 0)
        XCTAssertEqual(y.withUnsafeMutableBufferPointer { qtop_f32_softmax_rows(ISALevel.generic.cValue, [1], $0.baseAddress, 1, 0, nil) }, 0)
        XCTAssertEqual(y, [7])
    }

    /// Inference batch_norm rows: y = x · s[c] + b[c], two roundings, on every ISA (the reference's formula).
    func testAffineRowsMatchBatchNormFormula() {
        let pool = NativeThreadPool(threads: 2)
        for (rows, inner, channels) in [(6, 1, 3), (8, 13, 4), (24, 1000, 12)] {
            let x = values(rows * inner, seed: UInt64(inner)), s = values(channels, seed: 3), b = values(channels, seed: 4)
            func run(_ isa: ISALevel, _ p: NativeThreadPool?) -> [Float] {
                var y = [Float](repeating: 0, count: x.count)
                XCTAssertEqual(y.withUnsafeMutableBufferPointer {
                    qtop_f32_affine_rows(isa.cValue, x, $0.baseAddress, Int64(rows), Int64(inner), s, b, Int64(channels), p?.handle)
                }, 1)
                return y
            }
            let want = (0..<x.count).map { i -> Float in let c = (i / inner) % channels; return x[i] * s[c] + b[c] }
            sameBits(run(.generic, nil), want, "generic affine \(rows)x\(inner)")
            for isa in simdISAs { for p in [nil, pool] { sameBits(run(isa, p), want, "\(isa) affine \(rows)x\(inner)") } }
        }
    }
}
