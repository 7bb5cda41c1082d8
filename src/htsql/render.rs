//! HTSQL's plain text format (`htsql.core.fmt.text`): the tables the HTSQL shell and
//! `rex mart-shell` print. A title row per header level (the segment's header over
//! its fields' headers), a `-+-` rule, one line per row (long texts wrapped at word
//! boundaries onto `:`-bordered continuation lines), numbers right-aligned, then an
//! empty line. Widths follow HTSQL: the widest cell of each column, text columns
//! wrapped once they pass 32 characters, a header wider than its columns spreading
//! the difference over them.

use super::value::{Domain, Product, Value};

/// Renders a product as HTSQL's text format does, a table segment titled by its tag.
pub fn render_text(product: &Product) -> String {
    render(product, product.tag.clone())
}

/// [`render_text`] for a product of `client`'s database: a table segment is titled
/// as the table is (its rex.deploy title, else its label titled).
pub fn render_on(client: &mut postgres::Client, product: &Product) -> String {
    let title = product.tag.as_deref().map(|tag| {
        super::catalog::catalog(client)
            .ok()
            .and_then(|cat| {
                let i = (*cat.home.get(&super::catalog::normalize(tag))?)?;
                Some(cat.tables[i].title())
            })
            .unwrap_or_else(|| tag.to_string())
    });
    render(product, title)
}

fn render(product: &Product, title: Option<String>) -> String {
    let meta = top_meta(product, title);
    let size = meta.size();
    if size == 0 {
        return String::new();
    }
    let data = Some(&product.data).filter(|d| !d.is_null());
    let widths = meta.widths(data);
    let depth = meta.head_depth();
    let mut head = Vec::new();
    meta.head(depth, &mut head);
    let mut out = String::new();
    if depth > 0 {
        emit_head(&mut out, head, depth, size, &widths);
    }
    let mut rows = Vec::new();
    meta.body(data, &widths, &mut rows);
    for row in rows {
        let mut line = String::new();
        let mut last_solid = false;
        for (chunk, solid) in row {
            line.push_str(if last_solid || solid { " | " } else { " : " });
            line.push_str(&chunk);
            last_solid = solid;
        }
        line.push_str(if last_solid { " |\n" } else { " :\n" });
        out.push_str(&line);
    }
    out.push('\n');
    out
}

/// The product's profile: a scalar under its field's header, records under the
/// segment's tag.
fn top_meta(product: &Product, title: Option<String>) -> Meta {
    let headers: Vec<Option<String>> = product
        .fields
        .iter()
        .map(|f| Some(f.header.clone()).filter(|h| !h.is_empty()))
        .collect();
    match &product.domain {
        Domain::Record(_) | Domain::List(_) if !product.fields.is_empty() => Meta {
            header: title.filter(|t| !t.is_empty()),
            text: ToText::of(&product.domain, &headers),
        },
        domain => Meta {
            header: headers.into_iter().next().flatten(),
            text: ToText::of(domain, &[]),
        },
    }
}

/// One head cell: text, rows spanned, columns spanned.
type HeadCell = (String, usize, usize);

