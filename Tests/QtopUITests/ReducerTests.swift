import XCTest
import QtopPasses
import QtopProfile
import QtopTestSupport
@testable import QtopUI

final class ReducerTests: XCTestCase {
    func testViewSwitching() {
        let s = makeState()
        XCTAssertEqual(press(s, .char("1")).0.view, .graph)
        XCTAssertEqual(press(s, .char("3")).0.view, .compare)
        XCTAssertEqual(press(s, .tab).0.view, .compare)
        XCTAssertEqual(press(s, .tab, .tab).0.view, .graph)
        XCTAssertEqual(press(s, .backTab).0.view, .graph)
    }

    func testNavigationClampsAndPages() {
        let s = makeState(view: .profile)
        let n = s.profileRows.count
        XCTAssertEqual(n, 6)
        XCTAssertEqual(press(s, .char("j"), .char("j")).0.cursor[1], 2)
        XCTAssertEqual(press(s, .char("k")).0.cursor[1], 0)
        XCTAssertEqual(press(s, .char("G")).0.cursor[1], n - 1)
        XCTAssertEqual(press(s, .char("G"), .char("g")).0.cursor[1], 0)
        XCTAssertEqual(press(s, .pageDown).0.cursor[1], n - 1)
        XCTAssertEqual(press(s, .ctrl("d"), .ctrl("u")).0.cursor[1], 0)
        XCTAssertEqual(press(s, .down, .down, .down, .down, .down, .down, .down, .down).0.cursor[1], n - 1)
    }

    func testScrollFollowsCursor() {
        // 24 rows: 3 header + table header + 19 rows + key bar; the graph at step 0 has 14 nodes, so use a tiny height.
        var s = makeState(size: Size(width: 80, height: 24), view: .graph)
        s.passIndex = 0
        s = press(s, .char("G")).0
        let vis = Layout(size: s.size).visibleRows(.graph)
        XCTAssertEqual(s.cursor[0], s.graphRows.count - 1)
        XCTAssertEqual(s.scroll[0], max(0, s.graphRows.count - vis))
    }

    func testSorting() {
        var s = makeState()
        XCTAssertEqual(s.sortColumn, .avg)
        XCTAssertEqual(s.profileRows.first?.layerType, "qconv2d")
        s = press(s, .char("r")).0
        XCTAssertFalse(s.sortDescending)
        XCTAssertEqual(s.profileRows.first?.layerType, "feed")
        s = press(s, .char(">")).0
        XCTAssertEqual(s.sortColumn, .share)
        XCTAssertTrue(s.sortDescending)
        s = press(s, .char("<"), .char("<"), .char("<"), .char("<")).0
        XCTAssertEqual(s.sortColumn, .name)
        XCTAssertFalse(s.sortDescending)
        XCTAssertEqual(s.profileRows.map(\.name), s.profileRows.map(\.name).sorted())
    }

    func testHeaderClickSorts() {
        let s = makeState()
        let y = Layout(size: s.size).tableHeaderY(.profile)
        let cols = layoutColumns(profileColumnSpecs(), width: s.size.width)
        let typeCol = cols.first { $0.id == "type" }!
        var t = reduce(s, .mouse(.left, x: typeCol.x + 1, y: y)).0
        XCTAssertEqual(t.sortColumn, .type)
        XCTAssertFalse(t.sortDescending)
        t = reduce(t, .mouse(.left, x: typeCol.x + 1, y: y)).0
        XCTAssertTrue(t.sortDescending, "second click on the same header reverses")
    }

    func testMouseTabsAndRows() {
        let s = makeState()
        let graphTab = Layout.tabs().first { $0.0 == .graph }!.1
        XCTAssertEqual(reduce(s, .mouse(.left, x: graphTab.lowerBound + 1, y: 2)).0.view, .graph)
        let y = Layout(size: s.size).firstRowY(.profile) + 2
        let t = reduce(s, .mouse(.left, x: 5, y: y)).0
        XCTAssertEqual(t.cursor[1], 2)
        let (u, eff) = reduce(t, .mouse(.left, x: 5, y: y))
        XCTAssertNotNil(u.detail, "clicking the selected row opens it")
        XCTAssertEqual(eff, [.fetchDispatch(nodeID: t.profileRows[2].nodeID)])
        XCTAssertEqual(reduce(s, .mouse(.wheelDown, x: 5, y: y)).0.cursor[1], 3)
    }

