//! CPython's iteration order for sets of integers. Sets keep insertion order here,
//! but CPython iterates a set in hash-table order, which for ints (hash = value)
//! is deterministic and visible: `{3, 1, 2}` prints `{1, 2, 3}`. For those sets we
//! replay CPython 3.11's insertion algorithm (setobject.c: linear probes, perturbed
//! open addressing, resize at 60% fill) to get the same order. Sets holding other
//! values (strings hash randomly per process in CPython) keep insertion order.
//! Tuples of ints and floats hash deterministically too and are handled the same
//! way. Modelled: successive adds (`set(list)`, comprehensions, `add`), constant
//! displays and copies (`set_merge` into an empty set). Not modelled: deleted
//! slots and merges into non-empty sets (`update(other_set)`, `^`), where the
//! order can still differ from CPython's for values larger than the table.

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
        Value::Float(f) => float_hash(*f),
        _ => None,
    }
}

/// `_Py_HashDouble` from CPython 3.11's pyhash.c (NaN hashes by identity there,
/// so it has no deterministic order).
fn float_hash(v: f64) -> Option<i64> {
    const BITS: i32 = 61;
    const MODULUS: u64 = (1 << 61) - 1;
    if v.is_nan() {
        return None;
    }
    if v.is_infinite() {
        return Some(if v > 0.0 { 314159 } else { -314159 });
    }
    if v.fract() == 0.0 && v.abs() < 9.2e18 {
        return Some(int_hash(v as i64));
    }
    let (mut m, mut e) = frexp(v);
    let mut sign: i64 = 1;
    if m < 0.0 {
        sign = -1;
        m = -m;
    }
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & MODULUS) | (x >> (BITS - 28));
        m *= 268435456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= MODULUS {
            x -= MODULUS;
        }
    }
    let e = if e >= 0 {
        e % BITS
    } else {
        BITS - 1 - ((-1 - e) % BITS)
    };
    x = ((x << e) & MODULUS) | (x >> (BITS - e));
    let h = (x as i64).wrapping_mul(sign);
    Some(if h == -1 { -2 } else { h })
}

/// C's `frexp`: `v = m * 2**e` with `0.5 <= |m| < 1`.
fn frexp(v: f64) -> (f64, i32) {
    if v == 0.0 {
        return (v, 0);
    }
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // subnormal: scale up first
        let (m, e) = frexp(v * 2f64.powi(64));
        return (m, e - 64);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022)
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
    cpython_order_with(items, 0)
}

impl Table {
    /// `set_add_entry` for a new key (no deleted entries in our model).
    fn add(&mut self, hash: i64, item: usize) {
        self.insert_clean(hash, item);
        let mask = self.slots.len() - 1;
        if self.fill * 5 >= mask * 3 {
            let used = self.fill;
            self.resize(if used > 50000 { used * 2 } else { used * 4 });
        }
    }
}

/// Like [`cpython_order`], where the first `literal` items came from a set
/// display of three or more constants: CPython builds those as a frozenset
/// constant and merges it into a fresh set (`set_merge`), which can lay the
/// table out differently from adding the items one by one.
pub fn cpython_order_with(items: Vec<Value>, literal: usize) -> Vec<Value> {
    if items.len() < 2 {
        return items;
    }
    let Some(hashes) = items.iter().map(key_hash).collect::<Option<Vec<i64>>>() else {
        return items;
    };
    let k = literal.min(items.len());
    let mut t = Table::new(8);
    for (n, h) in hashes.iter().enumerate().take(k) {
        t.add(*h, n);
    }
    if k > 0 {
        let other = std::mem::replace(&mut t, Table::new(8));
        if k * 5 >= 7 * 3 {
            t.resize(k * 2);
        }
        if t.slots.len() == other.slots.len() {
            t = other;
        } else {
            for (h, n) in other.slots.into_iter().flatten() {
                t.insert_clean(h, n);
            }
        }
    }
    for (n, h) in hashes.iter().enumerate().skip(k) {
        t.add(*h, n);
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
    fn float_hash_matches_cpython() {
        // hash(1.5), hash(-0.1), hash(1e-300) in CPython 3.11
        assert_eq!(float_hash(1.5), Some(1152921504606846977));
        assert_eq!(float_hash(-0.1), Some(-230584300921369408));
        assert_eq!(float_hash(1e-300), Some(482449582752280463));
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
