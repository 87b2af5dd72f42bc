import Foundation
import QtopFormat
import QtopGraph

// layer_norm with Paddle's CPU formula: per row mean, biased variance, y = (x - mean) / sqrt(var + eps) · scale + bias.

/// Normalizes `rows` rows of `cols` floats: mean = Σx / cols, var = Σ(x - mean)² / cols (both summed in Float in
/// index order), y = (x - mean) · (1 / sqrt(var + eps)), then · scale[j], then + bias[j].
func layerNorm(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, eps: Float,
               scale: [Float]?, bias: [Float]?, mean: UnsafeMutablePointer<Float>?, variance: UnsafeMutablePointer<Float>?) {
    for r in 0..<rows {
        let xr = x + r * cols, yr = y + r * cols
        var sum: Float = 0
        for j in 0..<cols { sum += xr[j] }
        let m = sum / Float(cols)
        var sq: Float = 0
        for j in 0..<cols { let d = xr[j] - m; sq += d * d }
        let v = sq / Float(cols)
        let inv = 1 / (v + eps).squareRoot()
        for j in 0..<cols {
            var o = (xr[j] - m) * inv
            if let scale { o *= scale[j] }
            if let bias { o += bias[j] }
            yr[j] = o
        }
        mean?[r] = m
        variance?[r] = v
    }
}

func registerReferenceNormKernels(_ r: KernelRegistry) {
    r.addReference("layer_norm") { ctx in
        let spec = try ctx.spec(LayerNormSpec.self)
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Y")
            try requireF32(x, "layer_norm")
            try requireSameCount(x, y, "layer_norm")
            let (rows, cols): (Int, Int)
            do { (rows, cols) = try spec.split(x.shape) } catch { throw KernelError("\(error)") }
            let scale = io.optionalInput("Scale").map(floatArray), bias = io.optionalInput("Bias").map(floatArray)
            if let scale, scale.count != cols { throw KernelError("layer_norm: Scale has \(scale.count) values for rows of \(cols)") }
            if let bias, bias.count != cols { throw KernelError("layer_norm: Bias has \(bias.count) values for rows of \(cols)") }
            let mean = io.optionalOutput("Mean"), variance = io.optionalOutput("Variance")
            for t in [mean, variance].compactMap({ $0 }) where t.count != rows || t.dtype != .f32 {
                throw KernelError("layer_norm: Mean/Variance \(t.shape) for \(rows) rows")
            }
            layerNorm(x: x.f32, y: y.f32, rows: rows, cols: cols, eps: spec.epsilon, scale: scale, bias: bias,
                      mean: mean?.f32, variance: variance?.f32)
        }
    }
}
