import Foundation
import QtopGraph
import QtopPasses
import QtopRuntime
import QtopTerminal
import QtopUI

/// Glue between the CLI and the TUI.
///
/// `TUIApp.run(model:config:options:)` is what `qtop MODEL` calls after loading the model: it builds the engine,
/// starts a `LiveRunner` in the background, runs the TUI until the user quits and stops the runner.
/// `QTOP_TUI_DEMO=1` (checked by `runDemoIfRequested()`) runs the TUI on a built-in tiny model and a fake feed.
enum TUIApp {
    static func run(model: LoadedModel, engine: Engine? = nil, config: RunConfig, options: TUIOptions) throws {
        let engine = engine ?? Engine(graph: model.graph)
        let runner = LiveRunner(engine: engine, config: config)
        let feed = LiveRunnerFeed(runner: runner, original: engine.original)
        let steps = { (mode: ExecMode) -> [PassStep] in
            mode == .reference ? [PassStep(name: "loaded", graph: engine.original, changes: [])] : engine.passSteps(for: mode)
        }
        let initial = steps(config.mode)
        runner.start()
        defer { runner.stop() }
        try runTUI(model: model, passes: initial, feed: feed, options: options, passesForMode: steps)
    }

    /// Runs the demo and returns true when `QTOP_TUI_DEMO` is set (`1` = built-in model and fake feed, a path = that
    /// model with the real runner); otherwise returns false immediately.
    /// Honours `QTOP_TUI_THEME`, `QTOP_TUI_ASCII=1`, and `NO_COLOR`.
    static func runDemoIfRequested(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let v = environment["QTOP_TUI_DEMO"], !v.isEmpty, v != "0" else { return false }
        var options = TUIOptions()
        options.theme = environment["QTOP_TUI_THEME"] ?? "default"
        if environment["QTOP_TUI_ASCII"] == "1" { options.ascii = true }
        do {
            if v == "1" {
                try runTUI(modelName: DemoData.modelName, passes: DemoData.passes(), feed: DemoData.feed(animated: true), options: options)
            } else {
                // QTOP_TUI_DEMO=path/to/model.pdmodel: the real runner on a real model, default settings.
                let model = try ModelLoader.load(v)
                let engine = Engine(graph: model.graph)
                let config = RunConfig(mode: engine.defaultMode, isaCap: NativeCPU.bestISA,
                                       threads: ProcessInfo.processInfo.activeProcessorCount)
                try run(model: model, config: config, options: options)
            }
        } catch {
            FileHandle.standardError.write("qtop: \(error)\n".data(using: .utf8)!)
            exit(1)
        }
        return true
    }
}

/// The runtime's `LiveRunner` as the TUI's `ProfileFeed`.
final class LiveRunnerFeed: ProfileFeed, @unchecked Sendable {
    let runner: LiveRunner
    let availableISAs: [ISALevel]
    let cpuName: String
    let detectedISA: ISALevel
    private let idByName: [String: Int]

    init(runner: LiveRunner, original: Graph) {
        self.runner = runner
        let usable = NativeCPU.usableISAs
        availableISAs = usable.isEmpty ? [.generic] : usable.sorted()
        cpuName = NativeCPU.modelName
        detectedISA = NativeCPU.bestISA
        idByName = Dictionary(original.nodes.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
    }

    func latest() -> ProfileSnapshot? { runner.latest() }
    func setMode(_ mode: ExecMode) { runner.setMode(mode) }
    func setISACap(_ cap: ISALevel) { runner.setISACap(cap) }
    func resetStatistics() { runner.resetStatistics() }
    func dispatch(nodeID: Int) -> DispatchDecision? { runner.dispatch(nodeID: nodeID) }
    var lastError: String? { runner.error }

    func comparison() -> [CompareRow]? {
        let rows: [ModeComparison]? = runner.comparison()
        return rows?.map { r in
            CompareRow(nodeID: idByName[r.name] ?? -1, name: r.name, layerType: r.layerType,
                       int8Ms: r.int8Ms > 0 ? r.int8Ms : nil, fp32Ms: r.fp32Ms > 0 ? r.fp32Ms : nil)
        }
    }
}
