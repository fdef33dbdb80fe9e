import CCmark
#if canImport(Glibc)
import Glibc
#endif

/// Renders CommonMark to HTML with libcmark.
public enum Markdown {
    /// HTML for `text`. Raw HTML in the markdown is replaced by a comment unless `options.unsafeHTML`.
    public static func render(_ text: String, options: MarkdownOptions) -> String {
        var flags = CMARK_OPT_VALIDATE_UTF8
        if options.unsafeHTML { flags |= CMARK_OPT_UNSAFE }
        if options.smartPunctuation { flags |= CMARK_OPT_SMART }
        var text = text
        return text.withUTF8 { buffer in
            guard let base = buffer.baseAddress,
                  let html = base.withMemoryRebound(to: CChar.self, capacity: buffer.count, {
                      cmark_markdown_to_html($0, buffer.count, flags)
                  }) else { return "" }
            defer { free(html) }
            return String(cString: html)
        }
    }
}
