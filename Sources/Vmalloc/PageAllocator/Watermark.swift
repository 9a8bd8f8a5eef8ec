/// Which watermark an allocation attempt must leave free (mm/page_alloc.c `ALLOC_WMARK_*`).
enum Watermark {
    case low, min, minHalf, none
}
