import XCTest
import QtopProfile
import QtopTestSupport
@testable import QtopUI
import QtopTerminal

/// A backend that replays scripted events and records what was presented.
final class ScriptedBackend: TerminalBackend {
    var size: Size
    let colorDepth: ColorDepth
    let localeIsUTF8: Bool
    var events: [TerminalEvent]
    var presented: [CellGrid] = []
    var closed = false

    init(size: Size, events: [TerminalEvent], depth: ColorDepth = .c256, utf8: Bool = true) {
        self.size = size
        self.events = events
        colorDepth = depth
        localeIsUTF8 = utf8
    }

    func nextEvent(timeoutMs: Int) -> TerminalEvent? {
        guard !events.isEmpty else { return nil }
        let e = events.removeFirst()
        if case .resize(let s) = e { size = s }
        return e
    }

    func present(_ grid: CellGrid) { presented.append(grid) }
    func close() { closed = true }
}

final class RunLoopTests: XCTestCase {
    func testLoopDrivesAppUntilQuit() throws {
        let feed = DemoData.feed()
        let term = ScriptedBackend(size: Size(width: 100, height: 30), events: [
            .key(.char("1")), .key(.char("m")), .resize(Size(width: 60, height: 20)), .resize(Size(width: 90, height: 26)),
            .mouse(.left, x: 12, y: 2), .key(.char("q")), .key(.char("j")),
        ])
        try runLoop(term: term, modelName: DemoData.modelName, passes: DemoData.passes(), feed: feed,
                    options: TUIOptions(tickMs: 10), themes: [.builtinDefault], themeIndex: 0, maxIterations: 100)
        XCTAssertEqual(feed.calls, ["setMode(fp32)"])
        XCTAssertTrue(term.events.count == 1, "stops at q, leaving later events unread")
        XCTAssertTrue(term.presented.contains { $0.text.contains("terminal too small") })
        let last = term.presented.last!
        XCTAssertEqual(last.width, 90)
        XCTAssertTrue(last.lines[3].hasPrefix("Layer"), "the mouse click on the Profile tab switched views")
    }

    func testASCIIFromLocaleAndNoColorWithoutColours() throws {
        let term = ScriptedBackend(size: Size(width: 80, height: 24), events: [.key(.char("q"))], depth: .none, utf8: false)
        try runLoop(term: term, modelName: "m", passes: DemoData.passes(), feed: DemoData.feed(),
                    options: TUIOptions(), themes: [.builtinDefault], themeIndex: 0, maxIterations: 10)
        let g = term.presented.first!
        XCTAssertTrue(g.lines.allSatisfy { $0.unicodeScalars.allSatisfy { $0.isASCII } }, g.text)
        XCTAssertTrue(g.cells.allSatisfy { $0.style.fg.rgb == nil && $0.style.bg.rgb == nil })
    }

    func testPassHistoryFollowsRunningMode() throws {
        let feed = DemoData.feed()
        let term = ScriptedBackend(size: Size(width: 100, height: 30), events: [.key(.char("m"))])
        var asked: [ExecMode] = []
        let loaded = [DemoData.passes()[0]]
        try runLoop(term: term, modelName: "m", passes: DemoData.passes(), feed: feed, options: TUIOptions(tickMs: 1),
                    themes: [.builtinDefault], themeIndex: 0,
                    passesForMode: { mode, _ in asked.append(mode); return mode == .int8 ? DemoData.passes() : loaded },
                    maxIterations: 50)
        XCTAssertEqual(asked, [.int8, .fp32])
    }
}
