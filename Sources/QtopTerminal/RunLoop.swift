import Foundation
import QtopGraph
import QtopPasses
import QtopProfile
import QtopUI

/// Runs the interactive TUI until the user quits. Call it after the model has loaded (so bad files fail before the
/// screen is taken over). Throws for a bad `--theme` or when stdin/stdout is not a terminal, before touching the
/// screen; the terminal is restored on every exit path (return, throw, SIGINT/SIGTERM, crash signals).
/// `passes` is the pass history (step 0 = the graph as loaded); empty means "just the loaded graph".
/// `passesForMode`, when given, supplies the history of the graph each mode runs (int8 and fp32 lower differently,
/// reference runs the loaded graph) for the input shapes chosen (`--shape`, the prompt, `s`); it is called on the UI
/// thread when the running mode or those shapes change.
public func runTUI(model: LoadedModel, passes: [PassStep], feed: ProfileFeed, options: TUIOptions,
                   passesForMode: PassHistoryProvider? = nil) throws {
    let steps = passes.isEmpty ? [PassStep(name: "loaded", graph: model.graph, changes: [])] : passes
    try runTUI(modelName: model.displayName, passes: steps, feed: feed, options: options, passesForMode: passesForMode)
}

/// The same, for callers without a `LoadedModel` (the demo, tests with a hand-made graph).
public func runTUI(modelName: String, passes: [PassStep], feed: ProfileFeed, options: TUIOptions,
                   passesForMode: PassHistoryProvider? = nil) throws {
    let (themes, index) = try App.loadThemes(requested: options.theme)
    let term = try NcursesTerminal()
    defer { term.close() }
    try runLoop(term: term, modelName: modelName, passes: passes, feed: feed, options: options, themes: themes,
                themeIndex: index, passesForMode: passesForMode)
}

/// The event loop over any backend: draw, wait for input up to the next tick, poll the feed every `tickMs`.
public func runLoop(term: TerminalBackend, modelName: String, passes: [PassStep], feed: ProfileFeed, options: TUIOptions,
                    themes: [Theme], themeIndex: Int, passesForMode: PassHistoryProvider? = nil,
                    maxIterations: Int? = nil) throws {
    let ascii = options.ascii ?? !term.localeIsUTF8
    let color = colorEnabled(option: options.color) && term.colorDepth != .none
    let app = App(modelName: modelName, passes: passes, feed: feed, themes: themes, themeIndex: themeIndex,
                  size: term.size, ascii: ascii, color: color, view: options.initialView, passesForMode: passesForMode,
                  askShapes: options.askShapes, startMode: options.startMode, givenShapes: options.givenShapes)
    let tick = Double(max(10, options.tickMs)) / 1000
    var nextTick = Date().addingTimeInterval(tick)
    var iterations = 0
    term.present(app.frame())
    while !app.shouldQuit {
        if let limit = maxIterations, iterations >= limit { break }
        iterations += 1
        let waitMs = max(0, Int(nextTick.timeIntervalSinceNow * 1000))
        if let ev = term.nextEvent(timeoutMs: waitMs) {
            switch ev {
            case .key(.ctrl("l")): term.invalidate()
            case .key(let k): app.send(.key(k))
            case .mouse(let b, let x, let y): app.send(.mouse(b, x: x, y: y))
            case .resize(let s): app.send(.resize(s))
            }
        }
        if Date() >= nextTick {
            app.tick()
            nextTick = Date().addingTimeInterval(tick)
        }
        if !app.shouldQuit { term.present(app.frame()) }
    }
}
