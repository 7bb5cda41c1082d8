//! The line matching of CPython's `difflib`: `SequenceMatcher` (with its autojunk
//! heuristic) and `Differ` (ndiff, with `IS_CHARACTER_JUNK`).
//!
//! Which lines a diff pairs up is defined by SequenceMatcher, not by any minimal
//! diff: `similar`'s Myers diff agrees with it on single edits but on only about half
//! of arbitrary inputs. So the opcodes come from this port and are handed to
//! `similar` as `DiffOp`s for grouping into hunks and hunk headers (REPORT_UDIFF,
//! REPORT_CDIFF); ndiff's `?` lines have no counterpart in any crate.

use std::collections::HashMap;
use std::hash::Hash;

/// `difflib.SequenceMatcher` over slices of `T`.
struct Matcher<'s, T: Eq + Hash + Copy> {
    a: &'s [T],
    b: &'s [T],
    b2j: HashMap<T, Vec<usize>>,
    bjunk: Vec<T>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Replace,
    Delete,
    Insert,
    Equal,
}

type Opcode = (Tag, usize, usize, usize, usize);

impl<'s, T: Eq + Hash + Copy> Matcher<'s, T> {
    fn new(a: &'s [T], b: &'s [T], isjunk: Option<fn(&T) -> bool>) -> Self {
        let mut b2j: HashMap<T, Vec<usize>> = HashMap::new();
        for (i, e) in b.iter().enumerate() {
            b2j.entry(*e).or_default().push(i);
        }
        let mut bjunk = Vec::new();
        if let Some(junk) = isjunk {
            bjunk = b2j.keys().filter(|e| junk(e)).copied().collect();
            for e in &bjunk {
                b2j.remove(e);
            }
        }
        let n = b.len();
        if n >= 200 {
            let ntest = n / 100 + 1;
            b2j.retain(|_, idxs| idxs.len() <= ntest);
        }
        Matcher { a, b, b2j, bjunk }
    }

    fn is_bjunk(&self, e: &T) -> bool {
        self.bjunk.contains(e)
    }

    fn find_longest_match(
        &self,
        alo: usize,
        ahi: usize,
        blo: usize,
        bhi: usize,
    ) -> (usize, usize, usize) {
        let (a, b) = (self.a, self.b);
        let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0usize);
        let mut j2len: HashMap<usize, usize> = HashMap::new();
        for (i, ai) in a.iter().enumerate().take(ahi).skip(alo) {
            let mut newj2len = HashMap::new();
            if let Some(js) = self.b2j.get(ai) {
                for &j in js {
                    if j < blo {
                        continue;
                    }
                    if j >= bhi {
                        break;
                    }
                    let k = if j > 0 {
                        j2len.get(&(j - 1)).copied().unwrap_or(0)
                    } else {
                        0
                    } + 1;
                    newj2len.insert(j, k);
                    if k > bestsize {
                        besti = i + 1 - k;
                        bestj = j + 1 - k;
                        bestsize = k;
                    }
                }
            }
            j2len = newj2len;
        }
        for junk in [false, true] {
            while besti > alo
                && bestj > blo
                && self.is_bjunk(&b[bestj - 1]) == junk
                && a[besti - 1] == b[bestj - 1]
            {
                besti -= 1;
                bestj -= 1;
                bestsize += 1;
            }
            while besti + bestsize < ahi
                && bestj + bestsize < bhi
                && self.is_bjunk(&b[bestj + bestsize]) == junk
                && a[besti + bestsize] == b[bestj + bestsize]
            {
                bestsize += 1;
            }
        }
        (besti, bestj, bestsize)
    }

    fn matching_blocks(&self) -> Vec<(usize, usize, usize)> {
        let (la, lb) = (self.a.len(), self.b.len());
        let mut queue = vec![(0, la, 0, lb)];
        let mut blocks = Vec::new();
        while let Some((alo, ahi, blo, bhi)) = queue.pop() {
            let (i, j, k) = self.find_longest_match(alo, ahi, blo, bhi);
            if k > 0 {
                blocks.push((i, j, k));
                if alo < i && blo < j {
                    queue.push((alo, i, blo, j));
                }
                if i + k < ahi && j + k < bhi {
                    queue.push((i + k, ahi, j + k, bhi));
                }
            }
        }
        blocks.sort_unstable();
        let mut out = Vec::new();
        let (mut i1, mut j1, mut k1) = (0, 0, 0);
        for (i2, j2, k2) in blocks {
            if i1 + k1 == i2 && j1 + k1 == j2 {
                k1 += k2;
            } else {
                if k1 > 0 {
                    out.push((i1, j1, k1));
                }
                (i1, j1, k1) = (i2, j2, k2);
            }
        }
        if k1 > 0 {
            out.push((i1, j1, k1));
        }
        out.push((la, lb, 0));
        out
    }

    fn opcodes(&self) -> Vec<Opcode> {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        for (ai, bj, size) in self.matching_blocks() {
            let tag = if i < ai && j < bj {
                Some(Tag::Replace)
            } else if i < ai {
                Some(Tag::Delete)
            } else if j < bj {
                Some(Tag::Insert)
            } else {
                None
            };
            if let Some(tag) = tag {
                out.push((tag, i, ai, j, bj));
            }
            i = ai + size;
            j = bj + size;
            if size > 0 {
                out.push((Tag::Equal, ai, i, bj, j));
            }
        }
        out
    }

    fn ratio(&self) -> f64 {
        let matches: usize = self.matching_blocks().iter().map(|m| m.2).sum();
        calculate_ratio(matches, self.a.len() + self.b.len())
    }

    fn quick_ratio(&self) -> f64 {
        let mut full: HashMap<T, isize> = HashMap::new();
        for e in self.b {
            *full.entry(*e).or_default() += 1;
        }
        let mut matches = 0;
        for e in self.a {
            let n = full.entry(*e).or_default();
            if *n > 0 {
                matches += 1;
            }
            *n -= 1;
        }
        calculate_ratio(matches, self.a.len() + self.b.len())
    }

    fn real_quick_ratio(&self) -> f64 {
        let (la, lb) = (self.a.len(), self.b.len());
        calculate_ratio(la.min(lb), la + lb)
    }
}

