//! Python `csv` (excel dialect) reading: `,` separator, `"` quoting with `""`
//! escapes, quoted fields spanning lines, no trimming, and a blank line read as a row
//! with no entries — details the `csv` crate does differently. Keeps each row's raw
//! text and first line for error messages.

/// One record: its cells, the line it starts on (1-based) and its raw text.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub cells: Vec<String>,
    pub line: usize,
    pub raw: String,
}

/// Splits `text` into records.
pub fn read(text: &str) -> Vec<Record> {
    let mut records = vec![];
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let start = i;
        let start_line = line;
        let mut cells = vec![];
        let mut cell = String::new();
        let mut in_quotes = false;
        let mut at_start = true;
        let mut saw_anything = false;
        while let Some(&c) = chars.get(i) {
            if in_quotes {
                i += 1;
                if c == '"' {
                    if chars.get(i) == Some(&'"') {
                        cell.push('"');
                        i += 1;
                    } else {
                        in_quotes = false;
                    }
                } else {
                    if c == '\n' {
                        line += 1;
                    }
                    cell.push(c);
                }
                continue;
            }
            if c == '\n' || c == '\r' {
                break;
            }
            i += 1;
            saw_anything = true;
            match c {
                ',' => {
                    cells.push(std::mem::take(&mut cell));
                    at_start = true;
                    continue;
                }
                '"' if at_start => in_quotes = true,
                c => cell.push(c),
            }
            at_start = false;
        }
        let raw: String = chars[start..i].iter().collect();
        if saw_anything {
            cells.push(cell);
        }
        if chars.get(i) == Some(&'\r') {
            i += 1;
        }
        if chars.get(i) == Some(&'\n') {
            i += 1;
        }
        line += 1;
        records.push(Record {
            cells,
            line: start_line,
            raw,
        });
    }
    records
}

#[cfg(test)]
mod tests {
    use super::read;

    #[test]
    fn excel_dialect() {
        let r = read("a,b\n1,\"x,\"\"y\"\"\nz\"\n\n,2");
        let cells: Vec<Vec<&str>> = r
            .iter()
            .map(|r| r.cells.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            cells,
            vec![
                vec!["a", "b"],
                vec!["1", "x,\"y\"\nz"],
                vec![],
                vec!["", "2"]
            ]
        );
        assert_eq!(r[3].line, 5);
        assert_eq!(read("").len(), 0);
    }
}
