import Foundation
import QtopGraph
import QtopPasses
import QtopRuntime
import QtopUI

/// Runs the interactive TUI until the user quits. Call it after the model has loaded (so bad files fail before the
/// screen is taken over). Throws for a bad `--theme` or when stdin/stdout is not a terminal, before touching the
/// screen; the terminal is restored on every exit path (return, throw, SIGINT/SIGTERM, crash signals).
/// `passes` is the pass history (step 0 = the graph as loaded); empty means "just the loaded graph".
/// `passesForMode`, when given, supplies the history of the graph each mode runs (int8 and fp32 lower differently,
/// reference runs the loaded graph); it is called on the UI thread when the running mode changes.
public func runTUI(model: LoadedModel, passes: [PassStep], feed: ProfileFeed, options: TUIOptions,
                   passesForMode: ((ExecMode) -> [PassStep])? = nil) throws {
    let steps = passes.isEmpty ? [PassStep(name: "loaded", graph: model.graph, changes: [])] : passes
    try runTUI(modelName: model.displayName, passes: steps, feed: feed, options: options, passesForMode: passesForMode)
}

/// The same, for callers without a `LoadedModel` (the demo, tests with a hand-made graph).
public func runTUI(modelName: String, passes: [PassStep], feed: ProfileFeed, options: TUIOptions,
                   passesForMode: ((ExecMode) -> [PassStep])? = nil) throws {
    let (themes, index) = try App.loadThemes(requested: options.theme)
    let term = try NcursesTerminal()
    defer { term.close() }
    try runLoop(term: term, modelName: modelName, passes: passes, feed: feed, options: options, themes: themes,
                themeIndex: index, passesForMode: passesForMode)
}

