import Foundation
import QtopFormat
import QtopGraph
import QtopTestSupport
import XCTest

/// Damages the PIR samples many ways (seeded, so every run tries the same files) and feeds each result through
/// the reader and the import in process: every outcome must be a graph or a one-line `FormatError` — a trap
/// would end the test process. Mutations work on the text: truncation, numbers made huge / negative /
/// fractional, strings and op names changed, value ids swapped (dangling or redefined), objects and arrays
/// replaced, deleted or duplicated.
final class PIRMutationTests: XCTestCase {
    /// Seeded choices over the graph module's SplitMix64, the same on every platform.
    struct Rng {
        var generator: SplitMix64
        init(state: UInt64) { generator = SplitMix64(seed: state) }
        mutating func next() -> UInt64 { generator.next() }
        mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
    }

    /// Token positions of one sample's text, found once.
    struct Sample {
        let text: [UInt8]
        var numbers: [Range<Int>] = []
        var strings: [Range<Int>] = []
        var ids: [Range<Int>] = []
        var containers: [Range<Int>] = []

        init(_ data: Data) {
            text = Array(data)
            var stack: [Int] = []
            var i = 0
            while i < text.count {
                let c = text[i]
                if c == UInt8(ascii: "\"") {
                    var j = i + 1
                    while j < text.count, text[j] != UInt8(ascii: "\"") { j += text[j] == UInt8(ascii: "\\") ? 2 : 1 }
                    strings.append(i..<min(j + 1, text.count))
                    i = j + 1
                    continue
                }
                if c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) {
                    var j = i + 1
                    while j < text.count, "0123456789.eE+-".utf8.contains(text[j]) { j += 1 }
                    numbers.append(i..<j)
                    if i >= 4, Array(text[(i - 4)..<i]) == Array("\"%\":".utf8) { ids.append(i..<j) }
                    i = j
                    continue
                }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { stack.append(i) }
                if (c == UInt8(ascii: "}") || c == UInt8(ascii: "]")), let s = stack.popLast() { containers.append(s..<(i + 1)) }
                i += 1
            }
        }

        func replacing(_ r: Range<Int>, with s: String) -> Data { Data(text[..<r.lowerBound] + Array(s.utf8) + text[r.upperBound...]) }
        func slice(_ r: Range<Int>) -> String { String(decoding: text[r], as: UTF8.self) }
    }

    func mutate(_ s: Sample, _ rng: inout Rng) -> Data {
        switch rng.below(7) {
        case 0:
            return Data(s.text.prefix(rng.below(s.text.count)))
        case 1:
            return s.replacing(rng.pick(s.numbers), with: rng.pick(["1e300", "-1", "-2", "2147483648", "9223372036854775807",
                                                                   "18446744073709551615", "0", "0.5", "true", "null", "\"7\""]))
        case 2:
            return s.replacing(rng.pick(s.strings), with: rng.pick(["\"\"", "\"1.no_such_op\"", "\"7.relu\"", "\"p\"", "\"0.a_wat\"",
                                                                   "\"NULL\"", "\"1.while\"", "1", "null", "[]"]))
        case 3:
            return s.replacing(rng.pick(s.ids), with: s.slice(rng.pick(s.ids)))
        case 4:
            return s.replacing(rng.pick(s.containers), with: rng.pick(["null", "[]", "{}", "1", "\"s\"", "[[],[]]"]))
        case 5:
            // Delete an element with its separating comma.
            var r = rng.pick(s.containers)
            if r.upperBound < s.text.count, s.text[r.upperBound] == UInt8(ascii: ",") {
                r = r.lowerBound..<(r.upperBound + 1)
            } else if r.lowerBound > 0, s.text[r.lowerBound - 1] == UInt8(ascii: ",") {
                r = (r.lowerBound - 1)..<r.upperBound
            }
            return s.replacing(r, with: "")
        default:
            let r = rng.pick(s.containers)
            return s.replacing(r, with: s.slice(r) + "," + s.slice(r))
        }
    }

    func testMutatedSamplesNeverCrash() throws {
        var rng = Rng(state: 0x5EED_0009)
        var loaded = 0, refused = 0
        for (name, rounds) in [("pir_fp32", 300), ("pir_int8", 100)] {
            let sample = Sample(try Data(contentsOf: URL(fileURLWithPath: RepoPaths.sample(name + ".json"))))
            let params = try Data(contentsOf: URL(fileURLWithPath: RepoPaths.sample(name + ".pdiparams")))
            for i in 0..<rounds {
                let bad = mutate(sample, &rng)
                do {
                    let p = try PIRReader.decode(bad, file: "m.json")
                    let t = try ParamsReader.decodeCombined(params, declared: p.storedParameters(), file: "m.pdiparams")
                    let g = try PIRImport.buildGraph(program: p, params: t, file: "m.json")
                    XCTAssertFalse(g.nodes.isEmpty)
                    loaded += 1
                } catch let e as FormatError {
                    XCTAssertFalse(e.description.contains("\n"), "\(name) mutation \(i): \(e)")
                    refused += 1
                } catch {
                    XCTFail("\(name) mutation \(i): not a FormatError: \(error)")
                }
            }
        }
        // Both outcomes occur: the mutations reach past the JSON parser into the checks behind it.
        XCTAssertGreaterThan(loaded, 20)
        XCTAssertGreaterThan(refused, 100)
        print("PIR mutations: \(loaded) loaded, \(refused) refused with one line")
    }
}
