import QtopFormat
import QtopGraph

/// Assigns every intermediate value a buffer, reusing a buffer once the value stored in it is dead.
///
/// Greedy best-fit over the execution order: outputs of step i take the smallest free buffer that fits (or a new
/// one); after step i, buffers of values whose last reader is step i return to the free list. Model outputs stay
/// alive to the end.
public struct MemoryPlan: Sendable {
    /// Buffer index per value name.
    public let slotOf: [String: Int]
    /// Capacity of each buffer, in bytes.
    public let slotBytes: [Int]

    public var totalBytes: Int { slotBytes.reduce(0, +) }

    /// `external` values get no buffer (run-time-sized outputs the kernel allocates itself).
    public static func build(graph g: Graph, order: [Node], bytesOf: (String) -> Int, keepAlive: Set<String>,
                             external: Set<String> = []) -> MemoryPlan {
        var lastUse: [String: Int] = [:]
        for (i, n) in order.enumerated() { for v in n.allInputs { lastUse[v] = i } }
        for v in keepAlive { lastUse[v] = Int.max }
        var slotOf: [String: Int] = [:]
        var slotBytes: [Int] = []
        var free: [Int] = []
        for (i, n) in order.enumerated() {
            for v in n.allOutputs where slotOf[v] == nil && g.values[v]?.constant == nil && !external.contains(v) {
                let need = max(bytesOf(v), 1)
                if let best = free.filter({ slotBytes[$0] >= need }).min(by: { slotBytes[$0] < slotBytes[$1] }) {
                    free.removeAll { $0 == best }
                    slotOf[v] = best
                } else if let grow = free.max(by: { slotBytes[$0] < slotBytes[$1] }) {
                    // No free buffer is big enough: grow the largest free one rather than adding another.
                    free.removeAll { $0 == grow }
                    slotBytes[grow] = need
                    slotOf[v] = grow
                } else {
                    slotOf[v] = slotBytes.count
                    slotBytes.append(need)
                }
            }
            var dying = Set<String>()
            for v in n.allInputs + n.allOutputs where (lastUse[v] ?? i) <= i { dying.insert(v) }
            for v in dying { if let s = slotOf[v], !free.contains(s), !stillUsed(s, slotOf, lastUse, after: i) { free.append(s) } }
        }
        return MemoryPlan(slotOf: slotOf, slotBytes: slotBytes)
    }

    /// A buffer is free only when no value assigned to it is read after step `i`.
    static func stillUsed(_ slot: Int, _ slotOf: [String: Int], _ lastUse: [String: Int], after i: Int) -> Bool {
        slotOf.contains { $0.value == slot && (lastUse[$0.key] ?? -1) > i }
    }
}
