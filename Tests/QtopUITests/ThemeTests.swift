import Foundation
import XCTest
import QtopTestSupport
@testable import QtopUI

final class ThemeTests: XCTestCase {
    func testParseKeysCommentsUnknownAndFallback() {
        let t = Theme.parse("""
        # a comment
        theme[main_fg]="#112233"
        theme[main_bg]=""
          theme[title] = "#abc"
        theme[no_such_key]="#ffffff"
        theme[int8]="not a colour"
        garbage line
        theme16[main_fg]="bright_red"
        theme16[fp32]="4"
        """, name: "t")
        XCTAssertEqual(t[.main_fg].rgb, 0x112233)
        XCTAssertEqual(t[.main_fg].ansi16, 9)
        XCTAssertNil(t[.main_bg].rgb, "empty = terminal default")
        XCTAssertEqual(t[.title].rgb, 0xaabbcc)
        XCTAssertEqual(t[.fp32].ansi16, 4)
        XCTAssertEqual(t[.fp32].rgb, Theme.builtinDefault[.fp32].rgb, "a 16-colour override keeps the default RGB")
        XCTAssertEqual(t[.int8], Theme.builtinDefault[.int8], "bad values fall back to the default")
        XCTAssertEqual(t[.qdq], Theme.builtinDefault[.qdq], "missing keys fall back to the default")
        XCTAssertEqual(t.warnings.count, 2)
    }

    func testHexParsing() {
        XCTAssertEqual(parseHexColor("#FF8000")?.rgb, 0xff8000)
        XCTAssertEqual(parseHexColor("#f80")?.rgb, 0xff8800)
        XCTAssertEqual(parseHexColor(""), .terminalDefault)
        XCTAssertNil(parseHexColor("ff8000"))
        XCTAssertNil(parseHexColor("#ff80"))
        XCTAssertNil(parseHexColor("#gg0000"))
    }

    func testDowngradeTo256() {
        XCTAssertEqual(rgbTo256(0, 0, 0), 16)
        XCTAssertEqual(rgbTo256(255, 255, 255), 231)
        XCTAssertEqual(rgbTo256(128, 128, 128), 244, "greys use the grey ramp")
        XCTAssertEqual(rgbTo256(8, 8, 8), 232)
        XCTAssertEqual(rgbTo256(238, 238, 238), 255)
        XCTAssertEqual(rgbTo256(255, 0, 0), 196)
        XCTAssertEqual(rgbTo256(0, 255, 0), 46)
        XCTAssertEqual(rgbTo256(0, 0, 255), 21)
        XCTAssertEqual(rgbTo256(95, 135, 175), 16 + 36 * 1 + 6 * 2 + 3)
        XCTAssertEqual(rgbTo256(0x98, 0xc3, 0x79), 16 + 36 * 2 + 6 * 4 + 2)
    }

    func testDowngradeTo16() {
        XCTAssertEqual(rgbTo16(0, 0, 0), 0)
        XCTAssertEqual(rgbTo16(250, 10, 10), 9)
        XCTAssertEqual(rgbTo16(200, 0, 0), 1)
        XCTAssertEqual(rgbTo16(255, 255, 255), 15)
        XCTAssertEqual(rgbTo16(120, 120, 120), 8)
        XCTAssertEqual(rgbTo16(0, 200, 200), 6)
    }

    func testResolvedByDepth() {
        let c = Color(r: 255, g: 0, b: 0)
        XCTAssertEqual(c.resolved(.truecolor), 0xff0000)
        XCTAssertEqual(c.resolved(.c256), 196)
        XCTAssertEqual(c.resolved(.c16), 9)
        XCTAssertNil(c.resolved(.none))
        XCTAssertNil(Color.terminalDefault.resolved(.c256))
        let picked = Color(r: 250, g: 10, b: 10, ansi16: 1)
        XCTAssertEqual(picked.resolved(.c16), 1, "hand-picked 16-colour value wins")
        XCTAssertEqual(picked.resolved(.c256), 196)
        // An exact xterm value with its index means the palette entry (16color theme).
        let palette = Color(r: 205, g: 0, b: 0, ansi16: 1)
        XCTAssertEqual(palette.resolved(.c256), 1)
        XCTAssertEqual(palette.resolved(.truecolor), 1)
        let bright = Color(r: 255, g: 0, b: 0, ansi16: 9)
        XCTAssertEqual(bright.resolved(.c256), 9)
        XCTAssertEqual(bright.resolved(.truecolor), 0xff0000)
    }

    func testBundledThemesParseCleanly() throws {
        let dir = ThemeLoader.bundledSourceDirectory
        for name in ["default", "light", "high-contrast", "16color"] {
            let text = try String(contentsOfFile: "\(dir)/\(name).theme", encoding: .utf8)
            let t = Theme.parse(text, name: name)
            XCTAssertEqual(t.warnings, [], name)
            for k in ThemeKey.allCases { XCTAssertNotNil(t.colors[k], "\(name) sets \(k)") }
        }
    }

