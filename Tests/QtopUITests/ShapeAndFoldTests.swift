import QtopGraph
import QtopPasses
import QtopProfile
import QtopTestSupport
import XCTest
@testable import QtopUI

/// The shape prompt and layer-path folding as pure reducer logic, on hand-made graphs.
final class ShapePromptTests: XCTestCase {
    /// A one-input graph whose input `x` is declared [-1,3,-1,-1].
    func state(declared: [Int] = [-1, 3, -1, -1], inputs: [String] = ["x"], ask: Bool = true) -> AppState {
        var values: [String: ValueInfo] = [:]
        for i in inputs { values[i] = ValueInfo(name: i, dtype: i == "ids" ? .i64 : .f32, shape: i == "ids" ? [-1, -1] : declared) }
        let nodes = inputs.enumerated().map { k, i in Node(id: k, type: "feed", inputs: [Slot("X", ["feed"])], outputs: [Slot("Out", [i])], provenance: [i]) }
        let g = Graph(nodes: nodes, values: values, inputs: inputs, outputs: [])
        var s = AppState(modelName: "m", passes: [PassStep(name: "loaded", graph: g, changes: [])], size: Size(width: 100, height: 30))
        if ask {
            s.shapesNeeded = true
            openShapePrompt(&s)
        }
        return s
    }

    func testPromptStartsWithASuggestionAndEnterAccepts() {
        let s = state()
        XCTAssertEqual(s.shapePrompt?.text, "[1,3,640,640]")
        XCTAssertTrue(s.shapesUnset)
        let (t, effects) = press(s, .enter)
        XCTAssertNil(t.shapePrompt)
        XCTAssertEqual(effects, [.setInputShapes(["x": [1, 3, 640, 640]])])
        XCTAssertEqual(t.requestedShapes, ["x": [1, 3, 640, 640]])
        XCTAssertTrue(t.recompiling)
        XCTAssertFalse(t.shapesUnset)
        XCTAssertEqual(t.shownInputShapes.map(\.1), [[1, 3, 640, 640]])
        // The snapshot at those shapes ends the wait.
        var snap = ProfileSnapshot()
        snap.inputShapes = [InputShape(name: "x", dims: [1, 3, 640, 640])]
        XCTAssertFalse(reduce(t, .snapshot(snap)).0.recompiling)
        var other = snap
        other.inputShapes = [InputShape(name: "x", dims: [1, 3, 32, 32])]
        XCTAssertTrue(reduce(t, .snapshot(other)).0.recompiling, "a snapshot of the old shapes does not count")
    }

    func testEditingAndErrorsStayInThePrompt() {
        var (s, e) = press(state(), .ctrl("u"))
        XCTAssertEqual(s.shapePrompt?.text, "")
        for c in "[1,3,0,64]" { s = reduce(s, .key(.char(c))).0 }
        (s, e) = press(s, .enter)
        XCTAssertEqual(e, [])
        XCTAssertEqual(s.shapePrompt?.error, "input 'x': dim 2 must be positive, got 0 in [1,3,0,64]")
        // Keys go to the prompt, not to the views: q types, it does not quit.
        (s, e) = press(s, .backspace, .backspace, .backspace, .backspace, .char("8"), .char(","), .char("q"))
        XCTAssertFalse(s.quit)
        XCTAssertNil(s.shapePrompt?.error, "editing clears the error")
        XCTAssertEqual(s.shapePrompt?.text, "[1,3,08,q")
        (s, e) = press(s, .enter)
        XCTAssertTrue(s.shapePrompt?.error?.contains("missing ']'") == true, s.shapePrompt?.error ?? "")
        (s, e) = press(s, .ctrl("u"), .char("["), .char("1"), .char("]"), .enter)
        XCTAssertEqual(s.shapePrompt?.error, "input 'x' has 4 dims [-1,3,-1,-1], got 1 in [1]")
        for c in "y=[1,3,4,4]" { s = reduce(s, .key(.char(c))).0 }
        s.shapePrompt?.text = "y=[1,3,4,4]"
        (s, e) = press(s, .enter)
        XCTAssertEqual(s.shapePrompt?.error, "the model has no input named 'y' (inputs: x)")
        s.shapePrompt?.text = "x=[2,3,48,320]"
        (s, e) = press(s, .enter)
        XCTAssertEqual(e, [.setInputShapes(["x": [2, 3, 48, 320]])])
    }

