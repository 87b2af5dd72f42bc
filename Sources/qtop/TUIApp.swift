import Foundation
import QtopGraph
import QtopPasses
import QtopPipeline
import QtopRuntime
import QtopTerminal
import QtopUI

/// Glue between the CLI and the TUI.
///
/// `TUIApp.run(model:config:options:)` is what `qtop MODEL` calls after loading the model: it builds the engine,
/// starts a `LiveRunner` in the background, runs the TUI until the user quits and stops the runner.
enum TUIApp {
    static func run(model: LoadedModel, engine: Engine? = nil, config: RunConfig, options: TUIOptions) throws {
        let engine = engine ?? Engine(graph: model.graph)
        // With input dims still unknown the runner waits for the shapes the UI asks for.
        let runner = LiveRunner(engine: engine, config: config, idle: options.askShapes)
        let feed = LiveRunnerFeed(runner: runner, original: engine.original)
        // The timeline is keyed by the shapes the user chose, so fold-shape-computation shows what folded for them
        // (as `qtop passes --shape` does); without shapes it is the declared graph's history, computed once.
        let steps: PassHistoryProvider = { mode, shapes in
            if mode == .reference { return [PassStep(name: "loaded", graph: engine.original, changes: [])] }
            return shapes.isEmpty ? engine.passSteps(for: mode) : engine.passSteps(for: mode, options: PassOptions(inputShapes: shapes))
        }
        let initial = steps(config.mode, options.givenShapes)
        runner.start()
        defer { runner.stop() }
        try runTUI(model: model, passes: initial, feed: feed, options: options, passesForMode: steps)
    }
}
