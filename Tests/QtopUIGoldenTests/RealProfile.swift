import Foundation
import QtopGraph
import QtopPasses
import QtopPipeline
import QtopRuntime
import QtopTestSupport
@testable import QtopUI

/// A real profile of samples/shapes_int8 through the pipeline (load → passes → plan → run → profile), with every
/// timing replaced by a fixed pattern, so the golden screens show exactly what the runtime emits (layer names,
/// exec types, precisions, dispatch decisions, pass history) and fail when runtime and UI drift apart.
///
/// Plans are made at the ISA cap `generic` with every ISA taken as present, so every machine makes the same
/// choices and rejects the others for the same reason ("above the ISA cap").
enum RealProfile {
    struct Fixture {
        let modelName: String
        let passes: [PassStep]
        let snapshot: ProfileSnapshot
        let comparison: [CompareRow]
        let dispatch: [Int: DispatchDecision]
    }

    static let sample = "shapes_int8"

    /// Computed once per test process (a few inferences of a small sample).
    nonisolated(unsafe) static let shared: Fixture = {
        do { return try make() } catch { fatalError("profiling \(sample) failed: \(error)") }
    }()

    static func make() throws -> Fixture {
        let model = try ModelLoader.load(RepoPaths.sample("\(sample).pdmodel"))
        let engine = Engine(graph: model.graph)
        let everywhere = Set(ISALevel.allCases)
        var profiles: [ExecMode: (Executor, Profiler)] = [:]
        for mode in [ExecMode.fp32, .int8] {
            let e = try engine.executor(RunConfig(mode: mode, isaCap: .generic, threads: 1), available: everywhere)
            let p = Profiler()
            let inputs = Engine.randomInputs(for: e)
            for _ in 0..<3 { try e.run(inputs, profiler: p) }
            profiles[mode] = (e, p)
        }
        let (e, p) = profiles[.int8]!
        let snapshot = ProfileSnapshot.build(executor: e, profiler: p, mode: .int8, isaCap: .generic, threads: 1,
                                             original: engine.original)
        let rows = ModeComparison.rows(int8: profiles[.int8]!, fp32: profiles[.fp32]!, original: engine.original)
        let dispatch = Dictionary(e.steps.map { ($0.node.id, $0.decision) }, uniquingKeysWith: { a, _ in a })
        return Fixture(modelName: model.displayName, passes: engine.passSteps(for: .int8),
                       snapshot: masked(snapshot),
                       comparison: masked(CompareRow.rows(rows, idByName: CompareRow.idByName(engine.original))),
                       dispatch: dispatch)
    }

    /// A deterministic stand-in for a measured time: 0.01 ms × 1…11, spread over the rows by their index.
    static func fakeMs(_ i: Int) -> Double { 0.01 * Double(1 + (i * 7) % 11) }

    /// Every timing of `s` replaced by the fixed pattern; structure (rows, exec types, precisions) untouched.
    static func masked(_ s: ProfileSnapshot) -> ProfileSnapshot {
        var out = s
        var total = 0.0
        for i in out.layers.indices where out.layers[i].status == .executed {
            let ms = fakeMs(i)
            out.layers[i].lastMs = ms * 1.1
            out.layers[i].meanMs = ms
            out.layers[i].medianMs = ms
            out.layers[i].minMs = ms * 0.9
            out.layers[i].cpuMs = ms
            out.layers[i].history = (0..<40).map { (k: Int) -> Double in
                let step = Double((k * 3 + i) % 10)
                return ms * (0.9 + 0.02 * step)
            }
            total += ms
        }
        for i in out.layers.indices { out.layers[i].percent = total > 0 ? out.layers[i].meanMs / total * 100 : 0 }
        out.runs = 100
        out.totalMs = total
        out.totalCpuMs = total
        out.latencyMedianMs = total * 1.05
        out.latencyP90Ms = total * 1.2
        out.latencyMinMs = total
        out.latencyMaxMs = total * 1.5
        out.latencyLastMs = total * 1.1
        out.latencyHistory = (0..<120).map { (k: Int) -> Double in
            let step = Double((k * 7) % 13)
            return total * (1 + 0.01 * step)
        }
        out.fps = 1000 / (total * 1.05)
        return out
    }

    static func masked(_ rows: [CompareRow]) -> [CompareRow] {
        rows.enumerated().map { i, r in
            var m = r
            m.int8Ms = r.int8Ms.map { _ in fakeMs(i) }
            m.fp32Ms = r.fp32Ms.map { _ in fakeMs(i + 3) * 2 }
            return m
        }
    }
}

/// An App over the real profile, served by a scripted feed with a fixed CPU.
func makeApp(size: Size = Size(width: 100, height: 30), ascii: Bool = false, color: Bool = true,
             view: ViewKind = .profile, themes: [Theme] = [.builtinDefault]) -> (App, FakeFeed) {
    let f = RealProfile.shared
    let feed = FakeFeed(snapshot: f.snapshot, comparison: f.comparison, dispatch: f.dispatch, cpuName: "Test CPU @ 3.0GHz",
                        availableISAs: ISALevel.allCases.filter { !$0.isARM })
    let app = App(modelName: f.modelName, passes: f.passes, feed: feed, themes: themes, size: size, ascii: ascii,
                  color: color, view: view)
    return (app, feed)
}

/// The same model as if its height and width were unknown ([-1,3,-1,-1]) and no --shape was given: the app
/// opens with the shape prompt and the feed has nothing yet.
func makeUnknownShapeApp(size: Size = Size(width: 100, height: 30), view: ViewKind = .graph) -> (App, FakeFeed) {
    let f = RealProfile.shared
    var passes = f.passes
    var g0 = passes[0].graph
    g0.values["x"]!.shape = [-1, 3, -1, -1]
    passes[0] = PassStep(name: passes[0].name, graph: g0, changes: passes[0].changes)
    let feed = FakeFeed(snapshot: nil, cpuName: "Test CPU @ 3.0GHz", availableISAs: ISALevel.allCases.filter { !$0.isARM })
    let app = App(modelName: f.modelName, passes: passes, feed: feed, themes: [.builtinDefault], size: size, ascii: false,
                  color: true, view: view, askShapes: true)
    return (app, feed)
}

/// The real profile's passes with hand-made layer paths, as a Paddle 3 program would carry them: the first
/// half of the nodes under /Net/backbone (two stages), the rest under /Net/head.
func withLayerPaths(_ steps: [PassStep]) -> [PassStep] {
    steps.map { step in
        var g = step.graph
        let n = g.nodes.count
        g.nodes = g.nodes.enumerated().map { i, node in
            if node.type == "feed" || node.type == "fetch" { return node }
            let path = i < n / 4 ? "/Net/backbone/stage0" : i < n / 2 ? "/Net/backbone/stage1" : "/Net/head/fc"
            return node.with(layerPath: .some(path + "/" + node.type))
        }
        return PassStep(name: step.name, graph: g, changes: step.changes)
    }
}

func makeLayerPathApp(size: Size = Size(width: 100, height: 30)) -> (App, FakeFeed) {
    let f = RealProfile.shared
    let feed = FakeFeed(snapshot: f.snapshot, comparison: f.comparison, dispatch: f.dispatch, cpuName: "Test CPU @ 3.0GHz",
                        availableISAs: ISALevel.allCases.filter { !$0.isARM })
    let app = App(modelName: f.modelName, passes: withLayerPaths(f.passes), feed: feed, themes: [.builtinDefault], size: size,
                  ascii: false, color: true, view: .graph)
    return (app, feed)
}
