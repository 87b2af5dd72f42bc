import QtopGraph

/// `remove-dropout`: dropout at inference in `upscale_in_train` mode (or with dropout_prob 0) is the identity, so
/// its readers read its input and the node goes (transformer blocks carry one after every attention softmax and
/// projection). `downgrade_in_infer` with p > 0 scales by 1 - p and stays. A dropout whose output is a graph output,
/// whose Mask is read, or whose input is rewritten before a reader sees the output (non-SSA programs) stays too.
/// The pipelines show this step only when it removed something.
public enum RemoveInferenceDropout {
    public static let name = "remove-dropout"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for n in g.nodes where n.type == "dropout" {
            guard let spec = try? n.spec(DropoutSpec.self), spec.upscaleInTrain || spec.prob == 0,
                  let x = n.input("X"), let o = n.output("Out"), x != o, !rw.isGraphOutput(o, of: n) else { continue }
            if let mask = n.output("Mask"), !rw.consumers(mask, of: n).isEmpty || rw.isGraphOutput(mask, of: n) { continue }
            let source = rw.producer(x, before: n)?.id
            guard rw.consumers(o, of: n).allSatisfy({ rw.producer(x, before: $0)?.id == source }) else { continue }
            rw.rename(o, to: x, writtenBy: n)
            rw.remove(n, detail: "dropout (\(spec.upscaleInTrain ? "upscale_in_train" : "p = 0")) is the identity at inference: readers read \(x)")
        }
        return (rw.finish(), rw.changes)
    }
}
