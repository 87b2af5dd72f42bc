import Foundation

/// Decodes a large PIR file on several cores. Each worker runs its own `JSONDecoder` over the whole text (the
/// parse is the cheap part) and materialises one contiguous run of block 0's ops, skipping the rest unread; the
/// runs are joined in file order. Every worker decodes the shared parts (base_code, args) the same way, and only
/// its own ops besides, so the first failing run reports the error a single decoder would have met first.
enum PIRStripes {
    /// Below this many bytes per worker, one decoder is quicker than starting more.
    static let minBytesPerStripe = 2 << 20
    static let maxStripes = 4

    static func count(forBytes n: Int) -> Int {
        max(1, min(maxStripes, ProcessInfo.processInfo.activeProcessorCount, n / minBytesPerStripe))
    }

    static func decode(_ data: Data, stripes: Int) throws -> PIRJSON.File {
        let k = max(1, stripes)
        if k == 1 { return try JSONDecoder().decode(PIRJSON.File.self, from: data) }
        let results = Results(count: k)
        DispatchQueue.concurrentPerform(iterations: k) { i in
            let decoder = JSONDecoder()
            decoder.userInfo[PIRJSON.Stripe.key] = PIRJSON.Stripe(index: i, count: k)
            results.set(i, Result { try decoder.decode(PIRJSON.File.self, from: data) })
        }
        var file = try results.take(0).get()
        for i in 1..<k {
            let part = try results.take(i).get()
            file.program?.block?.ops.append(contentsOf: part.program?.block?.ops ?? [])
        }
        return file
    }

    /// One slot per worker, written once each.
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Result<PIRJSON.File, Error>?]

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func set(_ i: Int, _ r: Result<PIRJSON.File, Error>) {
            lock.lock()
            slots[i] = r
            lock.unlock()
        }

        func take(_ i: Int) -> Result<PIRJSON.File, Error> {
            lock.lock()
            defer { lock.unlock() }
            return slots[i] ?? .failure(CocoaError(.coderInvalidValue))
        }
    }
}