    func testDefaultThemeFileMatchesBuiltinAndDocumentsEveryKey() throws {
        let dir = ThemeLoader.bundledSourceDirectory
        let text = try String(contentsOfFile: "\(dir)/default.theme", encoding: .utf8)
        XCTAssertEqual(Theme.parse(text, name: "default").colors, Theme.builtinDefault.colors)
        let readme = try String(contentsOfFile: "\(dir)/README.md", encoding: .utf8)
        for k in ThemeKey.allCases {
            XCTAssertTrue(text.contains("# \(k.doc)\ntheme[\(k.rawValue)]"), "default.theme documents \(k)")
            XCTAssertTrue(readme.contains("`\(k.rawValue)`"), "README documents \(k)")
        }
    }

    func testLoaderSearchOrderAndPaths() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("qtop-theme-\(UUID().uuidString)")
        let user = tmp.appendingPathComponent("qtop/themes")
        try FileManager.default.createDirectory(at: user, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        try "theme[main_fg]=\"#010203\"\n".write(to: user.appendingPathComponent("light.theme"), atomically: true, encoding: .utf8)
        try "theme[main_fg]=\"#040506\"\n".write(to: user.appendingPathComponent("mine.theme"), atomically: true, encoding: .utf8)
        let dirs = ThemeLoader.searchDirectories(environment: ["XDG_CONFIG_HOME": tmp.path], executablePath: "/nonexistent/bin/qtop")
        XCTAssertEqual(dirs.first, user.path)
        XCTAssertEqual(dirs.last, ThemeLoader.bundledSourceDirectory)
        XCTAssertEqual(try ThemeLoader.load("light", dirs: dirs)[.main_fg].rgb, 0x010203, "user themes shadow bundled ones")
        XCTAssertEqual(try ThemeLoader.load("high-contrast", dirs: dirs)[.main_bg].rgb, 0x000000)
        XCTAssertEqual(try ThemeLoader.load(user.appendingPathComponent("mine.theme").path)[.main_fg].rgb, 0x040506)
        XCTAssertThrowsError(try ThemeLoader.load("nope", dirs: dirs))
        XCTAssertThrowsError(try ThemeLoader.load("/nonexistent/x.theme"))
        XCTAssertEqual(try ThemeLoader.load("default", dirs: []), Theme.builtinDefault)
        let names = ThemeLoader.available(in: dirs)
        XCTAssertEqual(names.first, "default")
        XCTAssertTrue(Set(names).isSuperset(of: ["light", "high-contrast", "16color", "mine"]))
        let (themes, idx) = try App.loadThemes(requested: "mine", dirs: dirs)
        XCTAssertEqual(themes[idx].name, "mine")
        XCTAssertEqual(themes.count, names.count)
    }

    func testNoColorRendersWithoutColours() {
        let (app, _) = makeApp(color: false)
        let g = app.frame()
        XCTAssertTrue(g.cells.allSatisfy { $0.style.fg.rgb == nil && $0.style.bg.rgb == nil })
        XCTAssertTrue(g.cells.contains { $0.style.attrs.contains(.reverse) }, "selection uses reverse video")
    }
}

final class CellGridTests: XCTestCase {
    func testPutClipsAndSanitizes() {
        var g = CellGrid(width: 10, height: 2)
        let end = g.put(7, 0, "abcdef", Style())
        XCTAssertEqual(end, 10)
        XCTAssertEqual(g.lines[0], "       abc")
        g.put(0, 1, "a\u{1b}[2Jb", Style())
        XCTAssertEqual(g.lines[1], "a?[2Jb")
        g.put(0, 5, "off-grid", Style())
        g.put(-2, 1, "xyz", Style())
        XCTAssertEqual(g.lines[1], "z?[2Jb")
    }

    func testWideCharacters() {
        var g = CellGrid(width: 6, height: 1)
        g.put(0, 0, "日本x", Style())
        XCTAssertEqual(g.lines[0], "日本x")
        XCTAssertNil(g[1, 0].char)
        XCTAssertEqual(displayWidth("日本x"), 5)
        XCTAssertEqual(truncate("日本語です", 5), "日本…")
    }

    func testTruncateAndPad() {
        XCTAssertEqual(truncate("abcdef", 4), "abc…")
        XCTAssertEqual(truncate("abc", 4), "abc")
        XCTAssertEqual(pad("ab", 4), "ab  ")
        XCTAssertEqual(pad("ab", 4, right: true), "  ab")
        XCTAssertEqual(pad("abcdef", 4, ellipsis: "~"), "abc~")
    }

    func testGlyphs() {
        XCTAssertEqual(Glyphs.unicode.sparkline([1, 2, 3, 4, 5, 6, 7, 8], width: 8), "▁▂▃▄▅▆▇█")
        XCTAssertEqual(Glyphs.ascii.sparkline([1, 8], width: 8), "_#")
        XCTAssertEqual(Glyphs.unicode.sparkline([1, 2, 3], width: 2), "▁█", "keeps the most recent values")
        XCTAssertEqual(Glyphs.unicode.bar(0.5, width: 4), "██")
        XCTAssertEqual(Glyphs.unicode.bar(0.3, width: 4), "█▎")
        XCTAssertEqual(Glyphs.ascii.bar(1, width: 3), "###")
        XCTAssertEqual(Glyphs.unicode.bar(.nan, width: 3), "")
    }
}
