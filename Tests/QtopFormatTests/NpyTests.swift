import Foundation
import QtopFormat
import QtopTestSupport
import XCTest

final class NpyTests: XCTestCase {
    func testRoundTrip() throws {
        let t = HostTensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let back = try Npy.decode(Npy.encode(t), file: "x.npy")
        XCTAssertEqual(back.shape, [2, 3])
        XCTAssertEqual(back.floatValues(), [1, 2, 3, 4, 5, 6])
        let scalar = HostTensor(shape: [], floats: [7])
        XCTAssertEqual(try Npy.decode(Npy.encode(scalar), file: "s.npy").shape, [])
        // Header is padded so data starts on a 64-byte boundary, as NumPy writes it.
        XCTAssertEqual((Npy.encode(t).count - t.byteCount) % 64, 0)
    }

    func header(_ dict: String) -> Data {
        var h = dict
        while (10 + h.utf8.count + 1) % 64 != 0 { h += " " }
        h += "\n"
        var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        d.append(contentsOf: [UInt8(h.utf8.count & 0xff), UInt8(h.utf8.count >> 8)])
        d.append(h.data(using: .utf8)!)
        return d
    }

    func testDtypes() throws {
        var d = header("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }")
        [Int64(3), -4].withUnsafeBytes { d.append(contentsOf: $0) }
        let t = try Npy.decode(d, file: "i.npy")
        XCTAssertEqual(t.dtype, .i64)
        XCTAssertEqual(t.int64Values(), [3, -4])
        var d32 = header("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 1), }")
        [Int32(9)].withUnsafeBytes { d32.append(contentsOf: $0) }
        XCTAssertEqual(try Npy.decode(d32, file: "i.npy").int64Values(), [9])
    }

    func testErrors() {
        func err(_ d: Data) -> String {
            do { _ = try Npy.decode(d, file: "bad.npy"); return "decoded" } catch { return "\(error)" }
        }
        XCTAssertTrue(err(Data([1, 2, 3])).contains("bad magic"))
        var fortran = header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }")
        fortran.append(Data(count: 16))
        XCTAssertTrue(err(fortran).contains("Fortran-order"))
        var complex = header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }")
        complex.append(Data(count: 8))
        XCTAssertTrue(err(complex).contains("unsupported .npy dtype"))
        var short = header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }")
        short.append(Data(count: 8))
        XCTAssertTrue(err(short).contains("truncated"))
        XCTAssertTrue(err(header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }")).contains("malformed"))
        XCTAssertTrue(err(Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0xff, 0xff])).contains("truncated"))
    }

    /// fortran_order is a Python bool, but 1 / true must not slip through as C order; anything else is malformed.
    func testFortranOrderSpellings() {
        func decode(_ order: String) -> String {
            var d = header("{'descr': '<f4', 'fortran_order': \(order), 'shape': (2, 2), }")
            d.append(Data(count: 16))
            do { return "\(try Npy.decode(d, file: "f.npy").shape)" } catch { return "\(error)" }
        }
        for spelling in ["True", "true", "1"] { XCTAssertTrue(decode(spelling).contains("Fortran-order"), spelling) }
        for spelling in ["False", "false", "0"] { XCTAssertEqual(decode(spelling), "[2, 2]", spelling) }
        XCTAssertTrue(decode("2").contains("fortran_order is '2'"), decode("2"))
    }

    /// Element count × element size past Int.max is an error, not a trap (fuzz regression npy/bytes-overflow.npy).
    func testByteCountOverflow() {
        let d = header("{'descr': '<f8', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2), }")
        XCTAssertThrowsError(try Npy.decode(d, file: "big.npy")) { XCTAssertTrue("\($0)".contains("overflows"), "\($0)") }
    }
}
