import Foundation
import QtopFormat
import QtopGraph

// nearest_interp_v2 / bilinear_interp_v2 with Paddle's CPU formulas (phi interpolate_kernel.cc), NCHW or NHWC.

/// The resolved geometry of one interp call: output size and per-dimension ratios.
struct InterpPlan {
    let n: Int, c: Int, inH: Int, inW: Int, outH: Int, outW: Int
    let ratioH: Float, ratioW: Float
    let nhwc: Bool
}

/// Reads the run-time size inputs and resolves the output size and ratios in Paddle's precedence.
func interpPlan(_ spec: InterpSpec, _ io: KernelIO, x: Tensor) throws -> InterpPlan {
    guard x.rank == 4 else { throw KernelError("interp: only 4-D input is supported, got \(x.shape)") }
    let (n, c, h, w) = spec.nhwc ? (x.shape[0], x.shape[3], x.shape[1], x.shape[2]) : (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let sizeList = io.inputs["SizeTensor"] ?? []
    let sizeTensor: [Int]? = sizeList.isEmpty ? nil : sizeList.flatMap { intArray($0) }
    let outSize = io.optionalInput("OutSize").map(intArray)
    let scaleT = io.optionalInput("Scale").map(floatArray)
    let (oh, ow): (Int, Int)
    do { (oh, ow) = try spec.outputSize(inH: h, inW: w, sizeTensor: sizeTensor, outSize: outSize, scaleTensor: scaleT) }
    catch { throw KernelError("\(error)") }
    // The scale only shapes the ratio when no SizeTensor decided the size.
    let (sh, sw) = sizeTensor == nil ? try spec.scales(tensor: scaleT) : (-1, -1)
    return InterpPlan(n: n, c: c, inH: h, inW: w, outH: oh, outW: ow,
                      ratioH: spec.ratio(input: h, output: oh, scale: sh), ratioW: spec.ratio(input: w, output: ow, scale: sw),
                      nhwc: spec.nhwc)
}

/// Nearest source index per output index: align_corners rounds (int(r*k + 0.5)), otherwise truncates (int(r*k)).
func nearestIndices(out: Int, ratio: Float, alignCorners: Bool, input: Int) -> [Int] {
    (0..<out).map { k in min(alignCorners ? Int(ratio * Float(k) + 0.5) : Int(ratio * Float(k)), input - 1) }
}

/// Bilinear taps per output index: (low index, high index, weight of low, weight of high) as Paddle computes them.
/// align_flag = (align_mode == 0 && !align_corners) uses half-pixel centres: src = r*(k+0.5) - 0.5 clamped at 0.
func bilinearTaps(out: Int, ratio: Float, alignFlag: Bool, input: Int) -> [(Int, Int, Float, Float)] {
    (0..<out).map { k in
        var lo = alignFlag ? Int(ratio * (Float(k) + 0.5) - 0.5) : Int(ratio * Float(k))
        lo = lo > 0 ? lo : 0
        let hi = lo + 1 < input - 1 ? lo + 1 : input - 1
        var src = ratio * (Float(k) + 0.5) - 0.5
        src = src > 0 ? src : 0
        let dLo = alignFlag ? src - Float(lo) : ratio * Float(k) - Float(lo)
        return (lo, hi, 1 - dLo, dLo)
    }
}

/// Runs an interp with per-output-row/column source taps: out = Σ taps (NCHW or NHWC addressing).
func interpolate(_ x: Tensor, _ y: Tensor, _ p: InterpPlan, nearest: Bool, alignCorners: Bool, alignMode: Int) throws {
    try requireF32(x, "interp")
    let expect = p.nhwc ? [p.n, p.outH, p.outW, p.c] : [p.n, p.c, p.outH, p.outW]
    guard y.shape == expect else { throw KernelError("interp: output \(y.shape), expected \(expect)") }
    let xp = x.f32, yp = y.f32
    if p.inH == p.outH && p.inW == p.outW {
        // Paddle copies the input when the size does not change.
        yp.update(from: xp, count: x.count)
        return
    }
    // element (n, c, h, w) offsets for both layouts
    let (sN, sC, sH, sW) = p.nhwc ? (p.inH * p.inW * p.c, 1, p.inW * p.c, p.c) : (p.c * p.inH * p.inW, p.inH * p.inW, p.inW, 1)
    let (oN, oC, oH, oW) = p.nhwc ? (p.outH * p.outW * p.c, 1, p.outW * p.c, p.c) : (p.c * p.outH * p.outW, p.outH * p.outW, p.outW, 1)
    if nearest {
        let rows = nearestIndices(out: p.outH, ratio: p.ratioH, alignCorners: alignCorners, input: p.inH)
        let cols = nearestIndices(out: p.outW, ratio: p.ratioW, alignCorners: alignCorners, input: p.inW)
        for n in 0..<p.n { for c in 0..<p.c { for k in 0..<p.outH { for l in 0..<p.outW {
            yp[n * oN + c * oC + k * oH + l * oW] = xp[n * sN + c * sC + rows[k] * sH + cols[l] * sW]
        } } } }
        return
    }
    let alignFlag = alignMode == 0 && !alignCorners
    let rows = bilinearTaps(out: p.outH, ratio: p.ratioH, alignFlag: alignFlag, input: p.inH)
    let cols = bilinearTaps(out: p.outW, ratio: p.ratioW, alignFlag: alignFlag, input: p.inW)
    for n in 0..<p.n { for c in 0..<p.c {
        let base = xp + n * sN + c * sC
        for k in 0..<p.outH {
            let (yn, ys, dS, dN) = rows[k]  // dS weights the north row, dN the south row
            for l in 0..<p.outW {
                let (xw, xe, dE, dW) = cols[l]  // dE weights the west column, dW the east column
                // Paddle: in(yn,xw)*d_s*d_e + in(ys,xw)*d_n*d_e + in(yn,xe)*d_s*d_w + in(ys,xe)*d_n*d_w
                let v = base[yn * sH + xw * sW] * dS * dE + base[ys * sH + xw * sW] * dN * dE
                    + base[yn * sH + xe * sW] * dS * dW + base[ys * sH + xe * sW] * dN * dW
                yp[n * oN + c * oC + k * oH + l * oW] = v
            }
        }
    } }
}

func registerReferenceInterpKernels(_ r: KernelRegistry) {
    for op in InterpSpec.opTypes {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(InterpSpec.self)
            return refReady { io in
                let x = try io.input("X")
                let plan = try interpPlan(spec, io, x: x)
                try interpolate(x, try io.output("Out"), plan, nearest: spec.method == "nearest",
                                alignCorners: spec.alignCorners, alignMode: spec.alignMode)
            }
        }
    }
}
