/// One table cell: its text, and a sort key where the text does not sort right by itself (the
/// script reads numbers from the text of numeric columns, ignoring thousands separators).
struct TableCell {
    var text: String
    var sortKey: String?

    init(_ text: String, sortKey: String? = nil) {
        self.text = text
        self.sortKey = sortKey
    }

    static func number(_ value: Double?) -> TableCell { TableCell(HTMLNumber.short(value)) }
    static func integer(_ value: Int?) -> TableCell { TableCell(HTMLNumber.grouped(value)) }
}

/// Tables of the page. A `sortable` table's headers sort it on click (the page's only script);
/// without the script the rows stay in the order given. Numeric columns are right-aligned by a
/// style rule per table rather than a class on every cell, which keeps a 2,000-row table small.
enum HTMLTable {
    static func write(id: String, columns: [(title: String, numeric: Bool)], rows: [[TableCell]], sortable: Bool, into markup: inout HTMLMarkup) {
        let numeric = columns.indices.filter { columns[$0].numeric }.map { "#\(id) td:nth-child(\($0 + 1))" }
        if !numeric.isEmpty { markup.styleRules.append(numeric.joined(separator: ", ") + " { text-align: right; }") }
        markup.wrap("div", [("class", "table-wrap")]) { markup in
            markup.wrap("table", [("id", id), ("class", sortable ? "sortable" : "plain"), ("data-rows", String(rows.count))]) { markup in
                markup.wrap("thead", []) { markup in
                    markup.wrap("tr", []) { markup in
                        for column in columns {
                            markup.element("th", column.numeric ? [("class", "num")] : [], column.title)
                        }
                    }
                }
                markup.wrap("tbody", []) { markup in
                    for row in rows {
                        markup.wrap("tr", []) { markup in
                            for cell in row {
                                markup.element("td", cell.sortKey.map { [("data-v", $0)] } ?? [], cell.text)
                            }
                        }
                    }
                }
            }
        }
    }
}
