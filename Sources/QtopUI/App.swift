import Foundation
import QtopPasses
import QtopProfile

/// Gives the pass history (step 0 = as loaded) of the graph `mode` runs, specialized for these input shapes
/// (empty: the declared ones). Called on the UI thread when the running mode or the chosen shapes change.
public typealias PassHistoryProvider = (ExecMode, [String: [Int]]) -> [PassStep]

/// Glue between the pure core and the outside: owns the state, polls the feed, carries out effects.
/// Terminal-free, so tests drive it with a `FakeFeed`; the curses backend only feeds it keys and presents `frame()`.
public final class App {
    public private(set) var state: AppState
    public let feed: ProfileFeed
    public let themes: [Theme]
    /// Gives the pass history of the graph a mode runs; asked when the running mode or the chosen shapes change
    /// (nil = fixed history).
    public let passesForMode: PassHistoryProvider?

    public init(modelName: String, passes: [PassStep], feed: ProfileFeed, themes: [Theme], themeIndex: Int = 0,
                size: Size, ascii: Bool, color: Bool, view: ViewKind = .profile,
                passesForMode: PassHistoryProvider? = nil, askShapes: Bool = false, startMode: ExecMode = .int8,
                givenShapes: [String: [Int]] = [:]) {
        self.feed = feed
        self.passesForMode = passesForMode
        self.themes = themes.isEmpty ? [.builtinDefault] : themes
        state = AppState(modelName: modelName, passes: passes, cpuName: feed.cpuName, detectedISA: feed.detectedISA,
                         availableISAs: feed.availableISAs, size: size, ascii: ascii, color: color,
                         themeNames: self.themes.map(\.name), view: view)
        state.themeIndex = max(0, min(themeIndex, self.themes.count - 1))
        state.startMode = startMode
        state.givenShapes = givenShapes
        if askShapes {
            state.shapesNeeded = true
            openShapePrompt(&state)
        }
        poll()
    }

    public var theme: Theme { themes[state.themeIndex % themes.count] }

    /// Applies an action and carries out the effects it asks for.
    public func send(_ action: Action) {
        let (next, effects) = reduce(state, action)
        state = next
        for e in effects {
            switch e {
            case .setMode(let m): feed.setMode(m)
            case .setISACap(let c): feed.setISACap(c)
            case .setInputShapes(let shapes): feed.setInputShapes(shapes)
            case .resetStatistics: feed.resetStatistics()
            case .fetchDispatch(let id): state = reduce(state, .dispatchInfo(nodeID: id, feed.dispatch(nodeID: id))).0
            case .saveScreen: saveScreen()
            case .quit: break
            }
        }
    }

    /// Takes the latest data from the feed unless frozen (freezing just means not taking new snapshots).
    public func poll() {
        if feed.lastError != state.feedError { state = reduce(state, .feedError(feed.lastError)).0 }
        guard !state.frozen else { return }
        state = reduce(state, .snapshot(feed.latest())).0
        if let provider = passesForMode, let mode = state.snapshot?.mode,
           mode != state.passesMode || state.chosenShapes != state.passesShapes {
            let shapes = state.chosenShapes
            state = reduce(state, .passes(mode, provider(mode, shapes), shapes: shapes)).0
        }
        // Only while the compare view is open: a runner may start measuring the other mode when asked.
        if state.view == .compare { state = reduce(state, .comparison(feed.comparison())).0 }
        if let d = state.detail { state = reduce(state, .dispatchInfo(nodeID: d.nodeID, feed.dispatch(nodeID: d.nodeID))).0 }
    }

    /// One timer tick: poll the feed, advance timers.
    public func tick() {
        poll()
        send(.tick)
    }

    public var shouldQuit: Bool { state.quit }

    /// Directory `p` writes screenshots to (the current directory by default).
    public var screenshotDirectory = FileManager.default.currentDirectoryPath

    private func saveScreen() {
        var clean = state
        clean.showHelp = false
        clean.message = nil
        let text = render(clean, theme: theme).text
        let stamp = Int(Date().timeIntervalSince1970)
        let path = (screenshotDirectory as NSString).appendingPathComponent("qtop-screen-\(stamp).txt")
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            state = reduce(state, .message("saved \(path)")).0
        } catch {
            state = reduce(state, .message("could not save \(path): \(error.localizedDescription)")).0
        }
    }

    public func frame() -> CellGrid { render(state, theme: theme) }

    /// Loads the requested theme (an error if it does not exist) plus every other available one for `t` cycling.
    /// Returns the list and the index of the requested theme.
    public static func loadThemes(requested: String, dirs: [String] = ThemeLoader.searchDirectories()) throws -> ([Theme], Int) {
        let first = try ThemeLoader.load(requested, dirs: dirs)
        var themes = [first]
        for name in ThemeLoader.available(in: dirs) where name != first.name {
            if let t = try? ThemeLoader.load(name, dirs: dirs) { themes.append(t) }
        }
        return (themes, 0)
    }
}

/// Whether colours should be used: off when `NO_COLOR` is set (to anything non-empty), unless forced.
public func colorEnabled(option: Bool?, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
    if let o = option { return o }
    if let v = environment["NO_COLOR"], !v.isEmpty { return false }
    return true
}

/// Whether the locale is UTF-8, from LC_ALL / LC_CTYPE / LANG (the first one set wins, as in POSIX).
public func localeIsUTF8(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
    for k in ["LC_ALL", "LC_CTYPE", "LANG"] {
        if let v = environment[k], !v.isEmpty {
            let u = v.uppercased()
            return u.contains("UTF-8") || u.contains("UTF8")
        }
    }
    return false
}
