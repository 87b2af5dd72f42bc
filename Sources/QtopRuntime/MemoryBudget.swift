import Foundation
import QtopProfile

/// Refuses a plan whose memory would exceed a limit, with the figure, before anything is allocated.
///
/// The limit defaults to the machine's physical memory (`--max-memory` lowers or raises it). Sizes come from shapes
/// that came from files, so every product and sum here saturates at `Int.max` instead of trapping: a saturated size
/// is simply over any limit.
public enum MemoryBudget {
    /// What the machine has: the default limit.
    public static var physicalBytes: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    /// Bytes of a tensor of `shape` with `elementBytes`-byte elements; `Int.max` when the product overflows.
    /// Unknown (negative) extents count as 1, as the planner fixes them to batch 1.
    public static func bytes(shape: [Int], elementBytes: Int) -> Int {
        var n = elementBytes
        for d in shape {
            let (m, overflow) = n.multipliedReportingOverflow(by: max(d, 1))
            if overflow { return .max }
            n = m
        }
        return n
    }

    /// Saturating sum.
    public static func total(_ sizes: [Int]) -> Int {
        var sum = 0
        for s in sizes {
            let (t, overflow) = sum.addingReportingOverflow(s)
            if overflow { return .max }
            sum = t
        }
        return sum
    }

    /// Throws when the plan's buffers plus the constants it keeps exceed `limit` bytes. `inputShapes` (the shapes
    /// the user asked for, if any) are named in the message: they are what makes activations large.
    public static func check(bufferBytes: [Int], constantBytes: Int, limit: Int, inputShapes: [String: [Int]] = [:]) throws {
        let buffers = total(bufferBytes)
        let all = total([buffers, constantBytes])
        guard all > limit else { return }
        let who = inputShapes.isEmpty ? "the plan needs"
            : "input shapes " + inputShapes.sorted { $0.key < $1.key }.map { "\($0.key)=\(InputShapes.text($0.value))" }.joined(separator: ",") + " need"
        throw ExecutionError("\(who) \(format(all)) (activations \(format(buffers)) + weights \(format(constantBytes))), "
                             + "more than the memory limit of \(format(limit)); --max-memory raises the limit")
    }

    /// "512 MB", "1.5 GB", "more than 8 EB" for a saturated size.
    public static func format(_ bytes: Int) -> String {
        if bytes == .max { return "more than 8 EB" }
        let units = ["B", "KB", "MB", "GB", "TB", "PB", "EB"]
        var v = Double(bytes)
        var u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(bytes) B" : String(format: v < 10 ? "%.1f %@" : "%.0f %@", v, units[u])
    }

    /// Parses a `--max-memory` value: a byte count with an optional K/M/G/T suffix (binary, optional "B"/"iB").
    public static func parse(_ text: String) -> Int? {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where s.hasSuffix(suffix) && s.count > suffix.count { s.removeLast(suffix.count); break }
        let scale: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        var factor = 1.0
        if let last = s.last, let f = scale[last] { factor = f; s.removeLast() }
        guard let v = Double(s), v.isFinite, v > 0 else { return nil }
        let bytes = v * factor
        guard bytes >= 1, bytes < 9.2e18 else { return nil }
        return Int(bytes)
    }
}
