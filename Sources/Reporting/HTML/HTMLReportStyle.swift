/// The page's inline style sheet and its one script. No fonts, images or links: the page must
/// open offline from a file. Neither contains `<` or `&`, and the script sits in a CDATA section,
/// so the page stays well-formed XML.
enum HTMLReportStyle {
    static let css = """
    body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a; margin: 0 auto; max-width: 1040px; padding: 16px 24px 48px; line-height: 1.4; }
    h1 { font-size: 24px; margin: 8px 0 2px; }
    h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d8dee4; padding-bottom: 4px; }
    h3 { font-size: 15px; margin: 16px 0 6px; }
    .subtitle { color: #57606a; margin: 0 0 12px; overflow-wrap: anywhere; }
    .cards { display: flex; gap: 12px; flex-wrap: wrap; }
    .card { border: 1px solid #d8dee4; border-radius: 6px; padding: 8px 14px; min-width: 110px; }
    .card .count { display: block; font-size: 22px; font-weight: 600; }
    .card .what { color: #57606a; font-size: 13px; }
    .card.weak .count { color: #1a7f37; }
    .card.hiddenCritical .count { color: #cf222e; }
    .card.hiddenWeak .count { color: #0969da; }
    .warnings { margin: 10px 0 0; padding: 8px 12px 8px 28px; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; font-size: 13px; }
    .facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 4px 20px; }
    .facts h2 { font-size: 15px; margin: 12px 0 4px; }
    .facts .note { grid-column: 1 / -1; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 1px 10px; margin: 0; font-size: 13px; }
    dt { color: #57606a; }
    dd { margin: 0; overflow-wrap: anywhere; }
    .missing { color: #8c959f; font-style: italic; }
    .note, .panel-note { color: #57606a; font-size: 13px; }
    .panel-note { margin: 2px 0 0; }
    svg.chart { max-width: 100%; height: auto; font-size: 11px; display: block; }
    svg text { fill: #1d232a; }
    .grid { stroke: #eaeef2; }
    .frame { stroke: #8c959f; }
    .axis-title { fill: #57606a; }
    .threshold { stroke: #cf222e; stroke-dasharray: 5 3; stroke-width: 1.2; }
    .threshold-label { fill: #cf222e; }
    .dot { fill: #0969da; fill-opacity: 0.25; }
    .box { fill: #ddf4ff; fill-opacity: 0.7; stroke: #0969da; }
    .whisker, .median { stroke: #0550ae; stroke-width: 1.4; }
    .row-note { fill: #57606a; }
    .layer-row:hover .row-label { font-weight: 600; }
    .multiples { display: flex; flex-wrap: wrap; gap: 8px 16px; }
    figure { margin: 0; max-width: 100%; }
    figcaption { font-weight: 600; font-size: 14px; margin: 4px 0; }
    .panel-title { font-weight: 600; font-size: 13px; }
    .curve { fill: none; stroke-width: 1.6; }
    .pt.none { fill: #8c959f; fill-opacity: 0.45; }
    .pt.hiddenCritical { fill: #cf222e; }
    .pt.hiddenWeak { fill: #0969da; }
    .pt.other { fill: #bf8700; }
    .key { display: flex; gap: 16px; font-size: 13px; margin: 0 0 6px; }
    .key svg { vertical-align: middle; margin-right: 4px; }
    .legend { list-style: none; padding: 0; columns: 2; font-size: 12px; }
    .legend li { break-inside: avoid; overflow-wrap: anywhere; }
    .swatch { vertical-align: middle; margin-right: 6px; }
    .swatch line { stroke-width: 2; }
    .table-wrap { overflow-x: auto; max-height: 640px; overflow-y: auto; border: 1px solid #d8dee4; }
    table { border-collapse: collapse; font-size: 12px; width: 100%; }
    th, td { padding: 3px 8px; border-bottom: 1px solid #eaeef2; text-align: left; white-space: nowrap; }
    th { background: #f6f8fa; position: sticky; top: 0; }
    th.num { text-align: right; }
    td { font-variant-numeric: tabular-nums; }
    table.sortable th { cursor: pointer; }
    th[data-dir="asc"]::after { content: " \\25B2"; }
    th[data-dir="desc"]::after { content: " \\25BC"; }
    pre { font-size: 12px; background: #f6f8fa; padding: 8px; overflow-x: auto; max-height: 320px; }
    """

    /// Sorts a `table.sortable` by the clicked column: a cell's `data-v` when it has one, else
    /// numeric columns (header class `num`) by the number in the text (thousands separators
    /// dropped, a dash lowest), text by locale order; a second click reverses.
    static let script = """
    (function () {
      function key(cell, numeric) {
        var v = cell.getAttribute('data-v');
        var text = v !== null ? v : cell.textContent;
        if (!numeric) { return text; }
        var x = parseFloat(text.replace(/,/g, '').replace('%', ''));
        return isNaN(x) ? -Infinity : x;
      }
      var tables = document.querySelectorAll('table.sortable');
      Array.prototype.forEach.call(tables, function (table) {
        var headers = table.tHead.rows[0].cells;
        Array.prototype.forEach.call(headers, function (header, column) {
          header.addEventListener('click', function () {
            var ascending = header.getAttribute('data-dir') !== 'asc';
            Array.prototype.forEach.call(headers, function (h) { h.removeAttribute('data-dir'); });
            header.setAttribute('data-dir', ascending ? 'asc' : 'desc');
            var body = table.tBodies[0];
            var rows = Array.prototype.slice.call(body.rows);
            rows.sort(function (r, s) {
              var numeric = header.className === 'num';
              var a = key(r.cells[column], numeric), b = key(s.cells[column], numeric);
              var order = numeric ? (a === b ? 0 : (a > b ? 1 : -1)) : String(a).localeCompare(String(b));
              return ascending ? order : -order;
            });
            rows.forEach(function (row) { body.appendChild(row); });
          });
        });
      });
    })();
    """
}
