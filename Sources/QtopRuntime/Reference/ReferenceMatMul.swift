import Foundation
import QtopFormat
import QtopGraph

// matmul_v2 / matmul / mul / fc. Every dot product accumulates in Float over k = 0..<K in order.

/// Batched matmul with Paddle's rules: 1-D X is a row vector [1, K], 1-D Y a column vector [K, 1] (transposes do not
/// apply to 1-D operands), batch dimensions broadcast NumPy-style, the output count is batch·M·N.
func batchedMatMul(x: Tensor, y: Tensor, out: Tensor, transX: Bool, transY: Bool, alpha: Float = 1) throws {
    try requireF32(out, "matmul Out")
    guard x.rank >= 1, y.rank >= 1 else { throw KernelError("matmul: 0-D operand") }
    let xs = x.rank == 1 ? [1, x.shape[0]] : x.shape
    let ys = y.rank == 1 ? [y.shape[0], 1] : y.shape
    let tx = x.rank == 1 ? false : transX, ty = y.rank == 1 ? false : transY
    let (xr, xc) = (xs[xs.count - 2], xs[xs.count - 1])
    let (yr, yc) = (ys[ys.count - 2], ys[ys.count - 1])
    let m = tx ? xc : xr, k = tx ? xr : xc
    let k2 = ty ? yc : yr, n = ty ? yr : yc
    guard k == k2 else { throw KernelError("matmul: inner dimensions \(k) vs \(k2) (X \(x.shape), Y \(y.shape))") }
    let bx = Array(xs.dropLast(2)), by = Array(ys.dropLast(2))
    let rank = max(bx.count, by.count)
    let bxa = Array(repeating: 1, count: rank - bx.count) + bx
    let bya = Array(repeating: 1, count: rank - by.count) + by
    var batch = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        guard bxa[i] == bya[i] || bxa[i] == 1 || bya[i] == 1 else { throw KernelError("matmul: batch dims \(bx) vs \(by)") }
        batch[i] = max(bxa[i], bya[i])
    }
    let batchCount = batch.reduce(1, *)
    guard out.count == batchCount * m * n else { throw KernelError("matmul: output \(out.shape) does not hold \(batchCount)x\(m)x\(n)") }
    let xf = (0..<x.count).map { loadFloat(x, $0) }, yf = (0..<y.count).map { loadFloat(y, $0) }
    let xMat = xr * xc, yMat = yr * yc
    let op = out.f32
    var bxOff = [Int](), byOff = [Int]()
    bxOff.reserveCapacity(batchCount)
    byOff.reserveCapacity(batchCount)
    if rank == 0 {
        bxOff = [0]; byOff = [0]
    } else {
        try forEachBroadcast(out: batch, xDims: bxa, yDims: bya) { _, a, b in
            bxOff.append(a)
            byOff.append(b)
        }
    }
    for bi in 0..<batchCount {
        let xb = bxOff[bi] * xMat, yb = byOff[bi] * yMat
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = 0
                for p in 0..<k {
                    let xv = tx ? xf[xb + p * xc + i] : xf[xb + i * xc + p]
                    let yv = ty ? yf[yb + j * yc + p] : yf[yb + p * yc + j]
                    acc += xv * yv
                }
                op[(bi * m + i) * n + j] = alpha == 1 ? acc : alpha * acc
            }
        }
    }
}

/// Plain row-major [M, K] · [K, N] on flattened tensors (mul, fc), with optional bias [N] and ReLU.
func flatMatMul(x: Tensor, m: Int, k: Int, w: Tensor, n: Int, out: Tensor, bias: [Float]?,
                activation: ((Float) -> Float)? = nil) throws {
    try requireF32(out, "mul/fc Out")
    guard x.count == m * k, w.count == k * n, out.count == m * n else {
        throw KernelError("mul/fc: X \(x.shape) as \(m)x\(k), W \(w.shape) as \(k)x\(n), Out \(out.shape)")
    }
    if let bias, bias.count != n { throw KernelError("fc: Bias has \(bias.count) values for N = \(n)") }
    let xf = (0..<x.count).map { loadFloat(x, $0) }, wf = (0..<w.count).map { loadFloat(w, $0) }
    for i in 0..<m {
        for j in 0..<n {
            var acc: Float = 0
            for p in 0..<k { acc += xf[i * k + p] * wf[p * n + j] }
            if let bias { acc += bias[j] }
            if let activation { acc = activation(acc) }
            out.f32[i * n + j] = acc
        }
    }
}

func registerReferenceMatMulKernels(_ r: KernelRegistry) {
    r.addReference("matmul_v2") { ctx in
        let spec = try ctx.spec(MatMulSpec.self)
        let tx = spec.transX, ty = spec.transY
        return refReady { io in
            try batchedMatMul(x: try io.input("X"), y: try io.input("Y"), out: try io.output("Out"), transX: tx, transY: ty)
        }
    }
    r.addReference("matmul") { ctx in
        let spec = try ctx.spec(MatMulSpec.self)
        let tx = spec.transX, ty = spec.transY, alpha = spec.alpha
        return refReady { io in
            try batchedMatMul(x: try io.input("X"), y: try io.input("Y"), out: try io.output("Out"),
                              transX: tx, transY: ty, alpha: alpha)
        }
    }
    r.addReference("mul") { ctx in
        let spec = try ctx.spec(MulSpec.self)
        let xn = spec.xNumColDims, yn = spec.yNumColDims
        return refReady { io in
            let x = try io.input("X"), y = try io.input("Y")
            guard xn >= 1, xn <= x.rank, yn >= 1, yn <= y.rank else { throw KernelError("mul: num_col_dims out of range") }
            let m = x.shape[..<xn].reduce(1, *), k = x.shape[xn...].reduce(1, *)
            let n = y.shape[yn...].reduce(1, *)
            guard y.shape[..<yn].reduce(1, *) == k else { throw KernelError("mul: X \(x.shape) and Y \(y.shape) do not chain") }
            try flatMatMul(x: x, m: m, k: k, w: y, n: n, out: try io.output("Out"), bias: nil)
        }
    }
    r.addReference("fc") { ctx in
        let spec = try ctx.spec(FCSpec.self)
        let nc = spec.inNumColDims
        let activation = try fusedActivation(spec.activation)
        return refReady { io in
            let x = try io.input("Input"), w = try io.input("W")
            guard nc >= 1, nc <= x.rank, w.rank == 2 else { throw KernelError("fc: in_num_col_dims \(nc) for \(x.shape), W \(w.shape)") }
            let m = x.shape[..<nc].reduce(1, *), k = x.shape[nc...].reduce(1, *)
            guard w.shape[0] == k else { throw KernelError("fc: Input \(x.shape) vs W \(w.shape)") }
            try flatMatMul(x: x, m: m, k: k, w: w, n: w.shape[1], out: try io.output("Out"),
                           bias: io.optionalInput("Bias").map(floatArray), activation: activation)
        }
    }
}
