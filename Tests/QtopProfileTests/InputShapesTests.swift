import XCTest
@testable import QtopProfile

/// The `--shape` grammar and its checks, shared by the CLI and the UI's shape prompt.
final class InputShapesTests: XCTestCase {
    let image = DeclaredInput(name: "x", shape: [-1, 3, -1, -1])
    let tokens = DeclaredInput(name: "ids", shape: [-1, -1], elementBytes: 8)

    func message(_ args: [String], _ inputs: [DeclaredInput]) -> String {
        do {
            _ = try InputShapes.parse(args, inputs: inputs)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testForms() throws {
        XCTAssertEqual(try InputShapes.parse(["x=[1,3,640,640]"], inputs: [image]), ["x": [1, 3, 640, 640]])
        XCTAssertEqual(try InputShapes.parse(["[1,3,224,224]"], inputs: [image]), ["x": [1, 3, 224, 224]])
        XCTAssertEqual(try InputShapes.parse([" x = [ 2, 3 , 48,320 ] "], inputs: [image]), ["x": [2, 3, 48, 320]])
        XCTAssertEqual(try InputShapes.parse(["x[1,3,8,8]"], inputs: [image]), ["x": [1, 3, 8, 8]], "benchmark_app's NAME[dims]")
        let two = [image, tokens]
        XCTAssertEqual(try InputShapes.parse(["x=[1,3,48,320],ids=[1,2]"], inputs: two), ["x": [1, 3, 48, 320], "ids": [1, 2]])
        XCTAssertEqual(try InputShapes.parse(["x=[1,3,48,320]", "ids=[1,2]"], inputs: two), ["x": [1, 3, 48, 320], "ids": [1, 2]])
        XCTAssertEqual(try InputShapes.parse([], inputs: two), [:])
        // Names with Paddle's punctuation.
        let dotted = DeclaredInput(name: "image.tmp_0/a-b", shape: [1, 2])
        XCTAssertEqual(try InputShapes.parse(["image.tmp_0/a-b=[1,2]"], inputs: [dotted]), ["image.tmp_0/a-b": [1, 2]])
    }

    func testSyntaxErrors() {
        XCTAssertTrue(message([""], [image]).contains("empty shape"))
        XCTAssertTrue(message(["x=1,3,4,4"], [image]).contains("expected dims in brackets"))
        XCTAssertTrue(message(["x=[1,3,4,4"], [image]).contains("missing ']'"))
        XCTAssertTrue(message(["x=[1,3,a,4]"], [image]).contains("'a' is not a whole number"))
        XCTAssertTrue(message(["x=[1,3,,4]"], [image]).contains("'' is not a whole number"))
        XCTAssertTrue(message(["x=[1,3,4,4]y=[1]"], [image]).contains("expected ','"))
        XCTAssertTrue(message(["x=[1,3,4,99999999999999999999999]"], [image]).contains("too large"))
        XCTAssertTrue(message(["x=[1,3,4,4.5]"], [image]).contains("not a whole number"))
    }

    func testValidation() {
        XCTAssertEqual(message(["y=[1,3,4,4]"], [image]), "the model has no input named 'y' (inputs: x)")
        XCTAssertEqual(message(["x=[1,3,4]"], [image]), "input 'x' has 4 dims [-1,3,-1,-1], got 3 in [1,3,4]")
        XCTAssertEqual(message(["x=[1,4,8,8]"], [image]), "input 'x': dim 1 is fixed at 3 by the model [-1,3,-1,-1], got 4")
        XCTAssertEqual(message(["x=[1,3,0,8]"], [image]), "input 'x': dim 2 must be positive, got 0 in [1,3,0,8]")
        XCTAssertEqual(message(["x=[1,3,-5,8]"], [image]), "input 'x': dim 2 must be positive, got -5 in [1,3,-5,8]")
        XCTAssertEqual(message(["x=[1,3,2147483648,1]"], [image]), "input 'x': dim 2 is too large (2147483648 > 2147483647)")
        XCTAssertTrue(message(["x=[1,3,2147483647,2147483647]"], [image]).contains("more than 4294967296 elements"))
        XCTAssertTrue(message(["ids=[65536,40000]"], [tokens]).contains("more than 16 GiB"), "2.6 G elements of 8 bytes")
        XCTAssertEqual(message(["x=[1,3,8,8],x=[1,3,8,8]"], [image]), "input 'x' is given twice")
        XCTAssertEqual(message(["[1,2]"], [image, tokens]),
                       "[1,2] without a name: the model has 2 inputs (x, ids); write NAME=[1,2]")
        // Overflow of the element count itself is caught, not trapped.
        let wide = DeclaredInput(name: "w", shape: [-1, -1, -1, -1, -1])
        XCTAssertTrue(message(["w=[2147483647,2147483647,2147483647,2147483647,2147483647]"], [wide]).contains("too large"))
        // Unknown rank: any rank is accepted, bounds still apply.
        let unranked = DeclaredInput(name: "u", shape: nil)
        XCTAssertEqual(message(["u=[2,5]"], [unranked]), "no error")
    }

    func testResolveDefaultsTheBatchAndNamesUnknownDims() {
        let fixed = DeclaredInput(name: "x", shape: [-1, 3, 32, 32])
        XCTAssertEqual(try InputShapes.resolve([fixed], given: [:]).get(), ["x": [1, 3, 32, 32]])
        XCTAssertFalse(fixed.needsShape)
        XCTAssertTrue(image.needsShape)
        switch InputShapes.resolve([image], given: [:]) {
        case .success: XCTFail("H and W are unknown")
        case .failure(let e):
            XCTAssertEqual(e.description, "input 'x' has unknown dims [-1,3,-1,-1]; pass --shape x=[1,3,640,640]")
        }
        XCTAssertEqual(try InputShapes.resolve([image, fixed.renamed("y")], given: ["x": [1, 3, 64, 64]]).get(),
                       ["x": [1, 3, 64, 64], "y": [1, 3, 32, 32]])
    }

    func testSuggestions() {
        XCTAssertEqual(InputShapes.suggestion(image), [1, 3, 640, 640])
        XCTAssertEqual(InputShapes.suggestion(DeclaredInput(name: "x", shape: [-1, 3, 48, -1])), [1, 3, 48, 320], "text line")
        XCTAssertEqual(InputShapes.suggestion(DeclaredInput(name: "x", shape: [-1, -1, -1, 3])), [1, 640, 640, 3], "NHWC")
        XCTAssertEqual(InputShapes.suggestion(tokens), [1, 16])
        XCTAssertEqual(InputShapes.suggestion(DeclaredInput(name: "x", shape: [1, 3, 224, 224])), [1, 3, 224, 224])
        XCTAssertEqual(InputShapes.text([("x", [1, 3, 8, 8])], bare: true), "[1,3,8,8]")
        XCTAssertEqual(InputShapes.text([("a", [1]), ("b", [2, 3])], bare: true), "a=[1],b=[2,3]")
        // Every suggestion passes validation (the prompt's default must be accepted as is).
        for d in [image, tokens, DeclaredInput(name: "x", shape: [-1, 3, 48, -1]), DeclaredInput(name: "x", shape: [-1, -1, -1, 3])] {
            XCTAssertNoThrow(try InputShapes.validate(InputShapes.suggestion(d), for: d))
        }
    }
}

extension DeclaredInput {
    func renamed(_ n: String) -> DeclaredInput { DeclaredInput(name: n, shape: shape, elementBytes: elementBytes) }
}