    func testFilterIsIncrementalAndEscClears() {
        var s = makeState()
        s = press(s, .char("/"), .char("s"), .char("o")).0
        XCTAssertTrue(s.filterEditing)
        XCTAssertEqual(s.filter, "so")
        XCTAssertEqual(s.profileRows.map(\.name), ["softmax_0.tmp_0"])
        s = press(s, .backspace).0
        XCTAssertEqual(s.filter, "s")
        s = press(s, .char("q")).0
        XCTAssertFalse(s.quit, "q types into the filter while editing")
        XCTAssertEqual(s.filter, "sq")
        s = press(s, .backspace, .char("o"), .enter).0
        XCTAssertFalse(s.filterEditing)
        XCTAssertEqual(s.filter, "so")
        s = press(s, .escape).0
        XCTAssertEqual(s.filter, "")
        s = press(s, .char("/"), .char("x"), .escape).0
        XCTAssertEqual(s.filter, "")
        XCTAssertFalse(s.filterEditing)
    }

    func testFilterAppliesToGraph() {
        var s = makeState(view: .graph)
        s.passIndex = 0
        s = press(s, .char("/"), .char("q"), .char("u"), .char("a"), .char("n"), .char("t"), .enter).0
        XCTAssertTrue(s.graphRows.allSatisfy { $0.node.type.contains("quant") || $0.node.name.contains("quant") })
        XCTAssertEqual(s.graphRows.count, 4)
    }

    func testFreezeKeepsSnapshotButAllowsSorting() {
        var s = makeState()
        s = press(s, .char(" ")).0
        XCTAssertTrue(s.frozen)
        var other = DemoData.snapshot(t: 5)
        other.runs = 99999
        s = reduce(s, .snapshot(other)).0
        XCTAssertNotEqual(s.snapshot?.runs, 99999)
        s = press(s, .char("r"), .char("j")).0
        XCTAssertFalse(s.sortDescending)
        XCTAssertEqual(s.cursor[1], 1)
        s = press(s, .char(" ")).0
        s = reduce(s, .snapshot(other)).0
        XCTAssertEqual(s.snapshot?.runs, 99999)
    }

    func testPassStepping() {
        var s = makeState(view: .graph)
        XCTAssertEqual(s.passIndex, 4, "opens at the final graph")
        s = press(s, .right).0
        XCTAssertEqual(s.passIndex, 4)
        s = press(s, .left, .left).0
        XCTAssertEqual(s.passIndex, 2)
        s = press(s, .char("["), .char("["), .char("["), .char("[")).0
        XCTAssertEqual(s.passIndex, 0)
        XCTAssertEqual(s.graphRows.map(\.node.id), s.passes[0].graph.nodes.map(\.id), "step 0: the loaded graph, no ghosts")
        s = press(s, .char("]"), .char("]"), .char("]")).0
        XCTAssertEqual(s.passIndex, 3)
        let rows = s.graphRows
        XCTAssertEqual(rows.filter { $0.change == .removed }.map(\.node.id).sorted(), [1, 2, 5, 7])
        XCTAssertEqual(rows.filter { $0.change == .added }.map(\.node.id), [14])
        // Removed nodes sit after their nearest surviving predecessor (feed), before the new qconv2d.
        XCTAssertEqual(rows.prefix(6).map(\.node.id), [0, 1, 2, 5, 7, 14])
    }

    func testSideBySideWhenWide() {
        var s = makeState(size: Size(width: 170, height: 30), view: .graph)
        XCTAssertTrue(s.sideBySide)
        XCTAssertFalse(s.graphRows.contains { $0.ghost }, "the left pane shows removed nodes instead")
        s.passIndex = 0
        XCTAssertFalse(s.sideBySide)
    }

    func testDetailOpenAndBack() {
        var s = makeState(view: .profile)
        let (t, eff) = press(s, .enter)
        XCTAssertEqual(t.detail, DetailTarget(nodeID: 14, step: 4))
        XCTAssertEqual(eff, [.fetchDispatch(nodeID: 14)])
        XCTAssertEqual(t.weightStats.map(\.name), ["conv1.w.int8"])
        XCTAssertNil(press(t, .escape).0.detail)
        XCTAssertNil(press(t, .left).0.detail)
        // From the graph view, a removed node opens in the snapshot it comes from.
        s = makeState(view: .graph)
        s.passIndex = 3
        s = press(s, .char("j"), .enter).0
        XCTAssertEqual(s.detail, DetailTarget(nodeID: 1, step: 2))
        // Scrolling the detail view is clamped to its length.
        s = press(s, .char("G")).0
        let maxScroll = max(0, detailLineCount(s) - Layout(size: s.size).bodyHeight)
        XCTAssertEqual(s.detailScroll, maxScroll)
        s = press(s, .char("g")).0
        XCTAssertEqual(s.detailScroll, 0)
    }

