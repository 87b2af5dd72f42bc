import QtopGraph
import QtopPasses
import QtopProfile

// The UI state: views, what the detail view shows, startup options, and AppState itself. Pure values.

/// The top-level views, in Tab order.
public enum ViewKind: Int, CaseIterable, Sendable {
    case graph, profile, compare

    public var title: String {
        switch self {
        case .graph: return "Graph"
        case .profile: return "Profile"
        case .compare: return "Compare"
        }
    }
}

/// The node the detail view shows: which pass snapshot it comes from.
public struct DetailTarget: Equatable, Sendable {
    public var nodeID: Int
    public var step: Int
    public init(nodeID: Int, step: Int) {
        self.nodeID = nodeID
        self.step = step
    }
}

/// Presentation options fixed at startup.
public struct TUIOptions: Sendable {
    /// Force ASCII glyphs; nil = decide from the locale (UTF-8 or not).
    public var ascii: Bool?
    /// Theme name or path (`--theme`).
    public var theme: String
    /// Colours on/off; nil = on unless `NO_COLOR` is set.
    public var color: Bool?
    /// Milliseconds between polls of the feed.
    public var tickMs: Int
    /// The view to open with.
    public var initialView: ViewKind
    /// The model has unknown input dims and none were given: open with the shape prompt (the feed waits).
    public var askShapes: Bool
    /// The mode the runner starts in, shown until its first snapshot (which may be a while when shapes are asked).
    public var startMode: ExecMode = .int8
    /// Shapes given with `--shape` for some inputs when others are still unknown: the prompt starts from them.
    public var givenShapes: [String: [Int]] = [:]

    public init(ascii: Bool? = nil, theme: String = "default", color: Bool? = nil, tickMs: Int = 100, initialView: ViewKind = .profile,
                askShapes: Bool = false) {
        self.ascii = ascii
        self.theme = theme
        self.color = color
        self.tickMs = tickMs
        self.initialView = initialView
        self.askShapes = askShapes
    }
}

/// The whole UI state. Pure data: `reduce` changes it, `render` draws it.
public struct AppState: Sendable {
    // Static data
    public var modelName: String
    public var passes: [PassStep]
    public var cpuName: String
    public var detectedISA: ISALevel
    public var availableISAs: [ISALevel]

    // Presentation
    public var size: Size
    public var ascii: Bool
    public var color: Bool
    public var themeNames: [String]
    public var themeIndex: Int = 0

    // Navigation
    public var view: ViewKind
    public var detail: DetailTarget?
    public var detailScroll = 0
    public var showHelp = false
    public var passIndex: Int
    /// Which mode's pass history `passes` is (nil = given at startup, not tied to a mode).
    public var passesMode: ExecMode?
    /// The input shapes `passes` was computed for (empty = the declared shapes).
    public var passesShapes: [String: [Int]] = [:]
    /// Graph view: fold consecutive nodes sharing a layer-path prefix of this many components (nil = off),
    /// except the groups expanded by the user (keys from `FoldGroup.key`).
    public var foldDepth: Int?
    public var expandedFolds: Set<String> = []
    /// The depth `f` folds at (the last one chosen with +/-).
    public var lastFoldDepth = 1
    public var cursor: [Int] = Array(repeating: 0, count: ViewKind.allCases.count)
    public var scroll: [Int] = Array(repeating: 0, count: ViewKind.allCases.count)

    // Profile table
    public var sortColumn: ProfileColumn = .avg
    public var sortDescending = true
    public var filter = ""
    public var filterEditing = false
    public var frozen = false

    // Live data
    public var snapshot: ProfileSnapshot?
    public var comparison: [CompareRow]?
    public var dispatch: DispatchDecision?
    public var dispatchNodeID: Int?
    public var weightStats: [TensorStats] = []
    public var pendingMode: ExecMode?
    public var pendingCap: ISALevel?
    /// Input shapes: the prompt while open, the shapes last accepted, and those not yet seen in a snapshot.
    public var shapePrompt: ShapePrompt?
    public var requestedShapes: [String: [Int]]?
    public var pendingShapes: [String: [Int]]?
    /// The model's dims were unknown at startup and the runner waits for shapes.
    public var shapesNeeded = false
    /// The mode shown before the first snapshot.
    public var startMode: ExecMode = .int8
    /// `--shape` values the prompt starts from (inputs not listed get a suggestion).
    public var givenShapes: [String: [Int]] = [:]
    public var pendingTicks = 0
    public var ticks = 0
    public var message: String?
    public var feedError: String?
    public var messageTicks = 0
    public var quit = false

    public init(modelName: String, passes: [PassStep], cpuName: String = "", detectedISA: ISALevel = .generic,
                availableISAs: [ISALevel] = [], size: Size = Size(width: 100, height: 30), ascii: Bool = false,
                color: Bool = true, themeNames: [String] = ["default"], view: ViewKind = .profile) {
        self.modelName = modelName
        self.passes = passes
        self.cpuName = cpuName
        self.detectedISA = detectedISA
        self.availableISAs = availableISAs
        self.size = size
        self.ascii = ascii
        self.color = color
        self.themeNames = themeNames
        self.view = view
        self.passIndex = max(0, passes.count - 1)
    }

    public var glyphs: Glyphs { ascii ? .ascii : .unicode }

    /// Mode and ISA cap as the user last asked for them (or as running).
    public var mode: ExecMode { pendingMode ?? snapshot?.mode ?? startMode }
    public var isaCap: ISALevel { pendingCap ?? snapshot?.isaCap ?? detectedISA }
    /// The input shapes the user chose (`--shape`, then the prompt or `s`): the key of the pass history, so the
    /// timeline's fold-shape-computation step shows what folded for them, as `qtop passes --shape` does.
    public var chosenShapes: [String: [Int]] { requestedShapes ?? givenShapes }

    public var recompiling: Bool { pendingMode != nil || pendingCap != nil || pendingShapes != nil }

    public static let minimumSize = Size(width: 80, height: 24)
    public var tooSmall: Bool { size.width < AppState.minimumSize.width || size.height < AppState.minimumSize.height }

    /// Whether the graph view shows before/after panes side by side.
    public var sideBySide: Bool { size.width >= 160 && passIndex > 0 }

    /// The graph the running profile refers to: the final pass for int8, the loaded graph otherwise.
    public func node(id: Int, preferStep: Int? = nil) -> (Node, Int)? {
        if let s = preferStep, passes.indices.contains(s), let n = passes[s].graph.node(id: id) { return (n, s) }
        for s in passes.indices.reversed() { if let n = passes[s].graph.node(id: id) { return (n, s) } }
        return nil
    }
}
