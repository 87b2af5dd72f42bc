import QtopGraph

/// Runs named passes in order and records one snapshot per pass.
public enum PassManager {
    /// The pass names of each target, in order.
    public static func pipelineNames(for target: PassTarget) -> [String] { defaultPipeline(for: target).map(\.name) }

    public static func defaultPipeline(for target: PassTarget) -> [Pass] {
        switch target {
        case .int8:
            return [FoldShapeComputation.pass, DropObservers.pass, QDQToFakeQuantize.pass, FoldWeightDequant.pass, FoldBatchNorm.pass,
                    FuseResidualAdd.pass, FuseActivation.pass, LowerInt8.pass, FuseSEAdd.pass, FuseSEUpsample.pass,
                    FuseScaleResidual.pass,
                    RemoveInferenceDropout.pass, FuseChannelShuffle.pass, DeadCode.pass]
        case .fp32:
            return [FoldShapeComputation.pass, DropObservers.pass, StripQuantization.pass, FoldBatchNorm.pass, FuseResidualAdd.pass,
                    FuseActivation.pass, FuseScaleResidual.pass, RemoveInferenceDropout.pass, FuseChannelShuffle.pass, DeadCode.pass]
        case .reference:
            return []
        }
    }

    /// Every pass by name (for running one pass alone, e.g. in tests or `--pass`).
    public static let allPasses: [Pass] = [FoldShapeComputation.pass, DropObservers.pass, QDQToFakeQuantize.pass, FoldWeightDequant.pass,
                                           StripQuantization.pass, FoldBatchNorm.pass, FuseResidualAdd.pass,
                                           FuseActivation.pass, LowerInt8.pass, RemoveInferenceDropout.pass, DeadCode.pass,
                                           DequantizeFoldedWeights.pass, FuseChannelShuffle.pass, FuseScaleResidual.pass, FuseSEAdd.pass,
                                           FuseSEUpsample.pass]

    public static func pass(named name: String) -> Pass? { allPasses.first { $0.name == name } }

    /// Passes that act on some model families only: their timeline step appears only when they changed something.
    static let omittedWhenUnchanged: Set<String> = [FoldShapeComputation.name, RemoveInferenceDropout.name, FuseChannelShuffle.name,
                                                    FuseScaleResidual.name, FuseSEAdd.name, FuseSEUpsample.name]

    /// Step 0 is the graph as loaded; each pass of the target's pipeline appends its snapshot
    /// (`fold-shape-computation`, `remove-dropout` and `fuse-channel-shuffle` only when they changed something).
    public static func run(_ graph: Graph, _ options: PassOptions = PassOptions()) -> [PassStep] {
        run(graph, passes: defaultPipeline(for: options.target), options)
    }

    public static func run(_ graph: Graph, passes: [Pass], _ options: PassOptions) -> [PassStep] {
        var steps = [PassStep(name: "loaded", graph: graph, changes: [])]
        var g = graph
        for p in passes {
            if p.name == DropObservers.name && options.keepObservers { continue }
            let (next, changes) = p.run(g, options)
            // A model without shape computations (or none known yet), dropout or channel shuffles gets no empty
            // step for those passes in its timeline.
            if !(omittedWhenUnchanged.contains(p.name) && changes.isEmpty) {
                steps.append(PassStep(name: p.name, graph: next, changes: changes))
            }
            g = next
            if p.name == options.stopAfter { break }
        }
        return steps
    }

    /// The final graph of a pipeline run.
    public static func lower(_ graph: Graph, _ options: PassOptions = PassOptions()) -> Graph {
        run(graph, options).last!.graph
    }
}