    func testModeAndISAEffectsAndRecompiling() {
        var s = makeState()
        XCTAssertEqual(s.mode, .int8)
        var (t, eff) = press(s, .char("m"))
        XCTAssertEqual(eff, [.setMode(.fp32)])
        XCTAssertTrue(t.recompiling)
        XCTAssertEqual(t.mode, .fp32)
        (t, eff) = press(t, .char("m"))
        XCTAssertEqual(eff, [.setMode(.reference)])
        // A snapshot still in the old mode keeps "recompiling"; the matching one clears it.
        t = reduce(t, .snapshot(DemoData.snapshot(mode: .int8))).0
        XCTAssertTrue(t.recompiling)
        t = reduce(t, .snapshot(DemoData.snapshot(mode: .reference))).0
        XCTAssertFalse(t.recompiling)

        (s, eff) = press(s, .char("i"))
        XCTAssertEqual(eff, [.setISACap(.avx512_core)])
        (s, eff) = press(s, .char("i"), .char("i"))
        XCTAssertEqual(eff, [.setISACap(.avx2), .setISACap(.sse41)])
        (s, eff) = press(s, .char("I"))
        XCTAssertEqual(eff, [.setISACap(.avx2)])
        XCTAssertEqual(s.isaCap, .avx2)
        // Cannot raise past the best level.
        let top = makeState()
        XCTAssertEqual(press(top, .char("I")).1, [])
    }

    func testRecompilingGivesUpEventually() {
        var s = press(makeState(), .char("m")).0
        for _ in 0..<101 { s = reduce(s, .tick).0 }
        XCTAssertFalse(s.recompiling)
    }

    func testResetThemeHelpQuit() {
        let s = makeState()
        XCTAssertEqual(press(s, .char("z")).1, [.resetStatistics])
        XCTAssertEqual(press(s, .char("t")).0.themeIndex, 1)
        XCTAssertEqual(press(s, .char("t"), .char("t")).0.themeIndex, 0)
        let h = press(s, .char("?")).0
        XCTAssertTrue(h.showHelp)
        let closed = press(h, .char("j")).0
        XCTAssertFalse(closed.showHelp)
        XCTAssertEqual(closed.cursor[1], 0, "the key that closes help does nothing else")
        XCTAssertTrue(press(s, .function(1)).0.showHelp)
        XCTAssertEqual(press(s, .char("q")).1, [.quit])
        XCTAssertTrue(press(s, .function(10)).0.quit)
    }

    func testTooSmallIgnoresKeysButQuits() {
        var s = makeState(size: Size(width: 60, height: 20))
        XCTAssertTrue(s.tooSmall)
        s = press(s, .char("j"), .char("2")).0
        XCTAssertEqual(s.cursor[1], 0)
        XCTAssertTrue(press(s, .char("q")).0.quit)
        s = reduce(s, .resize(Size(width: 80, height: 24))).0
        XCTAssertFalse(s.tooSmall)
    }

    func testAppCarriesOutEffectsOnTheFeed() {
        let (app, feed) = makeApp()
        app.send(.key(.char("m")))
        app.send(.key(.char("i")))
        app.send(.key(.char("z")))
        XCTAssertEqual(feed.calls, ["setMode(fp32)", "setISACap(avx512_core)", "resetStatistics"])
        XCTAssertTrue(app.state.recompiling)
        app.tick()
        XCTAssertFalse(app.state.recompiling, "the fake feed answers with the requested mode and cap")
        XCTAssertEqual(app.state.snapshot?.mode, .fp32)
        app.send(.key(.char("1")))
        app.send(.key(.char("2")))
        app.send(.key(.enter))
        XCTAssertEqual(app.state.dispatch?.implementation, "conv")
    }

