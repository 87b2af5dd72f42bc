import Foundation
import XCTest
import QtopTestSupport
@testable import QtopUI

/// Whole screens of a real profile of a sample (RealProfile: timings masked) as plain text at fixed sizes, compared
/// with files in Golden/. A change in what the runtime emits (layers, exec types, precisions, dispatch, passes) or
/// in how the UI shows it fails here.
/// Regenerate with `QTOP_UPDATE_GOLDEN=1 swift test --filter QtopUIGoldenTests` and review the diff.
final class GoldenTests: XCTestCase {
    static let dir: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Golden").path
    }()

    func assertGolden(_ name: String, _ app: App, file: StaticString = #filePath, line: UInt = #line) {
        let text = app.frame().text
        let path = "\(GoldenTests.dir)/\(name).txt"
        if ProcessInfo.processInfo.environment["QTOP_UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.createDirectory(atPath: GoldenTests.dir, withIntermediateDirectories: true)
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
            XCTFail("missing golden \(path); run with QTOP_UPDATE_GOLDEN=1", file: file, line: line)
            return
        }
        if text != expected {
            let a = text.split(separator: "\n", omittingEmptySubsequences: false)
            let b = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let i = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
            XCTFail("\(name) differs at line \(i + 1):\n got: \(i < a.count ? String(a[i]) : "<none>")\nwant: \(i < b.count ? String(b[i]) : "<none>")\n\n\(text)",
                    file: file, line: line)
        }
    }

    func keys(_ app: App, _ ks: Key...) { for k in ks { app.send(.key(k)) } }

    func testGraphFinal100x30() { let (a, _) = makeApp(view: .graph); assertGolden("graph_final_100x30", a) }

    func testGraphStep0_100x30() {
        let (a, _) = makeApp(view: .graph)
        keys(a, .home, .char("["), .char("["), .char("["), .char("["))
        assertGolden("graph_step0_100x30", a)
    }

    func testGraphStep3_100x30() {
        let (a, _) = makeApp(view: .graph)
        keys(a, .left, .char("j"), .char("j"))
        assertGolden("graph_step3_100x30", a)
    }

    func testGraphSideBySide170x30() {
        let (a, _) = makeApp(size: Size(width: 170, height: 30), view: .graph)
        keys(a, .left)
        assertGolden("graph_step3_sidebyside_170x30", a)
    }

    func testGraphStep1_80x24() {
        let (a, _) = makeApp(size: Size(width: 80, height: 24), view: .graph)
        keys(a, .left, .left, .left)
        assertGolden("graph_step1_80x24", a)
    }

    func testProfile100x30() { let (a, _) = makeApp(); assertGolden("profile_100x30", a) }

    func testProfile80x24() { let (a, _) = makeApp(size: Size(width: 80, height: 24)); assertGolden("profile_80x24", a) }

    func testProfileFrozenFilteredRecompiling() {
        let (a, _) = makeApp()
        keys(a, .char(" "), .char("/"), .char("o"), .enter, .char(">"), .char("m"))
        assertGolden("profile_frozen_filter_100x30", a)
    }

    func testProfileASCII80x24() {
        let (a, _) = makeApp(size: Size(width: 80, height: 24), ascii: true)
        keys(a, .char("r"))
        assertGolden("profile_ascii_80x24", a)
    }

    /// The slowest qconv2d: filter the profile to "qconv", open the first row.
    func openQConv(_ a: App) {
        keys(a, .char("/"), .char("q"), .char("c"), .char("o"), .char("n"), .char("v"), .enter, .enter)
    }

    func testDetail100x30() {
        let (a, _) = makeApp()
        openQConv(a)
        assertGolden("detail_qconv_100x30", a)
    }

    func testDetailScrolled100x30() {
        let (a, _) = makeApp()
        openQConv(a)
        keys(a, .char("G"))
        assertGolden("detail_qconv_end_100x30", a)
    }

    func testDetailFromGraphQDQ80x24() {
        let (a, _) = makeApp(size: Size(width: 80, height: 24), view: .graph)
        keys(a, .home, .char("["), .char("["), .char("["), .char("["), .char("["), .char("["), .char("["), .char("["), .char("j"), .enter)
        assertGolden("detail_quantize_80x24", a)
    }

    func testCompare100x30() {
        let (a, _) = makeApp(view: .compare)
        assertGolden("compare_100x30", a)
    }

    func testHelp100x30() {
        let (a, _) = makeApp()
        keys(a, .char("?"))
        assertGolden("help_100x30", a)
    }

    func testHelpASCII80x24() {
        let (a, _) = makeApp(size: Size(width: 80, height: 24), ascii: true)
        keys(a, .char("?"))
        assertGolden("help_ascii_80x24", a)
    }

    func testShapePrompt100x30() {
        let (a, feed) = makeUnknownShapeApp()
        assertGolden("shape_prompt_100x30", a)
        XCTAssertEqual(feed.calls, [], "nothing runs before the shape is given")
    }

    func testShapePrompt80x24() {
        let (a, _) = makeUnknownShapeApp(size: Size(width: 80, height: 24), view: .profile)
        assertGolden("shape_prompt_80x24", a)
    }

    func testShapePromptError100x30() {
        let (a, feed) = makeUnknownShapeApp()
        keys(a, .backspace, .backspace, .backspace, .backspace, .char("0"), .char("]"), .enter)
        assertGolden("shape_prompt_error_100x30", a)
        XCTAssertEqual(feed.calls, [])
    }

    func testShapeLeftUnset80x24() {
        let (a, feed) = makeUnknownShapeApp(size: Size(width: 80, height: 24), view: .profile)
        keys(a, .escape)
        a.tick()
        assertGolden("shape_unset_80x24", a)
        XCTAssertEqual(feed.calls, [])
    }

    func testShapeAcceptedShowsInHeader100x30() {
        let (a, feed) = makeUnknownShapeApp()
        keys(a, .enter)
        XCTAssertEqual(feed.calls, ["setInputShapes(x=[1,3,640,640])"])
        assertGolden("shape_accepted_100x30", a)
    }

    func testGraphFoldedByLayerPath100x30() {
        let (a, _) = makeLayerPathApp()
        keys(a, .char("f"))
        assertGolden("graph_folded_100x30", a)
        keys(a, .char("+"), .char("j"), .right)
        assertGolden("graph_folded_depth2_expanded_100x30", a)
    }

    func testDetailShowsLayerPath80x24() {
        let (a, _) = makeLayerPathApp(size: Size(width: 80, height: 24))
        keys(a, .char("j"), .enter, .char("j"), .char("j"), .char("j"), .char("j"), .char("j"))
        assertGolden("detail_layer_path_80x24", a)
    }

    func testTooSmall() {
        let (a, _) = makeApp(size: Size(width: 60, height: 20))
        assertGolden("too_small_60x20", a)
    }

    func testTinyTerminalsNeverCrash() {
        for w in [0, 1, 2, 5, 79, 80] {
            for h in [0, 1, 2, 23, 24] {
                let (a, _) = makeApp(size: Size(width: w, height: h))
                for v in ["1", "2", "3"] {
                    a.send(.key(.char(Character(v))))
                    _ = a.frame()
                }
                a.send(.key(.char("?")))
                XCTAssertEqual(a.frame().lines.count, max(0, h))
            }
        }
    }

    func testEveryViewAtManySizes() {
        for (w, h) in [(80, 24), (100, 30), (159, 40), (160, 40), (250, 70)] {
            for view in ViewKind.allCases {
                let (a, _) = makeApp(size: Size(width: w, height: h), view: view)
                for k: Key in [.left, .char("j"), .char("G"), .enter, .char("G"), .escape, .char("k")] {
                    a.send(.key(k))
                    let g = a.frame()
                    XCTAssertEqual(g.width, w)
                    XCTAssertTrue(g.lines.allSatisfy { displayWidth($0) <= w })
                }
            }
        }
    }
}
