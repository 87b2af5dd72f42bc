import Foundation

/// Decodes a large PIR file on several cores, each `JSONDecoder` parsing only its own part of the text.
///
/// Why: Foundation's decoder first scans the whole input it is given into a map, then decodes; two decoders over the
/// whole text each pay the full scan (about a quarter of the decode's instructions). So the text is cut instead:
/// block 0's op list (nearly all of a program) is split at element boundaries into `parts` runs, each decoded as a
/// JSON array of ops by its own decoder, while one more decoder reads the rest of the file with the op list replaced
/// by a one-string marker. Every byte is still parsed and validated by Foundation; `OpListSplit` only locates
/// boundaries (string quoting and bracket depth, nothing else). The marker, unique per call, proves the cut list was
/// block 0's. Whenever anything differs from that shape — the list is not found, a part fails to decode, the marker
/// is not where block 0's ops are — the whole text goes through one decoder, so a bad file reports exactly the error a
/// single decoder meets.
enum PIRStripes {
    /// Below this many bytes per part, one decoder is quicker than starting more.
    static let minBytesPerStripe = 2 << 20
    static let maxStripes = 4

    static func count(forBytes n: Int) -> Int {
        max(1, min(maxStripes, ProcessInfo.processInfo.activeProcessorCount, n / minBytesPerStripe))
    }

    static func decode(_ data: Data, stripes: Int) throws -> PIRJSON.File {
        let k = max(1, stripes)
        guard k > 1, let split = data.withUnsafeBytes({ OpListSplit.find(in: $0, parts: k) }) else { return try whole(data) }
        let marker = "qtop.split.\(UUID().uuidString)"
        let base = data.startIndex
        var head = Data()
        head.reserveCapacity(data.count - (split.close - split.open) + marker.utf8.count + 4)
        head.append(data[base..<(base + split.open + 1)])
        head.append(contentsOf: Array("\"\(marker)\"".utf8))
        head.append(data[(base + split.close)...])
        var parts: [Data] = []
        for (from, to) in zip(split.cuts, split.cuts.dropFirst()) {
            var d = Data(capacity: to - from + 1)
            d.append(UInt8(ascii: "["))
            d.append(data[(base + from + 1)..<(base + to)])
            d.append(UInt8(ascii: "]"))
            parts.append(d)
        }
        let (headText, partTexts) = (head, parts)
        let results = WorkerSlots<Result<PIRJSON.File, Error>>(count: parts.count + 1)
        DispatchQueue.concurrentPerform(iterations: parts.count + 1) { i in
            let decoder = JSONDecoder()
            if i == 0 {
                decoder.userInfo[PIRJSON.SplitMarker.key] = PIRJSON.SplitMarker(text: marker)
                results.set(0, Result { try decoder.decode(PIRJSON.File.self, from: headText) })
            } else {
                results.set(i, Result { try decoder.decode(PIRJSON.OpList.self, from: partTexts[i - 1]).file })
            }
        }
        var ops: [PIRJSON.Op] = []
        for i in 1..<(parts.count + 1) {
            guard let part = try? results.take(i)?.get() else { return try whole(data) }
            ops.append(contentsOf: part.program?.block?.ops ?? [])
        }
        guard var file = try? results.take(0)?.get(), file.program?.block?.markerSeen == true else { return try whole(data) }
        file.program?.block?.ops = ops
        return file
    }

    static func whole(_ data: Data) throws -> PIRJSON.File {
        try JSONDecoder().decode(PIRJSON.File.self, from: data)
    }
}

/// Where block 0's op list lies in a PIR file's text and where to cut it between ops. It reads no values: it only
/// skips strings (so brackets and commas inside them do not count) and counts bracket depth. Block 0's keys sit at
/// depth 6 (`{` root, `{` program, `[` regions, `{` region, `[` blocks, `{` block); its `"ops"` list is the first
/// one met at that depth. Any surprise (unbalanced brackets, an unterminated string, no such list) gives nil and the
/// caller decodes the whole text instead; whether the cut list really was block 0's is proved by the decode.
enum OpListSplit {
    struct Split: Equatable {
        /// Offsets of the list's `[` and `]`.
        let open: Int
        let close: Int
        /// `open`, the commas between ops where the list is cut, then `close`: part i is the text strictly between
        /// cuts[i] and cuts[i + 1].
        let cuts: [Int]
    }

    static let blockDepth = 6

    static func find(in raw: UnsafeRawBufferPointer, parts: Int) -> Split? {
        let b = raw.bindMemory(to: UInt8.self)
        let n = b.count
        var i = 0, depth = 0
        var open = -1
        scan: while i < n {
            switch b[i] {
            case UInt8(ascii: "\""):
                let start = i + 1
                guard let end = stringEnd(b, from: start) else { return nil }
                i = end
                if depth == blockDepth, end - start == 3, b[start] == UInt8(ascii: "o"), b[start + 1] == UInt8(ascii: "p"),
                   b[start + 2] == UInt8(ascii: "s") {
                    var j = skipSpace(b, from: end + 1)
                    guard j < n, b[j] == UInt8(ascii: ":") else { return nil }
                    j = skipSpace(b, from: j + 1)
                    guard j < n, b[j] == UInt8(ascii: "[") else { return nil }
                    open = j
                    break scan
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                guard depth >= 0 else { return nil }
            default:
                break
            }
            i += 1
        }
        guard open >= 0 else { return nil }
        // Cut at the first comma between ops past each equal share of the rest of the file.
        let span = n - open
        var cuts = [open]
        var nextTarget = open + span / parts
        i = open + 1
        depth = 0
        while i < n {
            switch b[i] {
            case UInt8(ascii: "\""):
                guard let end = stringEnd(b, from: i + 1) else { return nil }
                i = end
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 {
                    guard b[i] == UInt8(ascii: "]") else { return nil }
                    cuts.append(i)
                    return Split(open: open, close: i, cuts: cuts)
                }
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 0, i >= nextTarget, cuts.count < parts {
                    cuts.append(i)
                    nextTarget = open + span / parts * cuts.count
                }
            default:
                break
            }
            i += 1
        }
        return nil
    }

    /// The offset of the quote closing the string whose text starts at `from`, or nil if the text ends first.
    static func stringEnd(_ b: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var j = from
        while j < b.count {
            let c = b[j]
            if c == UInt8(ascii: "\"") { return j }
            j += c == UInt8(ascii: "\\") ? 2 : 1
        }
        return nil
    }

    static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var j = from
        while j < b.count, b[j] == 0x20 || b[j] == 0x09 || b[j] == 0x0A || b[j] == 0x0D { j += 1 }
        return j
    }
}
