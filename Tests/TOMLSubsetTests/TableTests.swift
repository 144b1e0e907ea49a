import Testing
@testable import TOMLSubset

/// §Keys, §Table, §Inline Table, §Array.
@Suite struct KeyTests {
    @Test func bareQuotedAndDottedKeys() {
        let table = parsed("""
            key = 1
            bare_key-2 = 2
            1234 = 3
            "127.0.0.1" = 4
            "character encoding" = 5
            'quoted "value"' = 6
            "ʎǝʞ" = 7
            "" = 8
            physical.color = "orange"
            site."google.com" = true
            fruit . flavor = "banana"
            3.14159 = "pi"
            """)
        #expect(table?.keys == ["key", "bare_key-2", "1234", "127.0.0.1", "character encoding", "quoted \"value\"", "ʎǝʞ", "", "physical", "site", "fruit", "3"])
        #expect(table?["127.0.0.1"] == .integer(4))
        #expect(table?[""] == .integer(8))
        #expect(table?["physical"] == .table(.of(["color": .string("orange")])))
        #expect(table?["site"] == .table(.of(["google.com": .boolean(true)])))
        #expect(table?["fruit"] == .table(.of(["flavor": .string("banana")])))
        #expect(table?["3"] == .table(.of(["14159": .string("pi")])))
    }

    @Test func keysAreComparedAsExactBytes() {
        let table = parsed("app-K = 1\n\"app-\\u212A\" = 2\n\"\\u00e9\" = 3\n\"e\\u0301\" = 4")
        #expect(table?.keys.count == 4)
        #expect(table?["app-K"] == .integer(1))
        #expect(table?["app-\u{212A}"] == .integer(2))
        #expect(table?["\u{E9}"] == .integer(3))
        #expect(table?["e\u{301}"] == .integer(4))
        #expect(table?["app-k"] == nil)
        // Canonically equivalent but different bytes are different keys:
        #expect(parsed("\"\\u00e9\" = 1")?["e\u{301}"] == nil)
    }

    @Test func keyErrors() {
        expectFailure("= 1", line: 1, column: 1, "expected a key, a [table] header")
        expectFailure("a b = 1", line: 1, column: 3, "expected '='")
        expectFailure("a = ", line: 1, column: 5, "expected a value, found the end of the document")
        expectFailure("a =\nb = 1", line: 1, column: 4, "found the end of the line")
        expectFailure("a. = 1", line: 1, column: 4, "expected a key")
        expectFailure(".a = 1", line: 1, column: 1, "expected a key, a [table] header")
        expectFailure("\"\"\"a\"\"\" = 1", line: 1, column: 1, "multi-line string cannot be used as a key")
        expectFailure("é = 1", line: 1, column: 1, "expected a key, a [table] header")
        expectFailure("a = 1\na = 2", line: 2, column: 1, "duplicate key", key: "a")
        expectFailure("a = 1\n\"a\" = 2", line: 2, column: 1, "duplicate key")
        expectFailure("a.b = 1\na.b = 2", line: 2, column: 3, "duplicate key", key: "a.b")
        expectFailure("a = 1\na.b = 2", line: 2, column: 1, "already holds an integer", key: "a.b")
        expectFailure("a = \"x\"\n[a]", line: 2, column: 2, "already holds a string", key: "a")
    }

