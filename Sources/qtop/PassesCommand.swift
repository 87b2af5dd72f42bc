import ArgumentParser
import Foundation
import QtopGraph
import QtopPasses
import QtopPipeline
import QtopRuntime

struct PassesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "passes",
        abstract: "Run the fusion pass pipeline and show, per pass, node counts before/after and what changed.")

    @OptionGroup var model: ModelArgument

    @Option(help: "int8 (lower to integer ops; default) or fp32 (strip quantization, then float fusions).")
    var target: String = "int8"

    @Option(help: "Stop after the pass with this name.")
    var stopAfter: String?

    @Flag(help: "Keep only_observer quantize/dequantize pairs (skip drop-observers).")
    var keepObservers = false

    @OptionGroup var shape: ShapeOption

    @Flag(help: "JSON: {passes:[{name,nodes_before,nodes_after,changes:[{kind,node,detail}]}], final:{ops:[{name,type,precision,fused_from}]}}.")
    var json = false

    func run() throws {
        guard let t = PassTarget(rawValue: target), t != .reference else {
            throw CLIError("--target: expected int8 or fp32, got '\(target)'")
        }
        let names = PassManager.pipelineNames(for: t)
        if let stopAfter, !names.contains(stopAfter) {
            throw CLIError("--stop-after: no pass named '\(stopAfter)' (passes: \(names.joined(separator: ", ")))")
        }
        let m = try model.load()
        var graph = m.graph
        // With --shape, the passes see the specialized graph (shape-computing subgraphs can then fold);
        // without it they run on the graph as declared, unknown dims and all.
        let shapes = try shape.given(Engine.declaredInputs(m.graph))
        if !shapes.isEmpty {
            do { graph = try ShapeInference.specialize(graph, inputShapes: shapes) } catch {
                throw CLIError("\(try model.resolvedPath()): \(error)")
            }
        }
        let steps = PassManager.run(graph, PassOptions(target: t, stopAfter: stopAfter, keepObservers: keepObservers))
        let summary = PassSummary(steps: steps)
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try enc.encode(summary), as: UTF8.self))
            return
        }
        print("model: \(try model.resolvedPath())  target: \(t.rawValue)")
        print("step 0  loaded: \(steps[0].graph.nodes.count) nodes")
        for (i, p) in summary.passes.enumerated() {
            print("step \(i + 1)  \(p.name): \(p.nodesBefore) → \(p.nodesAfter) nodes, \(p.changes.count) changes")
            let types = Set(p.countsBefore.keys).union(p.countsAfter.keys).sorted()
            let delta = types.compactMap { ty -> String? in
                let a = p.countsBefore[ty] ?? 0, b = p.countsAfter[ty] ?? 0
                return a == b ? nil : "\(ty) \(a)→\(b)"
            }
            if !delta.isEmpty { print("        " + delta.joined(separator: ", ")) }
            for c in p.changes.prefix(12) { print("        \(c.kind) \(c.node): \(c.detail)") }
            if p.changes.count > 12 { print("        … \(p.changes.count - 12) more (use --json)") }
        }
        print("final graph (\(summary.final.ops.count) nodes):")
        for op in summary.final.ops {
            let fused = op.fusedFrom.count > 1 ? "  ← " + op.fusedFrom.joined(separator: " + ") : ""
            print("  \(op.precision.padding(toLength: 5, withPad: " ", startingAt: 0)) \(op.type.padding(toLength: 20, withPad: " ", startingAt: 0)) \(op.name)\(fused)")
        }
    }
}