    func testEscapeLeavesShapesUnsetAndSReopens() {
        var (s, e) = press(state(), .escape)
        XCTAssertNil(s.shapePrompt)
        XCTAssertEqual(e, [])
        XCTAssertTrue(s.shapesUnset)
        XCTAssertTrue(s.message?.contains("press s") == true)
        (s, e) = press(s, .char("s"))
        XCTAssertEqual(s.shapePrompt?.text, "[1,3,640,640]")
        (s, e) = press(s, .enter)
        XCTAssertEqual(e, [.setInputShapes(["x": [1, 3, 640, 640]])])
        // `s` later starts from the shapes in use; Esc then cancels without touching them.
        (s, e) = press(s, .char("s"))
        XCTAssertEqual(s.shapePrompt?.text, "[1,3,640,640]")
        (s, e) = press(s, .escape)
        XCTAssertEqual(s.requestedShapes, ["x": [1, 3, 640, 640]])
        XCTAssertFalse(s.shapesUnset)
    }

    func testKnownModelsDoNotAskAndSStartsFromTheRunningShapes() {
        var s = state(declared: [-1, 3, 32, 32], ask: false)
        XCTAssertNil(s.shapePrompt)
        XCTAssertFalse(s.shapesUnset)
        var snap = ProfileSnapshot()
        snap.inputShapes = [InputShape(name: "x", dims: [1, 3, 32, 32])]
        s = reduce(s, .snapshot(snap)).0
        XCTAssertEqual(s.shownInputShapes.map(\.1), [[1, 3, 32, 32]])
        let (t, _) = press(s, .char("s"))
        XCTAssertEqual(t.shapePrompt?.text, "[1,3,32,32]")
        let (u, e) = press(t, .ctrl("u"), .char("["), .char("4"), .char(","), .char("3"), .char(","), .char("3"),
                           .char("2"), .char(","), .char("3"), .char("2"), .char("]"), .enter)
        XCTAssertEqual(e, [.setInputShapes(["x": [4, 3, 32, 32]])])
        XCTAssertNil(u.shapePrompt)
    }

    func testPromptStartsFromShapesGivenOnTheCommandLine() {
        var s = state(inputs: ["x", "ids"], ask: false)
        s.givenShapes = ["ids": [1, 128]]
        s.shapesNeeded = true
        openShapePrompt(&s)
        XCTAssertEqual(s.shapePrompt?.text, "x=[1,3,640,640],ids=[1,128]")
    }

    func testAPlanFailureForNewShapesGoesToTheStatusLine() {
        let (t, _) = press(state(), .enter)
        XCTAssertTrue(t.recompiling)
        let u = reduce(t, .feedError("input shapes x=[1,3,640,640] need 99 GiB of activations")).0
        XCTAssertFalse(u.recompiling)
        XCTAssertEqual(u.message, "input shapes x=[1,3,640,640] need 99 GiB of activations")
    }

    func testTwoInputsUseNamedForm() {
        let s = state(inputs: ["x", "ids"])
        XCTAssertEqual(s.shapePrompt?.text, "x=[1,3,640,640],ids=[1,16]")
        let (t, e) = press(s, .enter)
        XCTAssertEqual(e, [.setInputShapes(["x": [1, 3, 640, 640], "ids": [1, 16]])])
        XCTAssertNil(t.shapePrompt)
    }

    func testAppSendsShapesToTheFeed() {
        let feed = FakeFeed(snapshot: nil)
        let app = App(modelName: "m", passes: state().passes, feed: feed, themes: [], size: Size(width: 100, height: 30),
                      ascii: false, color: false, askShapes: true, startMode: .fp32)
        XCTAssertNotNil(app.state.shapePrompt)
        XCTAssertTrue(app.frame().text.contains("mode fp32"), "the runner's mode, before any snapshot")
        app.send(.key(.enter))
        XCTAssertEqual(feed.calls, ["setInputShapes(x=[1,3,640,640])"])
        XCTAssertTrue(app.frame().text.contains("x[1,3,640,640]"))
    }
}

