import QtopGraph
import QtopPasses
import QtopProfile
import QtopTestSupport
import XCTest
@testable import QtopUI

/// The pass timeline is keyed by the chosen input shapes: the history the UI shows is asked again when `s` (or the
/// startup prompt) changes them, so fold-shape-computation appears once shapes are known, as in
/// `qtop passes --shape`.
final class PassTimelineShapeTests: XCTestCase {
    /// A provider like the CLI's: without shapes the declared history; with shapes a fold step first.
    final class Provider {
        var asked: [(ExecMode, [String: [Int]])] = []
        func steps(_ mode: ExecMode, _ shapes: [String: [Int]]) -> [PassStep] {
            asked.append((mode, shapes))
            let base = DemoData.passes()
            guard !shapes.isEmpty else { return base }
            let text = shapes.sorted { $0.key < $1.key }.map { "\($0.key)=\(InputShapes.text($0.value))" }.joined(separator: ",")
            let fold = PassStep(name: "fold-shape-computation", graph: base[0].graph,
                                changes: [Change(kind: .rewritten, node: "feed", nodeID: 0, detail: "input \(text)")])
            return [base[0], fold] + base.dropFirst()
        }
    }

    func testTimelineReKeysWhenShapesChange() {
        let provider = Provider()
        let feed = DemoData.feed()
        let app = App(modelName: DemoData.modelName, passes: DemoData.passes(), feed: feed, themes: [.builtinDefault],
                      size: Size(width: 120, height: 30), ascii: false, color: false, view: .graph,
                      passesForMode: provider.steps)
        // First snapshot: the running mode's history for the declared shapes (none chosen yet).
        XCTAssertEqual(provider.asked.map(\.0), [.int8])
        XCTAssertEqual(provider.asked.last?.1, [:])
        XCTAssertFalse(app.state.passes.contains { $0.name == "fold-shape-computation" })
        app.poll()
        XCTAssertEqual(provider.asked.count, 1, "same mode and shapes: not asked again")

        // `s`, a shape, Enter: the runner is asked to re-specialize and the timeline re-keys to those shapes.
        app.send(.key(.char("s")))
        app.send(.key(.ctrl("u")))
        for c in "[1,3,32,32]" { app.send(.key(.char(c))) }
        app.send(.key(.enter))
        XCTAssertEqual(feed.calls.last, "setInputShapes(image=[1,3,32,32])")
        app.poll()
        XCTAssertEqual(provider.asked.count, 2)
        XCTAssertEqual(provider.asked.last?.1, ["image": [1, 3, 32, 32]])
        XCTAssertEqual(app.state.passesShapes, ["image": [1, 3, 32, 32]])
        XCTAssertEqual(app.state.passes.map(\.name).prefix(2), ["loaded", "fold-shape-computation"])
        XCTAssertEqual(app.state.passIndex, app.state.passes.count - 1, "the timeline shows the final step")
        XCTAssertTrue(app.frame().text.contains("fold-shape-computation") || app.frame().text.contains("fold-shape"),
                      app.frame().text)

        // A mode change keeps the shapes in the key.
        app.send(.key(.char("m")))
        app.poll()
        XCTAssertEqual(provider.asked.last?.0, .fp32)
        XCTAssertEqual(provider.asked.last?.1, ["image": [1, 3, 32, 32]])
    }

    func testReducerRecordsTheShapesOfTheHistory() {
        var s = makeState(view: .graph)
        s.passIndex = 1
        s = reduce(s, .passes(.fp32, DemoData.passes(), shapes: ["image": [2, 3, 32, 32]])).0
        XCTAssertEqual(s.passesShapes, ["image": [2, 3, 32, 32]])
        XCTAssertEqual(s.passesMode, .fp32)
        XCTAssertEqual(s.passIndex, DemoData.passes().count - 1)
        s.givenShapes = ["image": [2, 3, 32, 32]]
        XCTAssertEqual(s.chosenShapes, s.passesShapes, "--shape values key the history until the prompt replaces them")
        s.requestedShapes = ["image": [1, 3, 32, 32]]
        XCTAssertNotEqual(s.chosenShapes, s.passesShapes)
    }
}
