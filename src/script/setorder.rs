//! CPython's iteration order for sets of integers. Sets keep insertion order here,
//! but CPython iterates a set in hash-table order, which for ints (hash = value)
//! is deterministic and visible: `{3, 1, 2}` prints `{1, 2, 3}`. For those sets we
//! replay CPython 3.11's insertion algorithm (setobject.c: linear probes, perturbed
//! open addressing, resize at 60% fill) to get the same order. Sets holding other
//! values (strings hash randomly per process in CPython) keep insertion order.
//! Tuples of ints hash deterministically too and are handled the same way.

use super::value::Value;

const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;
const MODULUS: i128 = (1 << 61) - 1;

/// CPython's `hash()` of an int.
fn int_hash(v: i64) -> i64 {
    let m = (v as i128).abs() % MODULUS;
    let h = if v < 0 { -(m as i64) } else { m as i64 };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// CPython 3.11's hash for values whose hash does not depend on the process
/// (ints, bools, and tuples of them); `None` for the rest.
fn key_hash(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(int_hash(*i)),
        Value::Bool(b) => Some(*b as i64),
        Value::Tuple(items) => tuple_hash(items),
        _ => None,
    }
}

/// `tuplehash` (xxHash-based) from CPython 3.11's tupleobject.c.
fn tuple_hash(items: &[Value]) -> Option<i64> {
    const P1: u64 = 11400714785074694791;
    const P2: u64 = 14029467366897019727;
    const P5: u64 = 2870177450012600261;
    let mut acc: u64 = P5;
    for item in items {
        let lane = key_hash(item)? as u64;
        acc = acc.wrapping_add(lane.wrapping_mul(P2));
        acc = acc.rotate_left(31);
        acc = acc.wrapping_mul(P1);
    }
    acc = acc.wrapping_add((items.len() as u64) ^ (P5 ^ 3527539));
    if acc == u64::MAX {
        return Some(1546275796);
    }
    Some(acc as i64)
}

struct Table {
    slots: Vec<Option<(i64, usize)>>,
    fill: usize,
}

impl Table {
    fn new(size: usize) -> Table {
        Table {
            slots: vec![None; size],
            fill: 0,
        }
    }

    fn insert_clean(&mut self, hash: i64, item: usize) {
        let mask = self.slots.len() - 1;
        let mut perturb = hash as u64;
        let mut i = (hash as u64 as usize) & mask;
        loop {
            if self.slots[i].is_none() {
                self.slots[i] = Some((hash, item));
                self.fill += 1;
                return;
            }
            if i + LINEAR_PROBES <= mask {
                for j in 1..=LINEAR_PROBES {
                    if self.slots[i + j].is_none() {
                        self.slots[i + j] = Some((hash, item));
                        self.fill += 1;
                        return;
                    }
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    fn resize(&mut self, minused: usize) {
        let mut size = 8;
        while size <= minused {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.slots, vec![None; size]);
        self.fill = 0;
        for (h, item) in old.into_iter().flatten() {
            self.insert_clean(h, item);
        }
    }
}

/// Reorders a set's items (given in insertion order, all distinct) the way
/// CPython would iterate them, when every item is an int or bool.
pub fn cpython_order(items: Vec<Value>) -> Vec<Value> {
    if items.len() < 2 {
        return items;
    }
    let Some(hashes) = items.iter().map(key_hash).collect::<Option<Vec<i64>>>() else {
        return items;
    };
    let mut t = Table::new(8);
    for (n, h) in hashes.iter().enumerate() {
        // set_add_entry: the probe sequence equals insert_clean's when there are
        // no deleted entries and the key is new.
        t.insert_clean(*h, n);
        let mask = t.slots.len() - 1;
        if t.fill * 5 >= mask * 3 {
            let used = t.fill;
            t.resize(if used > 50000 { used * 2 } else { used * 4 });
        }
    }
    let mut out = Vec::with_capacity(items.len());
    let mut items: Vec<Option<Value>> = items.into_iter().map(Some).collect();
    for (_, n) in t.slots.into_iter().flatten() {
        if let Some(v) = items[n].take() {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(v: &[i64]) -> Vec<i64> {
        cpython_order(v.iter().map(|i| Value::Int(*i)).collect())
            .into_iter()
            .map(|v| match v {
                Value::Int(i) => i,
                _ => 0,
            })
            .collect()
    }

    #[test]
    fn matches_cpython() {
        // expected values from CPython 3.11: list({...})
        assert_eq!(order(&[3, 1, 2]), vec![1, 2, 3]);
        assert_eq!(order(&[10, 3, 8, 100]), vec![8, 10, 3, 100]);
        assert_eq!(order(&[-1, -2, 5]), vec![5, -1, -2]);
    }

    #[test]
    fn tuple_hash_matches_cpython() {
        // hash((1, 2)) and hash(()) in CPython 3.11
        assert_eq!(
            tuple_hash(&[Value::Int(1), Value::Int(2)]),
            Some(-3550055125485641917)
        );
        assert_eq!(tuple_hash(&[]), Some(5740354900026072187));
    }
}
