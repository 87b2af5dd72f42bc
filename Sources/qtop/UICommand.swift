import ArgumentParser
import Foundation
import QtopGraph
import QtopPipeline
import QtopProfile
import QtopRuntime
import QtopUI

/// `qtop [MODEL]`: the interactive UI. The model is loaded (and every file error reported, exit status 2) before the
/// terminal is taken over.
struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ui",
        abstract: "Open the interactive UI: graph and pass timeline, live per-layer hotspots with ISA, int8 vs fp32.")

    @OptionGroup var model: ModelArgument
    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Theme name (default, light, high-contrast, 16color) or path to a .theme file.")
    var theme: String = "default"

    @Flag(help: "ASCII glyphs only (default: decided from the locale).")
    var ascii = false

    @Flag(help: "No colours (also when NO_COLOR is set).")
    var noColor = false

    @Option(help: "View to open with: graph, profile or compare.")
    var view: String = "graph"

    func run() throws {
        let path = try model.resolvedPath()
        let loaded = try loadModel(path)
        let engine = Engine(graph: loaded.graph)
        var config = try runtime.config(for: engine)
        // Bad --shape values fail here, before the screen is taken; dims still unknown are asked for in the UI.
        let given = try runtime.shape.given(engine.declaredInputs)
        let resolved = try? InputShapes.resolve(engine.declaredInputs, given: given).get()
        config.inputShapes = resolved ?? given
        guard let initial = ViewKind.allCases.first(where: { $0.title.lowercased() == view.lowercased() }) else {
            throw CLIError("--view: expected graph, profile or compare, got '\(view)'")
        }
        guard isatty(0) != 0, isatty(1) != 0 else {
            throw CLIError("the UI needs a terminal; use `qtop report` or `qtop graph` for text output")
        }
        var options = TUIOptions(ascii: ascii ? true : nil, theme: theme, color: noColor ? false : nil)
        options.initialView = initial
        options.askShapes = resolved == nil
        options.startMode = config.mode
        options.givenShapes = given
        do {
            try TUIApp.run(model: loaded, engine: engine, config: config, options: options)
        } catch let e as CLIError {
            throw e
        } catch {
            throw CLIError("\(error)")
        }
    }
}