fn emit_head(
    out: &mut String,
    head: Vec<Vec<HeadCell>>,
    depth: usize,
    size: usize,
    widths: &[usize],
) {
    let mut head = head.into_iter();
    // For each column: the text of the cell over it (None: spanned from the left) and
    // how many more rows it spans.
    let mut bar: Vec<(Option<String>, usize)> = vec![(None, 0); size];
    for row_idx in 0..depth {
        let mut row: std::collections::VecDeque<HeadCell> = head.next().unwrap_or_default().into();
        let last = std::mem::take(&mut bar);
        while bar.len() < size {
            let (text, tail) = &last[bar.len()];
            if *tail > 0 {
                bar.push((text.clone(), tail - 1));
            } else {
                let (text, rowspan, colspan) = row.pop_front().unwrap_or_default();
                bar.push((Some(text), rowspan.saturating_sub(1)));
                for _ in 1..colspan {
                    bar.push((None, rowspan.saturating_sub(1)));
                }
            }
        }
        if row_idx > 0 {
            let mut line = String::from(" ");
            for idx in 0..=size {
                let is_horiz =
                    (idx > 0 && last[idx - 1].1 == 0) || (idx < size && last[idx].1 == 0);
                let is_vert = idx >= size || last[idx].0.is_some() || bar[idx].0.is_some();
                line.push(match (is_horiz, is_vert) {
                    (true, true) => '+',
                    (true, false) => '-',
                    (false, true) => '|',
                    (false, false) => ' ',
                });
                if idx < size {
                    let fill = if last[idx].1 == 0 { '-' } else { ' ' };
                    line.extend(std::iter::repeat_n(fill, widths[idx] + 2));
                } else {
                    line.push('\n');
                }
            }
            out.push_str(&line);
        }
        let mut extent = 0usize;
        let mut line = String::new();
        for (idx, width) in widths.iter().enumerate().take(size) {
            let (text, tail) = &bar[idx];
            if text.is_some() {
                line.push_str(" | ");
            } else if extent < 3 {
                line.push_str(&" ".repeat(3 - extent));
                extent = 0;
            } else {
                extent -= 3;
            }
            if let (Some(text), 0) = (text, tail) {
                line.push_str(text);
                extent = text.chars().count();
            }
            if extent < *width {
                line.push_str(&" ".repeat(width - extent));
                extent = 0;
            } else {
                extent -= width;
            }
        }
        line.push_str(" |\n");
        out.push_str(&line);
    }
    let mut line = String::from("-+-");
    for width in widths {
        line.push_str(&"-".repeat(*width));
        line.push_str("-+-");
    }
    line.push('\n');
    out.push_str(&line);
}

/// A profile: a header over a domain's text form.
struct Meta {
    header: Option<String>,
    text: ToText,
}

/// How values of one domain become text.
enum ToText {
    /// Left-aligned: booleans, identities, dates, JSON...
    Plain,
    /// Right-aligned numbers.
    Number,
    /// Escaped and wrapped text (text, enum, untyped).
    Text,
    /// Columns that take no space (void).
    Void,
    Record(Vec<Meta>),
    List(Box<ToText>),
}

const THRESHOLD: usize = 32;

