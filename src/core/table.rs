//! Text tables for people (`harness jobs`, `harness marts`): left-aligned columns two
//! spaces apart, sized by display width (a wide CJK character or emoji takes two
//! columns, a combining mark none), cells with tabs, newlines and other control
//! characters escaped so that one row stays one line.

/// `text` as one table cell: `\t`, `\n`, `\r` and other control characters written
/// as escapes (`\x1b`, `\u{85}`).
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The columns a terminal gives `c`: 0 for combining marks and zero-width
/// characters, 2 for East Asian wide and fullwidth characters and emoji, else 1.
pub fn char_width(c: char) -> usize {
    let u = c as u32;
    let zero = matches!(u,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A
        | 0x064B..=0x065F | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x200B..=0x200F | 0x20D0..=0x20FF
        | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0xFEFF | 0xE0100..=0xE01EF);
    if zero {
        return 0;
    }
    let wide = matches!(u,
        0x1100..=0x115F | 0x231A..=0x231B | 0x2329..=0x232A | 0x23E9..=0x23EC
        | 0x23F0 | 0x23F3 | 0x25FD..=0x25FE | 0x2614..=0x2615 | 0x2648..=0x2653
        | 0x267F | 0x2693 | 0x26A1 | 0x26AA..=0x26AB | 0x26BD..=0x26BE
        | 0x26C4..=0x26C5 | 0x26CE | 0x26D4 | 0x26EA | 0x26F2..=0x26F3 | 0x26F5
        | 0x26FA | 0x26FD | 0x2705 | 0x270A..=0x270B | 0x2728 | 0x274C | 0x274E
        | 0x2753..=0x2755 | 0x2757 | 0x2795..=0x2797 | 0x27B0 | 0x27BF
        | 0x2B1B..=0x2B1C | 0x2B50 | 0x2B55 | 0x2E80..=0x303E | 0x3041..=0x33FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xA960..=0xA97F
        | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE10..=0xFE19 | 0xFE30..=0xFE6F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x16FE0..=0x16FE4 | 0x17000..=0x18AFF
        | 0x1B000..=0x1B2FF | 0x1F004 | 0x1F0CF | 0x1F18E | 0x1F191..=0x1F19A
        | 0x1F200..=0x1F251 | 0x1F300..=0x1F64F | 0x1F680..=0x1F6FF
        | 0x1F7E0..=0x1F7EB | 0x1F90C..=0x1F9FF | 0x1FA70..=0x1FAFF
        | 0x20000..=0x2FFFD | 0x30000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

/// The columns `s` takes on a terminal.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// A table: the header line, then one line per row; cells escaped with [`cell`],
/// padded to their column's display width, no trailing spaces.
pub fn render<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> String {
    let escaped: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.as_ref().iter().map(|c| cell(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in &escaped {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(c));
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut s = String::new();
        for (i, (c, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            s.push_str(&" ".repeat(w - width(c)));
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(&mut header.iter().copied());
    for row in &escaped {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_stay_on_one_line_and_wide_characters_align() {
        assert_eq!(
            cell("a\tb\nc\r\u{1b}[0m\u{85}"),
            "a\\tb\\nc\\r\\x1b[0m\\u{85}"
        );
        assert_eq!(width("日本"), 4);
        assert_eq!(width("e\u{301}"), 1);
        assert_eq!(width("🎉x"), 3);
        let rows = vec![
            vec!["日本".to_string(), "x".to_string()],
            vec!["ab".to_string(), "line\nbreak".to_string()],
        ];
        assert_eq!(
            render(&["name", "v"], &rows),
            "name  v\n日本  x\nab    line\\nbreak\n"
        );
    }
}
