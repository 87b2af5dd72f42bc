import Foundation
import QtopTerminal
import QtopUI

/// Glue between the CLI and the TUI.
///
/// The CLI calls `runTUI(model:passes:feed:options:)` (QtopTerminal) after loading the model. For a look at the UI
/// without a model or runner, `QTOP_TUI_DEMO=1 qtop` (wired by calling `TUIApp.runDemoIfRequested()` first thing
/// in main.swift) runs it on a built-in tiny model and an animated fake feed.
enum TUIApp {
    /// Runs the demo and returns true when `QTOP_TUI_DEMO` is set; otherwise returns false immediately.
    /// Honours `QTOP_TUI_THEME`, `QTOP_TUI_ASCII=1`, and `NO_COLOR`.
    static func runDemoIfRequested(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let v = environment["QTOP_TUI_DEMO"], !v.isEmpty, v != "0" else { return false }
        var options = TUIOptions()
        options.theme = environment["QTOP_TUI_THEME"] ?? "default"
        if environment["QTOP_TUI_ASCII"] == "1" { options.ascii = true }
        do {
            try runTUI(modelName: DemoData.modelName, passes: DemoData.passes(), feed: DemoData.feed(animated: true), options: options)
        } catch {
            FileHandle.standardError.write("qtop: \(error)\n".data(using: .utf8)!)
            exit(1)
        }
        return true
    }
}