    func testAppFreezeStopsPolling() {
        let (app, feed) = makeApp()
        app.send(.key(.char(" ")))
        var changed = DemoData.snapshot()
        changed.runs = 42
        feed.replaceSnapshot(changed)
        app.tick()
        XCTAssertNotEqual(app.state.snapshot?.runs, 42)
        app.send(.key(.char(" ")))
        app.tick()
        XCTAssertEqual(app.state.snapshot?.runs, 42)
    }

    func testColumnLayoutDropsLowPriority() {
        let wide = layoutColumns(profileColumnSpecs(), width: 160).map(\.id)
        XCTAssertEqual(wide, ["name", "type", "last", "avg", "share", "bar", "precision", "outPrecision", "execType", "isa", "status"])
        let narrow = layoutColumns(profileColumnSpecs(), width: 80)
        XCTAssertTrue(narrow.map(\.id).contains("avg"))
        XCTAssertTrue(narrow.map(\.id).contains("name"))
        XCTAssertLessThanOrEqual(narrow.last!.x + narrow.last!.width, 80)
    }

    func testEnvironmentDetection() {
        XCTAssertFalse(colorEnabled(option: nil, environment: ["NO_COLOR": "1"]))
        XCTAssertTrue(colorEnabled(option: nil, environment: ["NO_COLOR": ""]))
        XCTAssertTrue(colorEnabled(option: true, environment: ["NO_COLOR": "1"]))
        XCTAssertTrue(localeIsUTF8(environment: ["LANG": "en_US.UTF-8"]))
        XCTAssertFalse(localeIsUTF8(environment: ["LC_ALL": "C", "LANG": "en_US.UTF-8"]))
        XCTAssertFalse(localeIsUTF8(environment: [:]))
    }
}

final class ScreenshotTests: XCTestCase {
    func testSaveScreenWritesTextAndShowsMessage() throws {
        let (app, _) = makeApp()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qtop-shot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        app.screenshotDirectory = dir.path
        app.send(.key(.char("p")))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(files.count, 1)
        let text = try String(contentsOfFile: dir.appendingPathComponent(files[0]).path, encoding: .utf8)
        XCTAssertTrue(text.contains("relu_0.tmp_0"))
        XCTAssertTrue(app.state.message?.hasPrefix("saved ") == true)
        XCTAssertTrue(app.frame().lines.last!.contains("saved "))
        for _ in 0..<41 { app.send(.tick) }
        XCTAssertNil(app.state.message)
    }
}

final class MoreReducerTests: XCTestCase {
    func testTimelineClickSelectsStep() {
        let s = makeState(view: .graph)
        let segs = timelineSegments(s)
        let step1 = segs.first { $0.0 == 1 }!.1
        let t = reduce(s, .mouse(.left, x: step1.lowerBound + 1, y: Layout(size: s.size).bodyY)).0
        XCTAssertEqual(t.passIndex, 1)
    }

    func testThemeCycleShowsName() {
        let s = press(makeState(), .char("t")).0
        XCTAssertEqual(s.message, "theme light")
    }

    func testPassesActionSwitchesHistoryAndClosesDetail() {
        var s = press(makeState(), .enter).0
        XCTAssertNotNil(s.detail)
        s = reduce(s, .passes(.reference, [DemoData.passes()[0]])).0
        XCTAssertNil(s.detail)
        XCTAssertEqual(s.passes.count, 1)
        XCTAssertEqual(s.passIndex, 0)
        XCTAssertEqual(s.passesMode, .reference)
    }

    func testISAStepsWithoutAvailableList() {
        var s = makeState()
        s.availableISAs = []
        XCTAssertEqual(press(s, .char("i")).1, [], "nothing to step to")
    }

    func testFilterAppliesToCompare() {
        let s = press(makeState(view: .compare), .char("/"), .char("f"), .char("c")).0
        XCTAssertEqual(s.compareRows.map(\.layerType), ["fc"])
    }
}

final class FeedErrorTests: XCTestCase {
    func testFeedErrorIsShownAndCleared() {
        let (app, feed) = makeApp()
        feed.setError("cannot compile fp32: no kernel for op foo")
        app.tick()
        XCTAssertEqual(app.state.feedError, "cannot compile fp32: no kernel for op foo")
        XCTAssertTrue(app.frame().lines[2].contains("runner: cannot compile"))
        feed.setError(nil)
        app.tick()
        XCTAssertNil(app.state.feedError)
        XCTAssertFalse(app.frame().lines[2].contains("runner:"))
    }
}