    @Test func keyPathsInErrorsArePrintable() {
        expectFailure("[x.\"a b\".'c\\d']\nk = 1\nk = 2", line: 3, column: 1, "duplicate key", key: #"x."a b"."c\\d".k"#)
        expectFailure("\"\\u0000\\n\" = 1\n\"\\u0000\\n\" = 2", line: 2, column: 1, "duplicate key", key: #""\u0000\u000A""#)
        let long = String(repeating: "k", count: 300)
        do {
            _ = try TOML.parse("\(long) = 1\n\(long) = 2")
            Issue.record("expected an error")
        } catch {
            #expect(error.key?.count == 100)
            #expect(error.key?.hasSuffix("…") == true)
        }
    }
}

@Suite struct HeaderTests {
    @Test func tablesAndSuperTables() {
        let table = parsed("""
            [table-1]
            key1 = "some string"
            [dog."tater.man"]
            type.name = "pug"
            [ j . "ʞ" . 'l' ]
            [x.y.z.w]
            [x]
            [empty]
            """)
        #expect(table?.keys == ["table-1", "dog", "j", "x", "empty"])
        #expect(table?["table-1"] == .table(.of(["key1": .string("some string")])))
        #expect(table?["dog"] == .table(.of(["tater.man": .table(.of(["type": .table(.of(["name": .string("pug")]))]))])))
        #expect(table?["j"] == .table(.of(["ʞ": .table(.of(["l": .table(.of([:]))]))])))
        #expect(table?["empty"] == .table(.of([:])))
    }

    @Test func specExamplesThatAreValid() {
        // §Table: dotted keys create and define tables; sub-tables may follow.
        let fruit = parsed("""
            [fruit]
            apple.color = "red"
            apple.taste.sweet = true
            [fruit.apple.texture]
            smooth = true
            """)
        #expect(fruit?["fruit"] == .table(.of([
            "apple": .table(.of([
                "color": .string("red"),
                "taste": .table(.of(["sweet": .boolean(true)])),
                "texture": .table(.of(["smooth": .boolean(true)])),
            ])),
        ])))
        // Out-of-order tables are valid (discouraged).
        #expect(parsed("[fruit.apple]\n[animal]\n[fruit.orange]")?.keys == ["fruit", "animal"])
        // A table created implicitly by a header may be extended by dotted keys.
        #expect(parsed("[a.b.c]\n[a]\nb.d = 1")?["a"] == .table(.of(["b": .table(.of(["c": .table(.of([:])), "d": .integer(1)]))])))
    }

    @Test func redefinitionErrors() {
        expectFailure("[fruit]\napple = \"red\"\n[fruit]\norange = \"orange\"", line: 3, column: 2, "defined twice", key: "fruit")
        expectFailure("[fruit]\napple = \"red\"\n[fruit.apple]", line: 3, column: 8, "already holds a string", key: "fruit.apple")
        expectFailure("[a]\n[a.b]\n[a]", line: 3, column: 2, "defined twice")
        expectFailure("[fruit]\napple.color = \"red\"\n[fruit.apple]", line: 3, column: 8, "defined by dotted keys", key: "fruit.apple")
        expectFailure("a.b = 1\n[a]", line: 2, column: 2, "defined by dotted keys")
        expectFailure("[a.b.c]\n[a]\nb.d = 1\n[a.b]", line: 4, column: 4, "defined by dotted keys")
        expectFailure("[a.b]\nx = 1\n[a]\nb.y = 2", line: 4, column: 1, "dotted keys cannot add to a table defined by a [header]", key: "a.b.y")
        expectFailure("[a.b.c]\n[a]\nb.c.d = 1", line: 3, column: 3, "dotted keys cannot add")
    }

    @Test func headerSyntaxErrors() {
        expectFailure("[]", line: 1, column: 2, "expected a key")
        expectFailure("[a", line: 1, column: 3, "expected ']'")
        expectFailure("[a]]", line: 1, column: 4, "expected a newline or a comment after a table header")
        expectFailure("[a] b = 1", line: 1, column: 5, "expected a newline")
        expectFailure("[a.]", line: 1, column: 4, "expected a key")
        expectFailure("[&", line: 1, column: 2, "expected a key")
        expectFailure("[\n]", line: 1, column: 2, "found the end of the line")
    }

    @Test func arraysOfTablesAreNotSupported() {
        expectFailure("[[products]]\nname = \"Hammer\"", line: 1, column: 1, "not supported")
        expectFailure("a = 1\n  [[[x]]", line: 2, column: 3, "not supported")
        expectFailure("[[x]", line: 1, column: 1, "not supported")
    }
}

@Suite struct ArrayTests {
    @Test func arrays() {
        #expect(value(of: "[]") == .array([]))
        #expect(value(of: "[ 1, 2, 3 ]") == .array([.integer(1), .integer(2), .integer(3)]))
        #expect(value(of: "[ \"red\", 'yellow', \"\"\"green\"\"\" ]") == .array([.string("red"), .string("yellow"), .string("green")]))
        #expect(value(of: "[ [ 1, 2 ], [3.5, [true]] ]") == .array([
            .array([.integer(1), .integer(2)]), .array([.float(3.5), .array([.boolean(true)])]),
        ]))
        #expect(value(of: "[ 0.1, \"x\", {a = 1}, [] ]") == .array([.float(0.1), .string("x"), .table(.of(["a": .integer(1)])), .array([])]))
        #expect(value(of: "[\n  1, # one\r\n  2,\n\n  # before three\n  3,\n]") == .array([.integer(1), .integer(2), .integer(3)]))
        #expect(value(of: "[1,]") == .array([.integer(1)]))
        #expect(value(of: "[\n]") == .array([]))
    }

    @Test func arrayErrors() {
        expectFailure("a = [1 2]", line: 1, column: 8, "expected ',' or ']'")
        expectFailure("a = [,]", line: 1, column: 6, "expected a value")
        expectFailure("a = [1,,2]", line: 1, column: 8, "expected a value")
        expectFailure("a = [1,\n2", line: 1, column: 5, "unterminated array")
        expectFailure("a = [1\r2]", line: 1, column: 7, "carriage return")
        expectFailure("a = [1, # \u{1}\n]", line: 1, column: 11, "control characters are not allowed in comments")
    }
}

