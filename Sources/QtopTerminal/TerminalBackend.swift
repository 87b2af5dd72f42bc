import QtopUI

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
