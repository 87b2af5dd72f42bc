import CQtopKernels
import XCTest

/// Deterministic xorshift generator for reproducible sweeps.
struct XorShift {
    var s: UInt64
    init(_ seed: UInt64) { s = seed == 0 ? 0x9E3779B97F4A7C15 : seed }
    mutating func next() -> UInt64 {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        return s
    }
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    mutating func bool() -> Bool { next() & 1 == 1 }
    mutating func float(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(next() % 100_001) / 100_000 }
    /// Bytes biased towards the extremes 0x80 (-128), 0x7f (127), 0xff (255 / -1) and 0.
    mutating func byte() -> UInt8 {
        switch next() % 10 {
        case 0: return 0x80
        case 1: return 0x7F
        case 2: return 0xFF
        case 3: return 0
        default: return UInt8(truncatingIfNeeded: next())
        }
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }
}

/// x86/arm ISA levels (C numbering) that this CPU can run and this build has kernels for.
func usableIsas() -> [Int32] {
    let m = qtop_cpu_isa_mask() & qtop_compiled_isa_mask()
    return (0..<Int32(QTOP_ISA_COUNT.rawValue)).filter { (m >> UInt32($0)) & 1 == 1 }
}

func dtSize(_ dt: Int32) -> Int { dt == Int32(QTOP_DT_F32.rawValue) ? 4 : 1 }

func bitsEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool { a == b }

/// The fp32 kernels' activation codes (none, relu, relu6, hard_swish) applied to one value, for expected results.
func act(_ y: Float, _ a: Int32) -> Float {
    switch a {
    case 1: return max(y, 0)
    case 2: return min(max(y, 0), 6)
    case 3: return y * (min(max(y + 3, 0), 6) / 6)
    default: return y
    }
}

/// The fp32 convolution `d` describes (NCHW, groups, stride, dilation, pads, bias, residual, activation) in double
/// precision: the reference every fp32 conv test compares against, with the magnitude Σ|terms| (+1) per output
/// that bounds its rounding.
func fconvReference(_ d: qtop_fconv_desc, x: [Float], w: [Float], b: [Float], res: [Float]) -> (ref: [Float], mag: [Float]) {
    var d = d
    let n = Int(d.n), ic = Int(d.ic), h = Int(d.h), wd = Int(d.w), oc = Int(d.oc), kh = Int(d.kh), kw = Int(d.kw)
    let oh = Int(qtop_fconv_out_h(&d)), ow = Int(qtop_fconv_out_w(&d))
    let icg = ic / Int(d.groups), ocg = oc / Int(d.groups)
    var ref = [Float](repeating: 0, count: n * oc * oh * ow), mag = ref
    for b0 in 0..<n { for o in 0..<oc { for oy in 0..<oh { for ox in 0..<ow {
        let g = o / ocg
        var sum = Double(b[o]), sa = abs(Double(b[o])) + 1
        for i in 0..<icg { for ky in 0..<kh { for kx in 0..<kw {
            let iy = oy * Int(d.stride_h) - Int(d.pad_t) + ky * Int(d.dil_h)
            let ix = ox * Int(d.stride_w) - Int(d.pad_l) + kx * Int(d.dil_w)
            if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
            let p = Double(x[((b0 * ic + g * icg + i) * h + iy) * wd + ix]) * Double(w[((o * icg + i) * kh + ky) * kw + kx])
            sum += p; sa += abs(p)
        } } }
        let oi = ((b0 * oc + o) * oh + oy) * ow + ox
        if d.has_residual == 1 { sum += Double(res[oi]); sa += abs(Double(res[oi])) }
        ref[oi] = act(Float(sum), d.act); mag[oi] = Float(sa)
    } } } }
    return (ref, mag)
}

/// Runs `d` on every usable ISA row that takes it, on `pool` and serially, and fails where an output leaves
/// 1e-5 × its magnitude around the reference. Returns the number of runs compared.
@discardableResult
func checkFConvEveryISA(_ d: qtop_fconv_desc, x: [Float], w: [Float], b: [Float], res: [Float],
                        pool: OpaquePointer?, label: String, file: StaticString = #filePath, line: UInt = #line) -> Int {
    var d = d
    let (ref, mag) = fconvReference(d, x: x, w: w, b: b, res: res)
    var runs = 0
    for isa in usableIsas() {
        if qtop_fconv_query(&d, isa, isa, nil, 0) == 0 { continue }
        guard let h = qtop_fconv_create(&d, w, b, isa) else { XCTFail("create", file: file, line: line); continue }
        for threaded in [true, false] {
            var out = [Float](repeating: .nan, count: ref.count)
            qtop_fconv_run(h, x, &out, res, threaded ? pool : nil)
            runs += 1
            for i in 0..<out.count where !(abs(out[i] - ref[i]) <= 1e-5 * mag[i]) {
                XCTFail("\(label) isa \(isa) threaded \(threaded) idx \(i): \(out[i]) vs \(ref[i])", file: file, line: line)
                break
            }
        }
        qtop_fconv_destroy(h)
    }
    return runs
}