fn calculate_ratio(matches: usize, length: usize) -> f64 {
    if length > 0 {
        2.0 * matches as f64 / length as f64
    } else {
        1.0
    }
}

/// `SequenceMatcher(None, a, b).get_opcodes()` over lines, as `similar` ops.
pub fn line_ops(a: &[&str], b: &[&str]) -> Vec<similar::DiffOp> {
    use similar::DiffOp;
    Matcher::new(a, b, None)
        .opcodes()
        .into_iter()
        .map(|(tag, i1, i2, j1, j2)| match tag {
            Tag::Equal => DiffOp::Equal {
                old_index: i1,
                new_index: j1,
                len: i2 - i1,
            },
            Tag::Delete => DiffOp::Delete {
                old_index: i1,
                old_len: i2 - i1,
                new_index: j1,
            },
            Tag::Insert => DiffOp::Insert {
                old_index: i1,
                new_index: j1,
                new_len: j2 - j1,
            },
            Tag::Replace => DiffOp::Replace {
                old_index: i1,
                old_len: i2 - i1,
                new_index: j1,
                new_len: j2 - j1,
            },
        })
        .collect()
}

/// `difflib.IS_CHARACTER_JUNK`.
fn is_character_junk(c: &char) -> bool {
    *c == ' ' || *c == '\t'
}

/// `Differ(charjunk=IS_CHARACTER_JUNK).compare(a, b)`: lines keep their newlines.
pub fn ndiff(a: &[&str], b: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let m = Matcher::new(a, b, None);
    for (tag, alo, ahi, blo, bhi) in m.opcodes() {
        match tag {
            Tag::Replace => fancy_replace(&mut out, a, alo, ahi, b, blo, bhi),
            Tag::Delete => dump(&mut out, '-', a, alo, ahi),
            Tag::Insert => dump(&mut out, '+', b, blo, bhi),
            Tag::Equal => dump(&mut out, ' ', a, alo, ahi),
        }
    }
    out
}

fn dump(out: &mut Vec<String>, tag: char, x: &[&str], lo: usize, hi: usize) {
    for line in &x[lo..hi] {
        out.push(format!("{tag} {line}"));
    }
}

fn plain_replace(
    out: &mut Vec<String>,
    a: &[&str],
    (alo, ahi): (usize, usize),
    b: &[&str],
    (blo, bhi): (usize, usize),
) {
    if bhi - blo < ahi - alo {
        dump(out, '+', b, blo, bhi);
        dump(out, '-', a, alo, ahi);
    } else {
        dump(out, '-', a, alo, ahi);
        dump(out, '+', b, blo, bhi);
    }
}

