import Foundation
import QtopPasses
import QtopRuntime

/// What a terminal backend reports.
public enum TerminalEvent: Equatable, Sendable {
    case key(Key)
    case mouse(MouseButton, x: Int, y: Int)
    case resize(Size)
}

/// A screen the run loop can draw on: ncurses in real use, anything else in tests.
public protocol TerminalBackend: AnyObject {
    var size: Size { get }
    var colorDepth: ColorDepth { get }
    var localeIsUTF8: Bool { get }
    /// Waits up to `timeoutMs` for input; nil on timeout.
    func nextEvent(timeoutMs: Int) -> TerminalEvent?
    /// Shows `grid`, sending only the cells that changed since the last call.
    func present(_ grid: CellGrid)
    /// Forgets what is on screen so the next `present` redraws everything (Ctrl-L).
    func invalidate()
    /// Gives the terminal back (idempotent).
    func close()
}

extension TerminalBackend {
    public func invalidate() {}
}

/// The event loop over any backend: draw, wait for input up to the next tick, poll the feed every `tickMs`.
public func runLoop(term: TerminalBackend, modelName: String, passes: [PassStep], feed: ProfileFeed, options: TUIOptions,
                    themes: [Theme], themeIndex: Int, passesForMode: ((ExecMode) -> [PassStep])? = nil,
                    maxIterations: Int? = nil) throws {
    let ascii = options.ascii ?? !term.localeIsUTF8
    let color = colorEnabled(option: options.color) && term.colorDepth != .none
    let app = App(modelName: modelName, passes: passes, feed: feed, themes: themes, themeIndex: themeIndex,
                  size: term.size, ascii: ascii, color: color, view: options.initialView, passesForMode: passesForMode)
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
