import CNcursesShim
import Foundation
import QtopUI

public enum TerminalError: Error, CustomStringConvertible {
    case notATerminal
    case initFailed

    public var description: String {
        switch self {
        case .notATerminal: return "the TUI needs a terminal on stdin and stdout"
        case .initFailed: return "could not initialise the terminal (TERM='\(ProcessInfo.processInfo.environment["TERM"] ?? "")' unknown or unset?)"
        }
    }
}

/// ncursesw backend. Not thread-safe: create, use and close it on one thread.
public final class NcursesTerminal: TerminalBackend {
    public let colorDepth: ColorDepth
    public let localeIsUTF8: Bool
    private let colorCount: Int
    private let maxPairs: Int
    private var pairs: [PairKey: Int32] = [:]
    private var nextPair: Int32 = 1
    private var previous: CellGrid?
    private var closed = false

    private struct PairKey: Hashable {
        let fg: Int
        let bg: Int
    }

    public init(mouse: Bool = true) throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw TerminalError.notATerminal }
        guard qtop_tui_init(mouse ? 1 : 0) == 0 else { throw TerminalError.initFailed }
        localeIsUTF8 = qtop_locale_is_utf8() != 0
        colorCount = Int(qtop_colors())
        maxPairs = Int(qtop_color_pairs())
        if colorCount >= 0x1000000 { colorDepth = .truecolor }
        else if colorCount >= 256 { colorDepth = .c256 }
        else if colorCount >= 8 { colorDepth = .c16 }
        else { colorDepth = .none }
    }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        qtop_tui_end()
    }

    public var size: Size {
        var w: Int32 = 0, h: Int32 = 0
        qtop_size(&w, &h)
        return Size(width: Int(w), height: Int(h))
    }

    public func nextEvent(timeoutMs: Int) -> TerminalEvent? {
        qtop_timeout(Int32(max(0, timeoutMs)))
        var code: Int32 = 0, x: Int32 = 0, y: Int32 = 0
        let kind = qtop_read(&code, &x, &y)
        switch Int(kind) {
        case Int(QTOP_EV_CHAR):
            return TerminalEvent.fromChar(code)
        case Int(QTOP_EV_KEY):
            if code == Int32(QTOP_K_RESIZE) {
                previous = nil
                qtop_clear()
                return .resize(size)
            }
            return TerminalEvent.fromKeyCode(code).map { .key($0) }
        case Int(QTOP_EV_MOUSE):
            let b: MouseButton = code == Int32(QTOP_M_WHEEL_UP) ? .wheelUp : code == Int32(QTOP_M_WHEEL_DOWN) ? .wheelDown : .left
            return .mouse(b, x: Int(x), y: Int(y))
        default:
            return nil
        }
    }

    private func colorNumber(_ c: Color) -> Int {
        guard var n = c.resolved(colorDepth) else { return -1 }
        if colorDepth == .c16 && colorCount < 16 && n >= 8 { n -= 8 }
        return n
    }

    private func pair(_ style: Style) -> Int32 {
        guard colorDepth != .none else { return 0 }
        let key = PairKey(fg: colorNumber(style.fg), bg: colorNumber(style.bg))
        if key.fg == -1 && key.bg == -1 { return 0 }
        if let p = pairs[key] { return p }
        guard Int(nextPair) < maxPairs else { return 0 }
        let p = nextPair
        nextPair += 1
        _ = qtop_init_pair(p, Int32(key.fg), Int32(key.bg))
        pairs[key] = p
        return p
    }

    public func invalidate() { previous = nil }

    public func present(_ grid: CellGrid) {
        let full = previous.map { $0.width != grid.width || $0.height != grid.height } ?? true
        if full { qtop_clear() }
        var buf = [Int32](repeating: 0, count: 4)
        for y in 0..<grid.height {
            for x in 0..<grid.width {
                let cell = grid[x, y]
                if !full, let prev = previous, prev[x, y] == cell { continue }
                guard let ch = cell.char else { continue }
                var n: Int32 = 0
                for scalar in ch.unicodeScalars.prefix(4) {
                    buf[Int(n)] = Int32(bitPattern: scalar.value)
                    n += 1
                }
                let attrs = Int32(cell.style.attrs.rawValue)
                let p = pair(cell.style)
                buf.withUnsafeBufferPointer { qtop_put(Int32(y), Int32(x), $0.baseAddress, n, attrs, p) }
            }
        }
        qtop_refresh()
        previous = grid
    }
}

extension TerminalEvent {
    /// Decodes a character from get_wch: control characters become keys.
    static func fromChar(_ code: Int32) -> TerminalEvent? {
        switch code {
        case 9: return .key(.tab)
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        case 1...26:
            let letter = Character(UnicodeScalar(UInt8(code) + 96))
            return .key(.ctrl(letter))
        default:
            guard let s = UnicodeScalar(UInt32(bitPattern: code)) else { return nil }
            return .key(.char(Character(s)))
        }
    }

    static func fromKeyCode(_ code: Int32) -> Key? {
        switch code {
        case Int32(QTOP_K_UP): return .up
        case Int32(QTOP_K_DOWN): return .down
        case Int32(QTOP_K_LEFT): return .left
        case Int32(QTOP_K_RIGHT): return .right
        case Int32(QTOP_K_PPAGE): return .pageUp
        case Int32(QTOP_K_NPAGE): return .pageDown
        case Int32(QTOP_K_HOME): return .home
        case Int32(QTOP_K_END): return .end
        case Int32(QTOP_K_ENTER): return .enter
        case Int32(QTOP_K_BACKSPACE), Int32(QTOP_K_DELETE): return .backspace
        case Int32(QTOP_K_BTAB): return .backTab
        default:
            let f0 = Int32(QTOP_K_F0)
            if code > f0 && code <= f0 + 12 { return .function(Int(code - f0)) }
            return nil
        }
    }
}
