/// `value` as text padded with spaces to `width` columns: right-aligned (`%7d`), or with
/// `alignLeft` left-aligned (`%-16s`); longer text is left as it is. The one padding helper of
/// the `/proc` views and the bench's tables.
package func pad(_ value: some CustomStringConvertible, _ width: Int, alignLeft: Bool = false) -> String {
    let s = value.description
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return alignLeft ? s + fill : fill + s
}
