import CQtopKernels
import QtopRuntime
import XCTest

/// The f32 NHWC SE-block rows (global average pool, channel scale with optional RSE shortcut, written f32 NCHW or
/// requantized u8/s8 NHWC, and the plain NHWC → NCHW reorder) on every ISA level this CPU has, serial and threaded:
/// bit for bit the formulas of docs/int8-semantics.md ("SE blocks on f32 NHWC tensors"), evaluated here in Swift
/// one separately rounded Float operation at a time. Shapes cover 8×8 blocks, channel and pixel tails and more
/// than one 64-channel pooling block.
final class SEBoundaryKernelTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)
    static let shapes: [(Int, Int, Int, Int)] = [(1, 3, 5, 19), (2, 16, 3, 8), (1, 21, 4, 17), (1, 72, 7, 9), (2, 130, 2, 3), (1, 8, 1, 1)]

    func values(_ count: Int, seed: UInt64, specials: Bool) -> [Float] {
        var r = XorShift(seed)
        let sp: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 3.25, -2.5, 1e-30]
        return (0..<count).map { _ in specials && r.next() % 5 == 0 ? sp[Int(r.next() % UInt64(sp.count))] : r.float(-8, 8) }
    }

    func same(_ a: [Float], _ b: [Float]) -> Bool { a.map(\.bitPattern) == b.map(\.bitPattern) }

    func testGlobalAveragePoolIsBitExactOnEveryISA() {
        for (si, (n, c, h, w)) in SEBoundaryKernelTests.shapes.enumerated() {
            let x = values(n * h * w * c, seed: UInt64(si + 1), specials: false)
            var expected = [Float](repeating: 0, count: n * c)
            for ni in 0..<n { for ch in 0..<c {
                var s: Float = 0
                for p in 0..<(h * w) { s += x[(ni * h * w + p) * c + ch] }
                expected[ni * c + ch] = s / Float(h * w)
            } }
            for isa in usableIsas() {
                for threaded in [false, true] {
                    var y = [Float](repeating: .nan, count: n * c)
                    qtop_gap_nhwc_f32(x, &y, Int32(n), Int32(h * w), Int32(c), isa, threaded ? pool.handleForTests : nil)
                    XCTAssertTrue(same(y, expected), "gap \(n)×\(h)×\(w)×\(c) isa \(isa) threaded \(threaded)")
                }
            }
        }
    }

    func testChannelScaleIsBitExactOnEveryISA() {
        for (si, (n, c, h, w)) in SEBoundaryKernelTests.shapes.enumerated() {
            let x = values(n * h * w * c, seed: UInt64(50 + si), specials: true)
            let s = values(n * c, seed: UInt64(90 + si), specials: false).map { abs($0) / 8 }
            let range: Float = 5.5
            let inv = Float(127) / range
            for useScale in [true, false] {
                for residual in [false, true] where useScale || !residual {
                    func y(_ i: Int, _ ni: Int, _ ch: Int) -> Float {
                        let v = x[i]
                        guard useScale else { return v }
                        let p = v * s[ni * c + ch]
                        return residual ? v + p : p
                    }
                    var nchw = [Float](repeating: 0, count: x.count)
                    var q8: [UInt32: [UInt8]] = [:]
                    for dt in [QTOP_DT_U8, QTOP_DT_S8] {
                        let lo: Float = dt == QTOP_DT_U8 ? 0 : -128, hi: Float = dt == QTOP_DT_U8 ? QTOP_U8_MAX : 127
                        var e = [UInt8](repeating: 0, count: x.count)
                        for ni in 0..<n { for p in 0..<(h * w) { for ch in 0..<c {
                            let i = (ni * h * w + p) * c + ch
                            var v = y(i, ni, ch) * inv
                            v = v.isNaN ? 0 : min(max(v, lo), hi)
                            e[i] = UInt8(truncatingIfNeeded: Int32(v.rounded(.toNearestOrEven)))
                        } } }
                        q8[dt.rawValue] = e
                    }
                    for ni in 0..<n { for p in 0..<(h * w) { for ch in 0..<c {
                        nchw[(ni * c + ch) * h * w + p] = y((ni * h * w + p) * c + ch, ni, ch)
                    } } }
                    for isa in usableIsas() {
                        for threaded in [false, true] {
                            let ph = threaded ? pool.handleForTests : nil
                            let label = "\(n)×\(h)×\(w)×\(c) scale \(useScale) residual \(residual) isa \(isa) threaded \(threaded)"
                            var out = [Float](repeating: .nan, count: x.count)
                            out.withUnsafeMutableBytes {
                                qtop_scale_nhwc_f32(x, useScale ? s : nil, residual ? 1 : 0, $0.baseAddress, Int32(QTOP_DT_F32.rawValue), 1,
                                                    Int32(n), Int32(c), Int32(h), Int32(w), isa, ph)
                            }
                            XCTAssertTrue(same(out, nchw), "f32 NCHW " + label)
                            for dt in [QTOP_DT_U8, QTOP_DT_S8] {
                                var q = [UInt8](repeating: 0xAA, count: x.count)
                                q.withUnsafeMutableBytes {
                                    qtop_scale_nhwc_f32(x, useScale ? s : nil, residual ? 1 : 0, $0.baseAddress, Int32(dt.rawValue), range,
                                                        Int32(n), Int32(c), Int32(h), Int32(w), isa, ph)
                                }
                                XCTAssertEqual(q, q8[dt.rawValue], "dt \(dt.rawValue) " + label)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The FPN add with the coarser level upsampled on the fly (qtop_scale_add_up_nhwc_f32, z at 1/f of x's extents):
    /// x + x·s + z[(h / f, w / f)], f32 NCHW and u8 / s8 NHWC, against the formula evaluated here; run twice on the
    /// same buffers with new values so a widened row kept from the first call would show.
    func testChannelScaleWithUpsampledAddendIsBitExactOnEveryISA() {
        let shapes: [(Int, Int, Int, Int, Int)] = [(1, 8, 4, 16, 2), (2, 21, 6, 10, 2), (1, 96, 4, 24, 2), (1, 13, 8, 8, 4), (1, 3, 2, 2, 2)]
        for (si, (n, c, h, w, f)) in shapes.enumerated() {
            let (zh, zw) = (h / f, w / f)
            let range: Float = 9.5, inv = Float(127) / range
            var zbuf = [Float](repeating: 0, count: n * c * zh * zw)
            for round in 0..<2 {
                let x = values(n * h * w * c, seed: UInt64(200 + si * 7 + round), specials: round == 1)
                let s = values(n * c, seed: UInt64(300 + si + round), specials: false).map { abs($0) / 8 }
                zbuf = values(zbuf.count, seed: UInt64(400 + si * 3 + round), specials: round == 1)
                var sum = [Float](repeating: 0, count: x.count)   // NHWC
                for ni in 0..<n { for yy in 0..<h { for xx in 0..<w { for ch in 0..<c {
                    let i = ((ni * h + yy) * w + xx) * c + ch
                    let v = x[i], p = v * s[ni * c + ch], r = v + p
                    sum[i] = r + zbuf[((ni * c + ch) * zh + yy / f) * zw + xx / f]
                } } } }
                var nchw = [Float](repeating: 0, count: x.count)
                for ni in 0..<n { for p in 0..<(h * w) { for ch in 0..<c { nchw[(ni * c + ch) * h * w + p] = sum[(ni * h * w + p) * c + ch] } } }
                for isa in usableIsas() {
                    for threaded in [false, true] {
                        let ph = threaded ? pool.handleForTests : nil
                        let label = "\(n)×\(h)×\(w)×\(c) f \(f) round \(round) isa \(isa) threaded \(threaded)"
                        var out = [Float](repeating: .nan, count: x.count)
                        let ok = out.withUnsafeMutableBytes {
                            qtop_scale_add_up_nhwc_f32(x, s, 1, zbuf, Int32(f), $0.baseAddress, Int32(QTOP_DT_F32.rawValue), 1,
                                                       Int32(n), Int32(c), Int32(h), Int32(w), isa, ph)
                        }
                        XCTAssertEqual(ok, 1)
                        XCTAssertTrue(same(out, nchw), "f32 NCHW " + label)
                        for dt in [QTOP_DT_U8, QTOP_DT_S8] {
                            let lo: Float = dt == QTOP_DT_U8 ? 0 : -128, hi: Float = dt == QTOP_DT_U8 ? QTOP_U8_MAX : 127
                            let want = sum.map { v -> UInt8 in
                                let q = v * inv
                                return UInt8(truncatingIfNeeded: Int32((q.isNaN ? 0 : min(max(q, lo), hi)).rounded(.toNearestOrEven)))
                            }
                            var q = [UInt8](repeating: 0xAA, count: x.count)
                            _ = q.withUnsafeMutableBytes {
                                qtop_scale_add_up_nhwc_f32(x, s, 1, zbuf, Int32(f), $0.baseAddress, Int32(dt.rawValue), range,
                                                           Int32(n), Int32(c), Int32(h), Int32(w), isa, ph)
                            }
                            XCTAssertEqual(q, want, "dt \(dt.rawValue) " + label)
                        }
                    }
                }
            }
        }
        // extents that are not multiples of the factor are refused, nothing written
        var out = [Float](repeating: 7, count: 2 * 3 * 2)
        let ok = out.withUnsafeMutableBytes {
            qtop_scale_add_up_nhwc_f32([Float](repeating: 1, count: 12), [1, 1], 1, [0, 0], 2, $0.baseAddress, Int32(QTOP_DT_F32.rawValue), 1,
                                       1, 2, 3, 2, usableIsas().last!, nil)
        }
        XCTAssertEqual(ok, 0)
        XCTAssertEqual(out, [Float](repeating: 7, count: 12))
    }
}

