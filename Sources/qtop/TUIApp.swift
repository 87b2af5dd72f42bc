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
        let steps = { (mode: ExecMode) -> [PassStep] in
            mode == .reference ? [PassStep(name: "loaded", graph: engine.original, changes: [])] : engine.passSteps(for: mode)
        }
        let initial = steps(config.mode)
        runner.start()
        defer { runner.stop() }
        try runTUI(model: model, passes: initial, feed: feed, options: options, passesForMode: steps)
    }
}
