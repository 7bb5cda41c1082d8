//! HTSQL identity literals as data files write links: `dynamic_simple.10`,
//! `1003.01`, `'a b'.(x.y)`. Parsed into labels and groups, and dumped back for
//! messages (deploy.md §3.6).

/// A label or a parenthesised group of labels.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Leaf(String),
    Group(Vec<Lit>),
}

impl Lit {
    /// All labels in order, groups flattened.
    pub fn leaves(items: &[Lit]) -> Vec<String> {
        let mut out = vec![];
        for item in items {
            match item {
                Lit::Leaf(s) => out.push(s.clone()),
                Lit::Group(g) => out.extend(Lit::leaves(g)),
            }
        }
        out
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Parses a literal; the error is `ill-formed identity literal: <text>`.
pub fn parse(text: &str) -> Result<Vec<Lit>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let items = parse_seq(&chars, &mut pos, None);
    match items {
        Some(items) if pos == chars.len() && !items.is_empty() => Ok(items),
        _ => Err(format!("ill-formed identity literal: {text}")),
    }
}

fn skip_ws(chars: &[char], pos: &mut usize) {
    while chars.get(*pos).is_some_and(|c| c.is_whitespace()) {
        *pos += 1;
    }
}

fn parse_seq(chars: &[char], pos: &mut usize, closing: Option<char>) -> Option<Vec<Lit>> {
    let mut items = vec![];
    loop {
        skip_ws(chars, pos);
        let c = *chars.get(*pos)?;
        let item = match c {
            '\'' => {
                *pos += 1;
                let mut s = String::new();
                loop {
                    let c = *chars.get(*pos)?;
                    *pos += 1;
                    if c == '\'' {
                        if chars.get(*pos) == Some(&'\'') {
                            s.push('\'');
                            *pos += 1;
                        } else {
                            break;
                        }
                    } else {
                        s.push(c);
                    }
                }
                Lit::Leaf(s)
            }
            '(' | '[' => {
                *pos += 1;
                let close = if c == '(' { ')' } else { ']' };
                Lit::Group(parse_seq(chars, pos, Some(close))?)
            }
            c if is_word(c) => {
                let start = *pos;
                while chars.get(*pos).is_some_and(|c| is_word(*c)) {
                    *pos += 1;
                }
                Lit::Leaf(chars[start..*pos].iter().collect())
            }
            _ => return None,
        };
        items.push(item);
        skip_ws(chars, pos);
        match chars.get(*pos) {
            Some('.') => *pos += 1,
            Some(c) if Some(*c) == closing => {
                *pos += 1;
                return Some(items);
            }
            None if closing.is_none() => return Some(items),
            _ => return None,
        }
    }
}

/// Labels joined by `.`, quoted when not `[\w-]+`.
pub fn dump(items: &[Lit]) -> String {
    items
        .iter()
        .map(|item| match item {
            Lit::Leaf(s) if !s.is_empty() && s.chars().all(is_word) => s.clone(),
            Lit::Leaf(s) => format!("'{}'", s.replace('\'', "''")),
            Lit::Group(g) => format!("({})", dump(g)),
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(
            parse("dynamic_simple.10").unwrap(),
            vec![Lit::Leaf("dynamic_simple".into()), Lit::Leaf("10".into())]
        );
        let nested = parse("(1003).'0 1'").unwrap();
        assert_eq!(dump(&nested), "(1003).'0 1'");
        assert!(parse("a..b").is_err());
        assert!(parse("").is_err());
        assert!(parse("(a").is_err());
    }
}
