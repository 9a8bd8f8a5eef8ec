/// An area freed recently, remembered so a later fault in it can be named (use-after-free).
struct FreedArea: Sendable {
    var offset: Int
    var size: Int
    var requested: Int
    var caller: CallSite
}
