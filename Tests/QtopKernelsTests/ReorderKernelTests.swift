import CQtopKernels
import QtopRuntime
import XCTest

/// The fp32 ↔ int8 reorders (quantize NCHW → NHWC, dequantize NHWC → NCHW) on every ISA level this CPU has: byte
/// for byte (bit for bit for the floats) what the generic C rows give, which the test below checks against the
/// formula itself. Shapes cover the 8×8 blocks, channel tails (3 = an image), pixel tails, one-pixel rows
/// ([M, K] matrices) and inputs at the edges of the grid: NaN, ±inf, ±0, exact halves (ties to even) and values
/// beyond the range.
final class ReorderKernelTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)

    static let shapes: [(Int, Int, Int, Int)] = [
        (1, 3, 5, 19), (2, 16, 3, 8), (1, 8, 2, 9), (1, 21, 4, 17), (1, 64, 7, 7), (3, 10, 1, 1), (1, 1, 1, 30), (1, 5, 6, 1),
    ]

    /// Floats that test every branch of requant: specials, halves of the grid step, the clamp edges.
    func inputs(_ count: Int, range: Float, seed: UInt64) -> [Float] {
        var r = XorShift(seed)
        let step = range / 127
        let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 0.5 * step, 1.5 * step, -0.5 * step, -2.5 * step,
                                 127.5 * step, -128.5 * step, range, -range, 2 * range, -2 * range, .leastNonzeroMagnitude]
        return (0..<count).map { _ in
            r.next() % 4 == 0 ? specials[Int(r.next() % UInt64(specials.count))] : r.float(-1.3 * range, 1.3 * range)
        }
    }

    func testQuantizeMatchesTheScalarFormulaOnEveryISA() {
        for (si, (n, c, h, w)) in ReorderKernelTests.shapes.enumerated() {
            let range: Float = 6.5
            let x = inputs(n * c * h * w, range: range, seed: UInt64(si + 1))
            for dt in [QTOP_DT_U8, QTOP_DT_S8] {
                let inv = Float(127) / range
                let lo: Float = dt == QTOP_DT_U8 ? 0 : -128, hi: Float = dt == QTOP_DT_U8 ? QTOP_U8_MAX : 127
                var expected = [UInt8](repeating: 0, count: x.count)
                for ni in 0..<n { for ci in 0..<c { for yi in 0..<h { for xi in 0..<w {
                    var v = x[((ni * c + ci) * h + yi) * w + xi] * inv
                    v = v.isNaN ? 0 : min(max(v, lo), hi)
                    let q = Int32(v.rounded(.toNearestOrEven))
                    expected[((ni * h + yi) * w + xi) * c + ci] = UInt8(truncatingIfNeeded: q)
                } } } }
                for isa in usableIsas() {
                    for threaded in [false, true] {
                        var q = [UInt8](repeating: 0xAA, count: x.count)
                        q.withUnsafeMutableBytes {
                            qtop_quantize_nchw_to_nhwc(x, $0.baseAddress, Int32(dt.rawValue), Int32(n), Int32(c), Int32(h), Int32(w),
                                                       range, isa, threaded ? pool.handleForTests : nil)
                        }
                        XCTAssertEqual(q, expected, "quantize \(n)×\(c)×\(h)×\(w) dt \(dt.rawValue) isa \(isa)")
                    }
                }
            }
        }
    }

    func testDequantizeIsBitExactOnEveryISA() {
        for (si, (n, c, h, w)) in ReorderKernelTests.shapes.enumerated() {
            var r = XorShift(UInt64(100 + si))
            let q = r.bytes(n * c * h * w)
            let range: Float = 3.7
            for dt in [QTOP_DT_U8, QTOP_DT_S8] {
                let step = range / 127
                var expected = [UInt32](repeating: 0, count: q.count)
                for ni in 0..<n { for ci in 0..<c { for yi in 0..<h { for xi in 0..<w {
                    let b = q[((ni * h + yi) * w + xi) * c + ci]
                    let v = dt == QTOP_DT_U8 ? Float(b) : Float(Int8(bitPattern: b))
                    expected[((ni * c + ci) * h + yi) * w + xi] = (v * step).bitPattern
                } } } }
                for isa in usableIsas() {
                    var out = [Float](repeating: .nan, count: q.count)
                    qtop_dequantize_nhwc_to_nchw(q, Int32(dt.rawValue), &out, Int32(n), Int32(c), Int32(h), Int32(w), range, isa,
                                                 pool.handleForTests)
                    XCTAssertEqual(out.map(\.bitPattern), expected, "dequantize \(n)×\(c)×\(h)×\(w) dt \(dt.rawValue) isa \(isa)")
                }
            }
        }
    }
}