final class LayerPathFoldingTests: XCTestCase {
    /// feed, then /M/enc/0/{conv,relu}, /M/enc/1/{conv,relu}, /M/head/fc, a node without a path, fetch.
    func state() -> AppState {
        let paths: [(String, String?)] = [("feed", nil), ("conv2d", "/M/enc/0/conv"), ("relu", "/M/enc/0/relu"),
                                          ("conv2d", "/M/enc/1/conv"), ("relu", "/M/enc/1/relu"), ("matmul_v2", "/M/head/fc"),
                                          ("softmax", nil), ("fetch", nil)]
        let nodes = paths.enumerated().map { i, p in
            Node(id: i, type: p.0, inputs: [Slot("X", ["v\(i)"])], outputs: [Slot("Out", ["v\(i + 1)"])], provenance: ["v\(i + 1)"],
                 layerPath: p.1)
        }
        let g = Graph(nodes: nodes, values: [:], inputs: [], outputs: [])
        var s = AppState(modelName: "m", passes: [PassStep(name: "loaded", graph: g, changes: [])], size: Size(width: 100, height: 30),
                         view: .graph)
        var snap = ProfileSnapshot()
        snap.layers = nodes.map { LayerProfile(nodeID: $0.id, name: $0.name, status: .executed, layerType: $0.type, execType: nil, outPrecision: nil, meanMs: Double($0.id)) }
        s = reduce(s, .snapshot(snap)).0
        return s
    }

    func testPrefixes() {
        XCTAssertEqual(layerPathPrefix("/M/enc/0/conv", depth: 1), "/M")
        XCTAssertEqual(layerPathPrefix("/M/enc/0/conv", depth: 3), "/M/enc/0")
        XCTAssertEqual(layerPathPrefix("/M/enc", depth: 9), "/M/enc")
        XCTAssertEqual(layerPathPrefix("a/b", depth: 1), "a")
        XCTAssertNil(layerPathPrefix(nil, depth: 1))
        XCTAssertNil(layerPathPrefix("", depth: 1))
        XCTAssertEqual(maxLayerPathDepth(state().passes[0].graph.nodes), 4)
    }

    func testFoldDepthsAndExpand() {
        var (s, _) = press(state(), .char("f"))
        XCTAssertEqual(s.foldDepth, 1)
        // Depth 1: the five /M nodes are one row; nodes without a path stay.
        XCTAssertEqual(s.graphRows.map { $0.fold?.path ?? $0.node.type }, ["feed", "/M", "softmax", "fetch"])
        XCTAssertEqual(s.graphRows[1].fold?.nodeIDs, [1, 2, 3, 4, 5])
        (s, _) = press(s, .char("+"))
        XCTAssertEqual(s.graphRows.map { $0.fold?.path ?? $0.node.type }, ["feed", "/M/enc", "matmul_v2", "softmax", "fetch"],
                       "a group of one is shown as its node")
        (s, _) = press(s, .char("+"))
        XCTAssertEqual(s.graphRows.map { $0.fold?.path ?? $0.node.type }, ["feed", "/M/enc/0", "/M/enc/1", "matmul_v2", "softmax", "fetch"])
        (s, _) = press(s, .char("+"), .char("+"), .char("+"))
        XCTAssertEqual(s.foldDepth, 4, "capped at the deepest path")
        (s, _) = press(s, .char("-"), .char("-"))
        XCTAssertEqual(s.foldDepth, 2)
        // Enter on a folded row expands it instead of opening a detail; → does the same and does not step a pass.
        (s, _) = press(s, .char("j"))
        let (t, e) = press(s, .enter)
        XCTAssertNil(t.detail)
        XCTAssertEqual(e, [])
        XCTAssertEqual(t.graphRows.map(\.node.id), [0, 1, 2, 3, 4, 5, 6, 7])
        let (u, _) = press(s, .right)
        XCTAssertEqual(u.graphRows.count, 8)
        XCTAssertEqual(u.passIndex, s.passIndex)
        // Enter on a plain row still opens it; f turns folding off.
        let (v, _) = press(u, .enter)
        XCTAssertEqual(v.detail?.nodeID, 1)
        (s, _) = press(u, .char("f"))
        XCTAssertNil(s.foldDepth)
        XCTAssertEqual(s.graphRows.count, 8)
    }

    func testFoldedRowShowsCountPathAndSummedTime() {
        let (s, _) = press(state(), .char("f"))
        let text = render(s, theme: .builtinDefault).text
        // Nodes 1…5 at 1…5 ms: 15 ms in all.
        XCTAssertTrue(text.contains("5 nodes") && text.contains("/M ") && text.contains("15.00"), text)
        XCTAssertTrue(text.contains("folded, depth 1"), text)
    }

    func testModelsWithoutPathsSaySo() {
        let (s, _) = press(makeState(view: .graph), .char("f"))
        XCTAssertNil(s.foldDepth)
        XCTAssertTrue(s.message?.contains("no layer paths") == true)
    }

    func testFilterMatchesLayerPaths() {
        var s = state()
        s.filter = "head"
        XCTAssertEqual(s.graphRows.map(\.node.type), ["matmul_v2"])
    }
}
