import QtopGraph
import QtopRuntime

extension KernelRegistry {
    /// The first kernel this registry builds for `node` at or below `cap` on this CPU, with its exec type, as the
    /// planner would pick it; throws listing every rejection when none builds.
    func firstKernel(for node: Node, _ values: [String: ValueInfo], cap: ISALevel) throws -> (Kernel, String) {
        let g = Graph(nodes: [node], values: values, inputs: [], outputs: [])
        let ctx = KernelBuildContext(node: node, graph: g, isaCap: cap, available: NativeCPU.isaSet)
        var why: [String] = []
        for e in candidates(for: node.type) where NativeCPU.isaSet.contains(e.isa) && e.isa <= cap {
            switch try e.make(ctx) {
            case .ready(let k): return (k, e.execType.description)
            case .rejected(let r): why.append("\(e.execType): \(r)")
            }
        }
        throw KernelError("no kernel: \(why)")
    }
}
