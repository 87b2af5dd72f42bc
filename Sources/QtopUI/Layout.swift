import QtopProfile

/// Screen geometry shared by the renderer and the reducer (scroll clamping, mouse hit-testing): pure functions
/// of the state and the screen size, no drawing.
public struct Layout: Sendable {
    /// Screen rows: 0...1 header, 2 tabs, then the body, the key bar on the last row.
    public static let headerRows = 3
    public var size: Size

    public var keyBarY: Int { size.height - 1 }
    public var bodyY: Int { Layout.headerRows }
    public var bodyHeight: Int { max(0, size.height - Layout.headerRows - 1) }

    /// Y of the table header line in a view (graph view has the pass timeline and a summary line above it).
    public func tableHeaderY(_ v: ViewKind) -> Int { v == .graph ? bodyY + 2 : bodyY }
    public func firstRowY(_ v: ViewKind) -> Int { tableHeaderY(v) + 1 }
    /// Rows of data visible in a view (profile and compare keep their last line for totals).
    public func visibleRows(_ v: ViewKind) -> Int {
        let n = keyBarY - firstRowY(v) - (v == .graph ? 0 : 1)
        return max(1, n)
    }

    /// Tabs on the tab line: the view and its x range.
    public static func tabs() -> [(ViewKind, Range<Int>)] {
        var x = 1
        var out: [(ViewKind, Range<Int>)] = []
        for v in ViewKind.allCases {
            let label = tabLabel(v)
            out.append((v, x..<(x + label.count)))
            x += label.count + 1
        }
        return out
    }

    public static func tabLabel(_ v: ViewKind) -> String { " \(v.rawValue + 1) \(v.title) " }
}

/// A placed table column.
public struct PlacedColumn: Sendable {
    public var id: String
    public var title: String
    public var x: Int
    public var width: Int
    public var right: Bool
}

/// A column request: fixed `width` (0 = takes the remaining space, at least `minWidth`), dropped from the right
/// priority-wise (higher `priority` goes first) when the screen is too narrow.
public struct ColumnSpec: Sendable {
    public var id: String
    public var title: String
    public var width: Int
    public var minWidth: Int
    public var priority: Int
    public var right: Bool

    public init(_ id: String, _ title: String, width: Int, minWidth: Int = 0, priority: Int = 0, right: Bool = false) {
        self.id = id
        self.title = title
        self.width = width
        self.minWidth = minWidth
        self.priority = priority
        self.right = right
    }
}

/// Lays out columns in `width` cells with one space between them, dropping low-priority columns that do not fit.
public func layoutColumns(_ specs: [ColumnSpec], width: Int, startX: Int = 0) -> [PlacedColumn] {
    var kept = specs
    func need(_ s: [ColumnSpec]) -> Int { s.reduce(0) { $0 + ($1.width == 0 ? $1.minWidth : $1.width) } + max(0, s.count - 1) }
    while need(kept) > width, let drop = kept.indices.filter({ kept[$0].width > 0 }).max(by: { kept[$0].priority < kept[$1].priority }),
          kept[drop].priority > 0 {
        kept.remove(at: drop)
    }
    let fixed = kept.reduce(0) { $0 + $1.width } + max(0, kept.count - 1)
    let flexCount = kept.filter { $0.width == 0 }.count
    let flex = flexCount > 0 ? max(0, width - fixed) / flexCount : 0
    var x = startX
    var out: [PlacedColumn] = []
    for s in kept {
        let w = s.width == 0 ? max(s.minWidth, flex) : s.width
        out.append(PlacedColumn(id: s.id, title: s.title, x: x, width: w, right: s.right))
        x += w + 1
    }
    return out
}

public func profileColumnSpecs() -> [ColumnSpec] {
    [
        ColumnSpec("name", ProfileColumn.name.title, width: 0, minWidth: 16),
        ColumnSpec("type", ProfileColumn.type.title, width: 14, priority: 2),
        ColumnSpec("last", ProfileColumn.last.title, width: 8, priority: 3, right: true),
        ColumnSpec("avg", ProfileColumn.avg.title, width: 8, right: true),
        ColumnSpec("share", ProfileColumn.share.title, width: 6, right: true),
        ColumnSpec("bar", "", width: 10, priority: 5),
        ColumnSpec("precision", ProfileColumn.precision.title, width: 4, priority: 4),
        ColumnSpec("outPrecision", ProfileColumn.outPrecision.title, width: 4, priority: 8),
        ColumnSpec("execType", ProfileColumn.execType.title, width: 26, priority: 1),
        ColumnSpec("isa", ProfileColumn.isa.title, width: 11, priority: 6),
        ColumnSpec("status", ProfileColumn.status.title, width: 13, priority: 7),
    ]
}

public func profileColumnID(_ c: ProfileColumn) -> String {
    switch c {
    case .name: return "name"
    case .type: return "type"
    case .last: return "last"
    case .avg: return "avg"
    case .share: return "share"
    case .precision: return "precision"
    case .outPrecision: return "outPrecision"
    case .execType: return "execType"
    case .isa: return "isa"
    case .status: return "status"
    }
}

/// Columns of the profile table; all sortable.
public enum ProfileColumn: Int, CaseIterable, Sendable {
    case name, type, last, avg, share, precision, outPrecision, execType, isa, status

    public var title: String {
        switch self {
        case .name: return "Layer"
        case .type: return "Type"
        case .last: return "Last ms"
        case .avg: return "Avg ms"
        case .share: return "Share"
        case .precision: return "Prec"
        case .outPrecision: return "Out"
        case .execType: return "Implementation"
        case .isa: return "ISA"
        case .status: return "Status"
        }
    }

    /// Numeric columns start sorted descending (largest first), text columns ascending.
    public var descendingByDefault: Bool { [.last, .avg, .share].contains(self) }
}

/// The pass timeline's items as drawn (x ranges per step), shared by render and mouse hit-testing.
public func timelineSegments(_ s: AppState) -> [(Int, Range<Int>)] {
    let labels = s.passes.enumerated().map { i, p in " \(i) \(i == 0 ? "loaded" : p.name) " }
    let startX = 8
    let avail = s.size.width - startX - 3
    // Window of steps around the current one that fits.
    var lo = s.passIndex, hi = s.passIndex
    guard s.passes.indices.contains(s.passIndex) else { return [] }
    var used = labels[s.passIndex].count
    while true {
        var grew = false
        if hi + 1 < labels.count, used + labels[hi + 1].count + 1 <= avail { hi += 1; used += labels[hi].count + 1; grew = true }
        if lo - 1 >= 0, used + labels[lo - 1].count + 1 <= avail { lo -= 1; used += labels[lo].count + 1; grew = true }
        if !grew { break }
    }
    var x = startX + (lo > 0 ? 2 : 0)
    var out: [(Int, Range<Int>)] = []
    for i in lo...hi {
        out.append((i, x..<(x + labels[i].count)))
        x += labels[i].count + 1
    }
    return out
}
