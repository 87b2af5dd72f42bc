import QtopPasses
import QtopProfile
import QtopTestSupport
@testable import QtopUI

/// An App over the built-in tiny model and a fake feed with fixed numbers.
func makeApp(size: Size = Size(width: 100, height: 30), ascii: Bool = false, color: Bool = true,
             view: ViewKind = .profile, themes: [Theme] = [.builtinDefault]) -> (App, FakeFeed) {
    let feed = DemoData.feed()
    let app = App(modelName: DemoData.modelName, passes: DemoData.passes(), feed: feed, themes: themes,
                  size: size, ascii: ascii, color: color, view: view)
    return (app, feed)
}

func makeState(size: Size = Size(width: 100, height: 30), view: ViewKind = .profile) -> AppState {
    var s = AppState(modelName: DemoData.modelName, passes: DemoData.passes(), cpuName: "Test CPU",
                     detectedISA: .avx512_vnni, availableISAs: [.generic, .sse41, .avx2, .avx512_core, .avx512_vnni],
                     size: size, themeNames: ["default", "light"], view: view)
    s = reduce(s, .snapshot(DemoData.snapshot())).0
    s = reduce(s, .comparison(DemoData.comparison())).0
    return s
}

/// Applies a sequence of keys, collecting effects.
func press(_ s: AppState, _ keys: Key...) -> (AppState, [Effect]) {
    var st = s
    var all: [Effect] = []
    for k in keys {
        let (n, e) = reduce(st, .key(k))
        st = n
        all += e
    }
    return (st, all)
}
