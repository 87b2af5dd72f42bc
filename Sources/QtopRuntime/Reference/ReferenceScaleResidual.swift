import QtopFormat
import QtopGraph

/// scale_residual (ScaleResidualSpec): out = x + x * s[n, c], the product rounded to Float before the sum, exactly
/// as Paddle's elementwise_mul then elementwise_add; then + Addend (its elementwise_add) when given.
func registerReferenceScaleResidual(_ r: KernelRegistry) {
    r.addReference("scale_residual") { _ in
        refReady { io in
            let x = try io.input("X"), s = try io.input("Scale"), y = try io.output("Out")
            try requireF32(x, "scale_residual")
            try requireF32(s, "scale_residual")
            let (rows, inner, shared): (Int, Int, Bool)
            do { (rows, inner, shared) = try ScaleResidualSpec.split(x: x.shape, scale: s.shape) } catch { throw KernelError("\(error)") }
            guard y.shape == x.shape else { throw KernelError("scale_residual: Out \(y.shape) for X \(x.shape)") }
            let z = io.optionalInput("Addend")
            if let z { guard z.dtype == .f32, z.shape == x.shape else { throw KernelError("scale_residual: Addend \(z.shape) for X \(x.shape)") } }
            let c = x.shape[1], xp = x.f32, sp = s.f32, yp = y.f32
            for r in 0..<rows {
                let g = sp[shared ? r % c : r]
                for i in r * inner..<(r + 1) * inner {
                    let v = xp[i]
                    let m = v * g
                    let r = v + m
                    yp[i] = z.map { r + $0.f32[i] } ?? r
                }
            }
        }
    }
}