impl ToText {
    /// `headers` name a record's fields (the product's field metadata) at the top.
    fn of(domain: &Domain, headers: &[Option<String>]) -> ToText {
        match domain {
            Domain::Integer | Domain::Decimal | Domain::Float => ToText::Number,
            Domain::Text | Domain::Enum(..) | Domain::Untyped => ToText::Text,
            Domain::Void => ToText::Void,
            Domain::List(item) => ToText::List(Box::new(ToText::of(item, headers))),
            Domain::Record(fields) => ToText::Record(
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, d)| Meta {
                        header: headers.get(i).cloned().flatten(),
                        text: ToText::of(d, &[]),
                    })
                    .collect(),
            ),
            _ => ToText::Plain,
        }
    }

    fn size(&self) -> usize {
        match self {
            ToText::Void => 0,
            ToText::Record(fields) => fields.iter().map(Meta::size).sum(),
            ToText::List(item) => item.size(),
            _ => 1,
        }
    }

    fn head_depth(&self) -> usize {
        match self {
            ToText::Record(fields) if self.size() > 0 => {
                fields.iter().map(Meta::head_depth).max().unwrap_or(0)
            }
            ToText::List(item) => item.head_depth(),
            _ => 0,
        }
    }

    fn head(&self, depth: usize, out: &mut Vec<Vec<HeadCell>>) {
        let size = self.size();
        if size == 0 || depth == 0 {
            return;
        }
        match self {
            ToText::Record(fields) => {
                let streams: Vec<Vec<Vec<HeadCell>>> = fields
                    .iter()
                    .map(|f| {
                        let mut rows = Vec::new();
                        f.head(depth, &mut rows);
                        rows
                    })
                    .collect();
                let longest = streams.iter().map(Vec::len).max().unwrap_or(0);
                for i in 0..longest {
                    let mut row = Vec::new();
                    for stream in &streams {
                        if let Some(sub) = stream.get(i) {
                            row.extend(sub.iter().cloned());
                        }
                    }
                    out.push(row);
                }
            }
            ToText::List(item) => item.head(depth, out),
            _ => out.push(vec![(String::new(), depth, size)]),
        }
    }

    fn widths(&self, data: Option<&Value>) -> Vec<usize> {
        match self {
            ToText::Void => Vec::new(),
            ToText::Text => vec![text_width(data)],
            ToText::Plain | ToText::Number => vec![data.map_or(0, |v| dump(v).chars().count())],
            ToText::Record(fields) => {
                let items = record_items(data, fields.len());
                fields
                    .iter()
                    .zip(items)
                    .flat_map(|(f, item)| f.widths(item))
                    .collect()
            }
            ToText::List(item) => {
                let mut widths = vec![0; self.size()];
                let rows: Vec<Option<&Value>> = match data {
                    Some(Value::List(rows)) if !rows.is_empty() => rows.iter().map(Some).collect(),
                    _ => vec![None],
                };
                for row in rows {
                    for (w, iw) in widths.iter_mut().zip(item.widths(row)) {
                        *w = (*w).max(iw);
                    }
                }
                widths
            }
        }
    }

    fn body(&self, data: Option<&Value>, widths: &[usize], out: &mut Vec<Vec<(String, bool)>>) {
        match self {
            ToText::Void => {}
            ToText::Plain => {
                let cell = data.map(dump).unwrap_or_default();
                out.push(vec![(pad_right(&cell, widths[0]), true)]);
            }
            ToText::Number => {
                let cell = data.map(dump).unwrap_or_default();
                out.push(vec![(pad_left(&cell, widths[0]), true)]);
            }
            ToText::Text => text_body(data, widths[0], out),
            ToText::Record(fields) => {
                if self.size() == 0 {
                    return;
                }
                let dummies: Vec<(String, bool)> =
                    widths.iter().map(|w| (" ".repeat(*w), false)).collect();
                let Some(data) = data else {
                    out.push(dummies);
                    return;
                };
                let items = record_items(Some(data), fields.len());
                let mut streams = Vec::new();
                let mut start = 0;
                for (field, item) in fields.iter().zip(items) {
                    let size = field.size();
                    let mut rows = Vec::new();
                    field
                        .text
                        .body(item, &widths[start..start + size], &mut rows);
                    streams.push((rows, size));
                    start += size;
                }
                let longest = streams.iter().map(|(r, _)| r.len()).max().unwrap_or(0);
                for i in 0..longest {
                    let mut row: Vec<(String, bool)> = Vec::new();
                    for (rows, size) in &streams {
                        match rows.get(i) {
                            Some(sub) => row.extend(sub.iter().cloned()),
                            None => {
                                let at = row.len();
                                row.extend(dummies[at..at + size].iter().cloned());
                            }
                        }
                    }
                    out.push(row);
                }
            }
            ToText::List(item) => {
                if let Some(Value::List(rows)) = data {
                    for row in rows {
                        item.body(Some(row).filter(|v| !v.is_null()), widths, out);
                    }
                }
            }
        }
    }
}

impl Meta {
    fn size(&self) -> usize {
        self.text.size()
    }

    fn head_depth(&self) -> usize {
        self.text.head_depth() + usize::from(self.header.is_some())
    }

    fn head(&self, depth: usize, out: &mut Vec<Vec<HeadCell>>) {
        let size = self.size();
        if size == 0 || depth == 0 {
            return;
        }
        let Some(header) = &self.header else {
            self.text.head(depth, out);
            return;
        };
        let inner = self.text.head_depth();
        let rows = if inner > 0 { 1 } else { depth };
        out.push(vec![(header.clone(), rows, size)]);
        if inner > 0 {
            self.text.head(depth - 1, out);
        }
    }

    fn widths(&self, data: Option<&Value>) -> Vec<usize> {
        let size = self.size();
        if size == 0 {
            return Vec::new();
        }
        let mut widths = self.text.widths(data);
        let total = widths.iter().sum::<usize>() + 3 * (size - 1);
        if let Some(header) = &self.header {
            let len = header.chars().count();
            if len > total {
                let extra = len - total;
                let inc = extra / size;
                let rem = extra - inc * size;
                for (idx, w) in widths.iter_mut().enumerate() {
                    *w += inc + usize::from(idx < rem);
                }
            }
        }
        widths
    }

    fn body(&self, data: Option<&Value>, widths: &[usize], out: &mut Vec<Vec<(String, bool)>>) {
        self.text.body(data, widths, out)
    }
}