fn fancy_replace(
    out: &mut Vec<String>,
    a: &[&str],
    alo: usize,
    ahi: usize,
    b: &[&str],
    blo: usize,
    bhi: usize,
) {
    let mut best_ratio = 0.74;
    let cutoff = 0.75;
    let (mut best_i, mut best_j) = (0, 0);
    let mut eq: Option<(usize, usize)> = None;
    let chars_a: Vec<Vec<char>> = a.iter().map(|l| l.chars().collect()).collect();
    let chars_b: Vec<Vec<char>> = b.iter().map(|l| l.chars().collect()).collect();
    for j in blo..bhi {
        for i in alo..ahi {
            if a[i] == b[j] {
                if eq.is_none() {
                    eq = Some((i, j));
                }
                continue;
            }
            let m = Matcher::new(&chars_a[i], &chars_b[j], Some(is_character_junk));
            if m.real_quick_ratio() > best_ratio
                && m.quick_ratio() > best_ratio
                && m.ratio() > best_ratio
            {
                best_ratio = m.ratio();
                best_i = i;
                best_j = j;
            }
        }
    }
    let identical = if best_ratio < cutoff {
        match eq {
            None => {
                plain_replace(out, a, (alo, ahi), b, (blo, bhi));
                return;
            }
            Some((i, j)) => {
                best_i = i;
                best_j = j;
                true
            }
        }
    } else {
        false
    };
    fancy_helper(out, a, alo, best_i, b, blo, best_j);
    let (aelt, belt) = (a[best_i], b[best_j]);
    if identical {
        out.push(format!("  {aelt}"));
    } else {
        let m = Matcher::new(&chars_a[best_i], &chars_b[best_j], Some(is_character_junk));
        let (mut atags, mut btags) = (String::new(), String::new());
        for (tag, ai1, ai2, bj1, bj2) in m.opcodes() {
            let (la, lb) = (ai2 - ai1, bj2 - bj1);
            let (ca, cb) = match tag {
                Tag::Replace => ('^', '^'),
                Tag::Delete => ('-', ' '),
                Tag::Insert => (' ', '+'),
                Tag::Equal => (' ', ' '),
            };
            if tag != Tag::Insert {
                atags.extend(std::iter::repeat_n(ca, la));
            }
            if tag != Tag::Delete {
                btags.extend(std::iter::repeat_n(cb, lb));
            }
        }
        qformat(out, aelt, belt, &atags, &btags);
    }
    fancy_helper(out, a, best_i + 1, ahi, b, best_j + 1, bhi);
}

fn fancy_helper(
    out: &mut Vec<String>,
    a: &[&str],
    alo: usize,
    ahi: usize,
    b: &[&str],
    blo: usize,
    bhi: usize,
) {
    if alo < ahi {
        if blo < bhi {
            fancy_replace(out, a, alo, ahi, b, blo, bhi);
        } else {
            dump(out, '-', a, alo, ahi);
        }
    } else if blo < bhi {
        dump(out, '+', b, blo, bhi);
    }
}

/// `_keep_original_ws`: where the tag is a space and the line has white space, keep
/// the line's character (so tabs line up), then strip trailing white space.
fn keep_original_ws(line: &str, tags: &str) -> String {
    let kept: String = line
        .chars()
        .zip(tags.chars())
        .map(|(c, t)| {
            if t == ' ' && super::parse::py_isspace(c) {
                c
            } else {
                t
            }
        })
        .collect();
    kept.trim_end_matches(super::parse::py_isspace).to_string()
}

fn qformat(out: &mut Vec<String>, aline: &str, bline: &str, atags: &str, btags: &str) {
    let atags = keep_original_ws(aline, atags);
    let btags = keep_original_ws(bline, btags);
    out.push(format!("- {aline}"));
    if !atags.is_empty() {
        out.push(format!("? {atags}\n"));
    }
    out.push(format!("+ {bline}"));
    if !btags.is_empty() {
        out.push(format!("? {btags}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differ_marks_characters() {
        let a = ["one\n", "two\n", "three\n"];
        let b = ["ore\n", "tree\n", "emu\n"];
        let got = ndiff(&a, &b).concat();
        // From the difflib documentation.
        assert_eq!(
            got,
            "- one\n?  ^\n+ ore\n?  ^\n- two\n- three\n?  -\n+ tree\n+ emu\n"
        );
    }
}
