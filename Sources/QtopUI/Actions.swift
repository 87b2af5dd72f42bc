import QtopPasses
import QtopProfile

/// A key press, already decoded by the backend.
public enum Key: Equatable, Sendable {
    case char(Character)
    case ctrl(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, backspace, tab, backTab
    case function(Int)
}

public enum MouseButton: Equatable, Sendable {
    case left, wheelUp, wheelDown
}

/// Everything that can happen to the UI.
public enum Action: Sendable {
    case key(Key)
    case mouse(MouseButton, x: Int, y: Int)
    case resize(Size)
    /// A new snapshot from the feed (ignored while frozen).
    case snapshot(ProfileSnapshot?)
    case comparison([CompareRow]?)
    case dispatchInfo(nodeID: Int, DispatchDecision?)
    /// A transient status message for the key bar (e.g. where a screenshot went).
    case message(String)
    /// The feed's current error (nil = fine).
    case feedError(String?)
    /// The pass history of the graph a mode runs for the chosen input shapes (sent when the running mode or the
    /// shapes change; each mode and each set of shapes has its own: fold-shape-computation depends on them).
    case passes(ExecMode, [PassStep], shapes: [String: [Int]] = [:])
    case tick
}

/// Requests the reducer makes of the outside world; `App` carries them out.
public enum Effect: Equatable, Sendable {
    case setMode(ExecMode)
    case setISACap(ISALevel)
    /// Re-specialize the plan for these input shapes (`s`, or the startup prompt).
    case setInputShapes([String: [Int]])
    case resetStatistics
    case fetchDispatch(nodeID: Int)
    /// Write the current screen as text to a file (`p`).
    case saveScreen
    case quit
}
