import QtopFormat
import QtopGraph

/// `fuse-se-upsample`: after fuse-se-add, each FPN step is a `scale_channels_nhwc` whose `Addend` is the coarser
/// level resized by a nearest_interp_v2 (scale 2, f32 NCHW) that nothing else reads. The resize folds into the
/// add: the Addend becomes the coarse tensor and `addend_upsample` the factor, so the scale op reads pixel
/// (h / f, w / f) itself and the full-size resized tensor (96×160×160 floats at det's finest level) is never written
/// or read. Exact: Paddle's nearest index with align_corners false and a `scale` attribute f is int(k · (1/f)),
/// which is k / f for a power of two f (1/f and k · 1/f are exact in Float), and the resized size is in · f, so the
/// add's operands having equal shapes makes H and W multiples of f.
public enum FuseSEUpsample {
    public static let name = "fuse-se-upsample"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    /// The factors whose nearest indices are exactly k / f (see above).
    static let factors: Set<Float> = [2, 4, 8, 16]

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for t in g.nodes where t.type == "scale_channels_nhwc" && !rw.claimed.contains(t.id) {
            guard let spec = try? t.spec(ScaleChannelsNHWCSpec.self), spec.addendUpsample == 1, let z = t.input("Addend"),
                  let r = rw.producer(z, before: t), !rw.claimed.contains(r.id), let f = nearestFactor(r),
                  let c = r.input("X"), rw.values[c]?.dtype == .f32, rw.onlyConsumer(z, of: r, is: t),
                  rw.producer(c, before: r)?.id == rw.producer(c, before: t)?.id else { continue }
            var attrs = t.attrs
            attrs["addend_upsample"] = .int(f)
            let inputs = t.inputs.map { $0.name == "Addend" ? Slot("Addend", [c]) : $0 }
            let fused = t.with(inputs: inputs, attrs: attrs, provenance: t.provenance + r.provenance)
            rw.remove(r, detail: "nearest_interp_v2 (×\(f)) folded into \(t.name)'s Addend")
            rw.replace(t, with: [fused])
            rw.record(.fused, fused, "scale_channels_nhwc + nearest_interp_v2 (×\(f)) → scale_channels_nhwc reading Addend \(c) at (h/\(f), w/\(f))")
        }
        return (rw.finish(), rw.changes)
    }

    /// f when `r` is a nearest_interp_v2 on f32 NCHW whose size and sampling come from a `scale` attribute [f, f]
    /// (f a power of two up to 16) with align_corners false; nil otherwise.
    static func nearestFactor(_ r: Node) -> Int? {
        guard r.type == "nearest_interp_v2", let s = try? r.spec(InterpSpec.self), s.method == "nearest", !s.nhwc, !s.alignCorners,
              s.scale.count == 2, s.scale[0] == s.scale[1], factors.contains(s.scale[0]),
              r.inputs("SizeTensor").isEmpty, r.input("OutSize") == nil, r.input("Scale") == nil else { return nil }
        return Int(s.scale[0])
    }
}