@Suite struct InlineTableTests {
    @Test func inlineTables() {
        #expect(value(of: "{}") == .table(.of([:])))
        #expect(value(of: "{ first = \"Tom\", last = \"Preston-Werner\" }") == .table(.of(["first": .string("Tom"), "last": .string("Preston-Werner")])))
        #expect(value(of: "{ type.name = \"pug\", type.size = 2 }") == .table(.of(["type": .table(.of(["name": .string("pug"), "size": .integer(2)]))])))
        #expect(value(of: "{a={b={c=[1]}}}") == .table(.of(["a": .table(.of(["b": .table(.of(["c": .array([.integer(1)])]))]))])))
        let table = parsed("point = { x = 1, y = 2 }\n[other]")
        #expect(table?["point"] == .table(.of(["x": .integer(1), "y": .integer(2)])))
        if case .table(let point)? = table?["point"] {
            #expect(point.keys == ["x", "y"])
            #expect(point.position(of: "y") == TOMLPosition(line: 1, column: 18))
        } else {
            Issue.record("point is not a table")
        }
    }

    @Test func inlineTablesAreImmutable() {
        expectFailure("[product]\ntype = { name = \"Nail\" }\ntype.edible = false", line: 3, column: 1, "inline tables are immutable", key: "product.type.edible")
        expectFailure("[product]\ntype.name = \"Nail\"\ntype = { edible = false }", line: 3, column: 1, "duplicate key")
        expectFailure("a = {x = 1}\n[a]", line: 2, column: 2, "inline tables are immutable")
        expectFailure("a = {x = 1}\n[a.b]", line: 2, column: 2, "inline tables are immutable")
        expectFailure("a = {b = {c = 1}, b.d = 2}", line: 1, column: 19, "inline tables are immutable", key: "a.b.d")
        expectFailure("a = [1]\n[a.b]", line: 2, column: 2, "arrays are immutable")
        expectFailure("a = [{}]\na.b = 1", line: 2, column: 1, "arrays are immutable")
    }

    @Test func inlineTableErrors() {
        expectFailure("a = {x = 1,}", line: 1, column: 12, "trailing comma")
        expectFailure("a = {x = 1, }", line: 1, column: 13, "trailing comma")
        expectFailure("a = {\nx = 1}", line: 1, column: 6, "single line")
        expectFailure("a = {x = 1\n}", line: 1, column: 11, "single line")
        expectFailure("a = {x = 1", line: 1, column: 5, "unterminated inline table")
        expectFailure("a = {x = 1 y = 2}", line: 1, column: 12, "expected ',' or '}'")
        expectFailure("a = {x = 1, x = 2}", line: 1, column: 13, "duplicate key", key: "a.x")
        expectFailure("a = {,}", line: 1, column: 6, "expected a key")
        expectFailure("a = {x}", line: 1, column: 7, "expected '='")
        expectFailure("a = {b.c = 1, b = 2}", line: 1, column: 15, "duplicate key")
        expectFailure("a = {b = 1, b.c = 2}", line: 1, column: 13, "already holds an integer")
    }
}

@Suite struct PositionTests {
    @Test func keyAndHeaderPositions() {
        let table = parsed("""
            # comment
            name = "x"
              indented = 1
            "é😀" = 2
            o = "é😀é"
            [server]
            port.number = 80
            """)
        #expect(table?.position(of: "name") == TOMLPosition(line: 2, column: 1))
        #expect(table?.position(of: "indented") == TOMLPosition(line: 3, column: 3))
        #expect(table?.position(of: "é😀") == TOMLPosition(line: 4, column: 1))
        #expect(table?.position(of: "server") == TOMLPosition(line: 6, column: 1))
        #expect(table?.position(of: "missing") == nil)
        guard case .table(let server)? = table?["server"], case .table(let port)? = server["port"] else {
            Issue.record("missing tables")
            return
        }
        #expect(server.position(of: "port") == TOMLPosition(line: 7, column: 1))
        #expect(port.position(of: "number") == TOMLPosition(line: 7, column: 6))
    }

    @Test func columnsCountUnicodeScalars() {
        expectFailure("s = \"é😀\u{212A}\" x", line: 1, column: 11, "expected a newline")
        expectFailure("\"e\u{301}\" = 1 x", line: 1, column: 10, "expected a newline")
    }

    @Test func implicitTableTakesTheExplicitHeadersPosition() {
        let table = parsed("[a.b]\n\n[a]")
        #expect(table?.position(of: "a") == TOMLPosition(line: 3, column: 1))
    }

    @Test func crlfCountsAsOneLine() {
        let table = parsed("a = 1\r\n\r\nb = \"\"\"\r\nx\r\n\"\"\"\r\nc = 3\r\n")
        #expect(table?.position(of: "c") == TOMLPosition(line: 6, column: 1))
        #expect(table?["b"] == .string("x\n"))
        expectFailure("a = 1\r\n\r\nb = 2 3\r\n", line: 3, column: 7, "expected a newline")
    }

    @Test func byteOrderMarkIsSkippedAndNotCounted() {
        let table = parsed("\u{FEFF}a = 1")
        #expect(table?["a"] == .integer(1))
        #expect(table?.position(of: "a") == TOMLPosition(line: 1, column: 1))
        expectFailure("\u{FEFF}a = 1 2", line: 1, column: 7, "expected a newline")
        expectFailure("a = 1\n\u{FEFF}b = 2", line: 2, column: 1, "expected a key")
    }
}