/// A record's fields, `None` for each when the record is null.
fn record_items(data: Option<&Value>, n: usize) -> Vec<Option<&Value>> {
    match data {
        Some(Value::Record(r)) => (0..n).map(|i| r.at(i).filter(|v| !v.is_null())).collect(),
        _ => vec![None; n],
    }
}

/// A leaf value as HTSQL's text format writes it.
fn dump(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Float(f) => python_g12(*f),
        Value::DateTime(t) if t.time() == chrono::NaiveTime::MIN => {
            t.date().format("%Y-%m-%d").to_string()
        }
        Value::Text(s) => s.clone(),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(dump).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.literal().unwrap_or_default(),
    }
}

/// Python's `"{:.12}".format(float)`: 12 significant digits, scientific notation
/// outside 1e-4..1e12, at least one digit after the point in fixed notation.
fn python_g12(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let sci = format!("{:.11e}", f);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..12).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    } else {
        let decimals = (11 - exp).max(0) as usize;
        let fixed = trim(&format!("{:.*}", decimals, f));
        if fixed.contains('.') {
            fixed
        } else {
            format!("{fixed}.0")
        }
    }
}

/// HTSQL's text escaping: plain when non-empty, free of control characters and not
/// starting or ending with a space or `"`; else JSON-like quoted.
fn escape(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.starts_with([' ', '"'])
        && !value.ends_with([' ', '"'])
        && !value.chars().any(|c| (c as u32) < 0x20);
    if plain {
        return value.to_string();
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Splits at single spaces between non-spaces (HTSQL's wrap points).
fn chunks(value: &str) -> Vec<String> {
    let chars: Vec<char> = value.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = c == ' '
            && i > 0
            && !chars[i - 1].is_whitespace()
            && chars.get(i + 1).is_some_and(|n| !n.is_whitespace());
        if boundary {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn text_of(data: Option<&Value>) -> Option<String> {
    data.filter(|v| !v.is_null()).map(|v| escape(&dump(v)))
}

fn text_width(data: Option<&Value>) -> usize {
    let Some(value) = text_of(data) else {
        return 0;
    };
    let len = value.chars().count();
    if len <= THRESHOLD {
        return len;
    }
    let lens: Vec<usize> = chunks(&value).iter().map(|c| c.chars().count()).collect();
    let max_chunk = lens.iter().copied().max().unwrap_or(0);
    if max_chunk >= THRESHOLD {
        return max_chunk;
    }
    // The widest run of whole chunks that fits the threshold.
    let (mut max_length, mut length, mut start) = (0, 0, 0);
    for end in 0..lens.len() {
        length += lens[end] + usize::from(end != 0);
        while length > THRESHOLD {
            length -= lens[start] + usize::from(start != 0);
            start += 1;
        }
        max_length = max_length.max(length);
    }
    max_length
}

/// Text cells: one line when it fits, else chunks packed into lines minimizing the
/// sum of squared trailing gaps (HTSQL's line breaking).
fn text_body(data: Option<&Value>, width: usize, out: &mut Vec<Vec<(String, bool)>>) {
    let Some(value) = text_of(data) else {
        out.push(vec![(" ".repeat(width), true)]);
        return;
    };
    if value.chars().count() <= width {
        out.push(vec![(pad_right(&value, width), true)]);
        return;
    }
    let chunks = chunks(&value);
    let lens: Vec<usize> = chunks.iter().map(|c| c.chars().count()).collect();
    let mut best_badness: Vec<usize> = Vec::new();
    let mut best_length: Vec<usize> = Vec::new();
    let mut best_size: Vec<usize> = Vec::new();
    for idx in 0..chunks.len() {
        let mut best: Option<(usize, usize, usize)> = None;
        let mut length = lens[idx];
        let mut size = 1;
        while length <= width && idx as isize - size as isize >= -1 {
            let badness = if size > idx {
                0
            } else {
                let tail = width.saturating_sub(best_length[idx - size]);
                best_badness[idx - size] + tail * tail
            };
            if best.is_none_or(|(b, _, _)| b > badness) {
                best = Some((badness, size, length));
            }
            if idx >= size {
                length += lens[idx - size] + 1;
            }
            size += 1;
        }
        let (b, s, l) = best.unwrap_or((0, 1, lens[idx]));
        best_badness.push(b);
        best_size.push(s);
        best_length.push(l);
    }
    let mut lines = Vec::new();
    let mut idx = chunks.len();
    while idx > 0 {
        let size = best_size[idx - 1].min(idx);
        lines.insert(0, pad_right(&chunks[idx - size..idx].join(" "), width));
        idx -= size;
    }
    for (i, line) in lines.into_iter().enumerate() {
        out.push(vec![(line, i == 0)]);
    }
}

fn pad_right(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

fn pad_left(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{}{s}", " ".repeat(width.saturating_sub(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::htsql::{FieldMeta, Record};

    fn meta(header: &str, domain: Domain) -> FieldMeta {
        FieldMeta {
            tag: Some(header.into()),
            header: header.into(),
            domain,
        }
    }

    #[test]
    fn scalar_under_its_header() {
        let p = Product {
            tag: None,
            domain: Domain::Integer,
            fields: vec![meta("count(foo)", Domain::Integer)],
            data: Value::Int(5),
        };
        assert_eq!(
            render_text(&p),
            " | count(foo) |\n-+------------+-\n |          5 |\n\n"
        );
    }

    #[test]
    fn table_with_title_row_nulls_and_wrapping() {
        let fields = vec![
            meta("code", Domain::Integer),
            meta("name", Domain::Text),
            meta("ok", Domain::Boolean),
        ];
        let record = Domain::Record(fields.iter().map(|f| f.domain.clone()).collect());
        let row = |code: i64, name: Value, ok: Value| {
            Value::Record(Record {
                name: Some("foo".into()),
                fields: vec![
                    ("code".into(), Value::Int(code)),
                    ("name".into(), name),
                    ("ok".into(), ok),
                ],
            })
        };
        let p = Product {
            tag: Some("foo".into()),
            domain: Domain::List(Box::new(record)),
            fields,
            data: Value::List(vec![
                row(1, Value::Text("a".into()), Value::Bool(true)),
                row(
                    22,
                    Value::Text(
                        "the quick brown fox jumps over the lazy dog again and again".into(),
                    ),
                    Value::Null,
                ),
                row(3, Value::Text(String::new()), Value::Bool(false)),
            ]),
        };
        let want = concat!(
            " | foo                                            |\n",
            " +------+---------------------------------+-------+\n",
            " | code | name                            | ok    |\n",
            "-+------+---------------------------------+-------+-\n",
            " |    1 | a                               | true  |\n",
            " |   22 | the quick brown fox jumps over  |       |\n",
            " :      : the lazy dog again and again    :       :\n",
            " |    3 | \"\"                              | false |\n",
            "\n",
        );
        assert_eq!(render_text(&p), want);
    }

    #[test]
    fn long_chunks_headers_wider_than_data_and_escapes() {
        let fields = vec![
            meta("a very long column header indeed", Domain::Integer),
            meta("t", Domain::Text),
        ];
        let record = Domain::Record(fields.iter().map(|f| f.domain.clone()).collect());
        let row = |n: Value, t: &str| {
            Value::Record(Record {
                name: None,
                fields: vec![("n".into(), n), ("t".into(), Value::Text(t.into()))],
            })
        };
        let long = format!("{} tail end words here and more", "x".repeat(40));
        let p = Product {
            tag: Some("things".into()),
            domain: Domain::List(Box::new(record)),
            fields,
            data: Value::List(vec![
                row(Value::Int(1), &long),
                row(Value::Int(2), " padded"),
                row(Value::Null, "tab\there"),
            ]),
        };
        let want = concat!(
            " | things                                                                      |\n",
            " +----------------------------------+------------------------------------------+\n",
            " | a very long column header indeed | t                                        |\n",
            "-+----------------------------------+------------------------------------------+-\n",
            " |                                1 | xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx |\n",
            " :                                  : tail end words here and more             :\n",
            " |                                2 | \" padded\"                                |\n",
            " |                                  | \"tab\\there\"                              |\n",
            "\n",
        );
        assert_eq!(render_text(&p), want);
    }

    #[test]
    fn floats_as_python_formats_them() {
        assert_eq!(python_g12(1.0), "1.0");
        assert_eq!(python_g12(0.1), "0.1");
        assert_eq!(python_g12(1e20), "1e+20");
        assert_eq!(python_g12(1234567890123.0), "1.23456789012e+12");
        assert_eq!(python_g12(0.00001), "1e-05");
        assert_eq!(python_g12(2.5), "2.5");
    }
}
