//! The database catalog as HTSQL's `rex_deploy` addon sees it (htsql.md §4.2,
//! deploy.md §6): tables of schema `public` from pg_catalog, their columns, keys and
//! links, the labels names resolve to, and each table's identity. Catalogs are cached
//! per database (name + server) because the job worker and rex.mart call `produce`
//! many times; callers invalidate after DDL.

use super::value::Domain;
use crate::core::Result;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub domain: Domain,
    /// `format_type(...)`: the SQL type to cast parameters to.
    pub sql_type: String,
    pub not_null: bool,
    pub title: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ForeignKey {
    pub columns: Vec<usize>,
    pub target: usize,
    pub target_columns: Vec<usize>,
}

/// What a label names in a table scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attr {
    Column(usize),
    /// This table's foreign key #i.
    Direct(usize),
    /// Table `t`'s foreign key #i points here.
    Reverse(usize, usize),
}

/// A part of an identity: a column of the table, or a link whose target's identity nests.
#[derive(Clone, Debug)]
pub enum IdPart {
    Column(usize),
    Link(usize, Vec<IdPart>),
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub title: Option<String>,
    pub columns: Vec<Column>,
    pub primary_key: Option<Vec<usize>>,
    pub uniques: Vec<Vec<usize>>,
    pub fks: Vec<ForeignKey>,
    /// Normalized label → arc (`None` = ambiguous).
    pub labels: HashMap<String, Option<Attr>>,
    /// Arcs of `*`, in column order.
    pub public: Vec<(String, Attr)>,
    pub identity: Option<Vec<IdPart>>,
    /// Whether user triggers may change inserted rows (then identities are read back).
    pub has_triggers: bool,
}

#[derive(Debug, Default)]
pub struct Catalog {
    /// The schema the tables live in (`None`: `public`).
    pub schema: Option<String>,
    pub tables: Vec<Table>,
    /// Normalized table label → table index (`None` = ambiguous).
    pub home: HashMap<String, Option<usize>>,
}

/// `htsql.core.util.to_name`: lower-case, non-word chars to `_`, `_` before a digit.
pub fn normalize(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut out = String::new();
    if lower.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        out.push('_');
    }
    for c in lower.chars() {
        out.push(if c.is_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        });
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// rex_deploy `label_to_title`: `label.replace('_', ' ').title()`.
pub fn title(label: &str) -> String {
    let mut out = String::new();
    let mut prev_letter = false;
    for c in label.replace('_', " ").chars() {
        if c.is_alphabetic() {
            if prev_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_letter = true;
        } else {
            out.push(c);
            prev_letter = false;
        }
    }
    out
}

impl Table {
    /// Title for messages: the comment's `title:` or the titled name.
    pub fn title(&self) -> String {
        self.title.clone().unwrap_or_else(|| title(&self.name))
    }
    /// The key used by RETURNING and identity lookups: PK, else a unique all-NOT-NULL key.
    pub fn key(&self) -> Option<Vec<usize>> {
        if let Some(pk) = &self.primary_key {
            return Some(pk.clone());
        }
        self.uniques
            .iter()
            .find(|u| u.iter().all(|c| self.columns[*c].not_null))
            .cloned()
    }
}

impl Catalog {
    /// Reads schema `public` of the connected database.
    pub fn load(client: &mut impl postgres::GenericClient) -> Result<Catalog> {
        Catalog::load_schema(client, "public")
    }

    /// Reads one schema of the connected database.
    pub fn load_schema(client: &mut impl postgres::GenericClient, schema: &str) -> Result<Catalog> {
        let rows = client.query(
            "SELECT c.oid, c.relname, obj_description(c.oid, 'pg_class') \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'p', 'm', 'f') \
             ORDER BY c.relname",
            &[&schema],
        )?;
        let mut cat = Catalog {
            schema: (schema != "public").then(|| schema.to_string()),
            ..Catalog::default()
        };
        let mut by_oid: HashMap<u32, usize> = HashMap::new();
        for r in &rows {
            let oid: u32 = r.get(0);
            by_oid.insert(oid, cat.tables.len());
            let comment: Option<String> = r.get(2);
            cat.tables.push(Table {
                name: r.get(1),
                title: comment.as_deref().and_then(|c| meta_key(c, "title")),
                columns: Vec::new(),
                primary_key: None,
                uniques: Vec::new(),
                fks: Vec::new(),
                labels: HashMap::new(),
                public: Vec::new(),
                identity: None,
                has_triggers: false,
            });
        }
        let enums = client.query(
            "SELECT enumtypid, enumlabel FROM pg_catalog.pg_enum ORDER BY enumtypid, enumsortorder",
            &[],
        )?;
        let mut enum_labels: HashMap<u32, Vec<String>> = HashMap::new();
        for r in &enums {
            enum_labels.entry(r.get(0)).or_default().push(r.get(1));
        }
        let cols = client.query(
            "SELECT a.attrelid, a.attnum, a.attname, a.attnotnull, \
                    format_type(a.atttypid, a.atttypmod), \
                    CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END, \
                    col_description(a.attrelid, a.attnum) \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
             WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attrelid, a.attnum",
            &[&schema],
        )?;
        let base_types: HashMap<u32, String> = client
            .query("SELECT oid, typname FROM pg_catalog.pg_type", &[])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let mut attnums: HashMap<(usize, i16), usize> = HashMap::new();
        for r in &cols {
            let Some(&t) = by_oid.get(&r.get::<_, u32>(0)) else {
                continue;
            };
            let base: u32 = r.get(5);
            let sql_type: String = r.get(4);
            let domain = match enum_labels.get(&base) {
                Some(labels) => Domain::Enum(sql_type.clone(), labels.clone()),
                None => domain_of(base_types.get(&base).map(String::as_str).unwrap_or("")),
            };
            let comment: Option<String> = r.get(6);
            attnums.insert((t, r.get(1)), cat.tables[t].columns.len());
            cat.tables[t].columns.push(Column {
                name: r.get(2),
                domain,
                sql_type,
                not_null: r.get(3),
                title: comment.as_deref().and_then(|c| meta_key(c, "title")),
            });
        }
        for r in &client.query(
            "SELECT DISTINCT tgrelid FROM pg_catalog.pg_trigger WHERE NOT tgisinternal",
            &[],
        )? {
            if let Some(&t) = by_oid.get(&r.get::<_, u32>(0)) {
                cat.tables[t].has_triggers = true;
            }
        }
        let cons = client.query(
            "SELECT conrelid, contype::text, conkey, confrelid, confkey \
             FROM pg_catalog.pg_constraint WHERE contype IN ('p', 'u', 'f') \
             ORDER BY conrelid, contype, conname",
            &[],
        )?;
        for r in &cons {
            let Some(&t) = by_oid.get(&r.get::<_, u32>(0)) else {
                continue;
            };
            let kind: String = r.get(1);
            let keys = |v: Option<Vec<i16>>, table: usize| -> Option<Vec<usize>> {
                v?.iter()
                    .map(|k| attnums.get(&(table, *k)).copied())
                    .collect()
            };
            let Some(conkey) = keys(r.get(2), t) else {
                continue;
            };
            match kind.as_str() {
                "p" => cat.tables[t].primary_key = Some(conkey),
                "u" => cat.tables[t].uniques.push(conkey),
                _ => {
                    let Some(&target) = by_oid.get(&r.get::<_, u32>(3)) else {
                        continue;
                    };
                    let Some(confkey) = keys(r.get(4), target) else {
                        continue;
                    };
                    cat.tables[t].fks.push(ForeignKey {
                        columns: conkey,
                        target,
                        target_columns: confkey,
                    });
                }
            }
        }
        cat.label();
        Ok(cat)
    }

    /// Computes home labels, table labels, `*` lists and identities.
    fn label(&mut self) {
        let home_bids: Vec<(String, u8, usize)> = (0..self.tables.len())
            .map(|t| (normalize(&self.tables[t].name), 1, t))
            .collect();
        self.home = resolve(home_bids);
        for t in 0..self.tables.len() {
            let mut bids: Vec<(String, u8, Attr)> = Vec::new();
            let table = &self.tables[t];
            let fk_cols: HashSet<usize> = table
                .fks
                .iter()
                .flat_map(|f| f.columns.iter().copied())
                .collect();
            for (i, c) in table.columns.iter().enumerate() {
                if c.name != "id" && !fk_cols.contains(&i) {
                    bids.push((normalize(&c.name), 1, Attr::Column(i)));
                }
            }
            for (i, fk) in table.fks.iter().enumerate() {
                let primary = is_primary(table, &fk.columns);
                if let Some(l) = link_label(table, fk) {
                    bids.push((normalize(&l), 4, Attr::Direct(i)));
                }
                let target = &self.tables[fk.target].name;
                bids.push((
                    normalize(target),
                    if primary { 3 } else { 2 },
                    Attr::Direct(i),
                ));
            }
            for (c, child) in self.tables.iter().enumerate() {
                for (i, fk) in child.fks.iter().enumerate() {
                    if fk.target != t {
                        continue;
                    }
                    let primary = is_primary(child, &fk.columns);
                    bids.push((
                        normalize(&child.name),
                        if primary { 3 } else { 2 },
                        Attr::Reverse(c, i),
                    ));
                    if let Some(l) = link_label(child, fk) {
                        bids.push((
                            normalize(&format!("{} via {l}", child.name)),
                            1,
                            Attr::Reverse(c, i),
                        ));
                    }
                }
            }
            let labels = resolve(bids);
            let mut public: Vec<(usize, String, Attr)> = labels
                .iter()
                .filter_map(|(name, arc)| {
                    let arc = (*arc)?;
                    let pos = match arc {
                        Attr::Column(i) => i,
                        Attr::Direct(f) => *table.fks[f].columns.iter().min()?,
                        Attr::Reverse(..) => return None,
                    };
                    Some((pos, name.clone(), arc))
                })
                .collect();
            public.sort_by_key(|(p, _, _)| *p);
            let public = public.into_iter().map(|(_, n, a)| (n, a)).collect();
            self.tables[t].labels = labels;
            self.tables[t].public = public;
        }
        for t in 0..self.tables.len() {
            let id = self.identity_of(t, 0);
            self.tables[t].identity = id;
        }
    }

    fn identity_of(&self, t: usize, depth: usize) -> Option<Vec<IdPart>> {
        if depth > 8 {
            return None;
        }
        let table = &self.tables[t];
        let key = table
            .primary_key
            .clone()
            .into_iter()
            .chain(table.uniques.clone())
            .find(|k| k.iter().all(|c| table.columns[*c].not_null))?;
        let mut parts = Vec::new();
        let mut i = 0;
        'walk: while i < key.len() {
            for (f, fk) in table.fks.iter().enumerate() {
                let n = fk.columns.len();
                if i + n <= key.len() && key[i..i + n] == fk.columns[..] {
                    if let Some(nested) = self.identity_of(fk.target, depth + 1) {
                        parts.push(IdPart::Link(f, nested));
                        i += n;
                        continue 'walk;
                    }
                }
            }
            parts.push(IdPart::Column(key[i]));
            i += 1;
        }
        Some(parts)
    }

    /// Names for suggestions in a table scope (non-ambiguous), sorted.
    pub fn scope_names(&self, t: Option<usize>) -> Vec<String> {
        let mut names: Vec<String> = match t {
            None => self
                .home
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(k, _)| k.clone())
                .collect(),
            Some(t) => self.tables[t]
                .labels
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(k, _)| k.clone())
                .collect(),
        };
        names.sort();
        names
    }
}

fn is_primary(table: &Table, cols: &[usize]) -> bool {
    table
        .primary_key
        .as_ref()
        .is_some_and(|pk| cols.iter().all(|c| pk.contains(c)))
}

/// rex_deploy link label: the FK's last column name without `_id` (and trailing `_`).
fn link_label(table: &Table, fk: &ForeignKey) -> Option<String> {
    let name = &table.columns[*fk.columns.last()?].name;
    name.strip_suffix("_id")
        .map(|s| s.trim_end_matches('_').to_string())
        .filter(|s| !s.is_empty())
}

/// `Classify.__call__`: weights high to low, names by (len, name) within a weight.
fn resolve<A: Copy + Eq + std::hash::Hash>(
    bids: Vec<(String, u8, A)>,
) -> HashMap<String, Option<A>> {
    let mut out: HashMap<String, Option<A>> = HashMap::new();
    let mut named: HashSet<A> = HashSet::new();
    let mut weights: Vec<u8> = bids.iter().map(|b| b.1).collect();
    weights.sort_unstable_by(|a, b| b.cmp(a));
    weights.dedup();
    for w in weights {
        let mut names: Vec<&String> = bids.iter().filter(|b| b.1 == w).map(|b| &b.0).collect();
        names.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
        names.dedup();
        for name in names {
            match out.get(name) {
                Some(Some(_)) => continue,
                Some(None) => continue,
                None => {}
            }
            let arcs: Vec<A> = bids
                .iter()
                .filter(|b| b.1 == w && &b.0 == name)
                .map(|b| b.2)
                .collect();
            if arcs.len() > 1 || named.contains(&arcs[0]) {
                out.insert(name.clone(), None);
                continue;
            }
            named.insert(arcs[0]);
            out.insert(name.clone(), Some(arcs[0]));
        }
    }
    out
}

fn domain_of(typname: &str) -> Domain {
    match typname {
        "bool" => Domain::Boolean,
        "int2" | "int4" | "int8" | "oid" => Domain::Integer,
        "numeric" => Domain::Decimal,
        "float4" | "float8" => Domain::Float,
        "bpchar" | "varchar" | "text" | "name" | "char" => Domain::Text,
        "date" => Domain::Date,
        "time" | "timetz" => Domain::Time,
        "timestamp" | "timestamptz" => Domain::DateTime,
        "json" | "jsonb" => Domain::Json,
        _ => Domain::Opaque,
    }
}

/// One top-level `key: value` of a rex.deploy metadata comment (YAML, plain scalars).
fn meta_key(comment: &str, key: &str) -> Option<String> {
    comment.lines().find_map(|l| {
        let v = l.strip_prefix(key)?.strip_prefix(':')?.trim();
        let v = v
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .map(|s| s.replace("''", "'"))
            .unwrap_or_else(|| v.to_string());
        (!v.is_empty()).then_some(v)
    })
}

/// Cached catalogs by database key, each with the schema signature it was read at.
type Cache = Mutex<HashMap<String, (String, Arc<Catalog>)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The key naming the connected database (its oid, so a re-created database with the
/// same name is a new key) and a cheap signature of schema `public`: relations,
/// columns, constraints and enum labels. A changed signature reloads the catalog,
/// so callers need `invalidate_catalog` only for changes the signature cannot see
/// (e.g. a column type changed in place).
fn db_key(client: &mut impl postgres::GenericClient) -> Result<(String, String)> {
    let row = client.query_one(
        "SELECT d.oid::text || '/' || current_database()::text || '@' \
                || coalesce(inet_server_addr()::text, '') || ':' \
                || coalesce(inet_server_port(), 0)::text, \
                (SELECT count(*) || '/' || coalesce(sum(c.relnatts), 0) || '/' \
                        || coalesce(max(c.oid::text::int8), 0) \
                 FROM pg_catalog.pg_class c \
                 WHERE c.relnamespace = 'public'::regnamespace) || '/' || \
                (SELECT count(*) || '/' || coalesce(max(o.oid::text::int8), 0) \
                 FROM pg_catalog.pg_constraint o \
                 WHERE o.connamespace = 'public'::regnamespace) || '/' || \
                (SELECT count(*) FROM pg_catalog.pg_enum) || '/' || \
                (SELECT count(*) FROM pg_catalog.pg_attribute a \
                 JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
                 WHERE c.relnamespace = 'public'::regnamespace AND a.attisdropped) \
         FROM pg_catalog.pg_database d WHERE d.datname = current_database()",
        &[],
    )?;
    Ok((row.get(0), row.get(1)))
}

/// The cached catalog of `client`'s database, (re)loading it when the schema changed.
pub fn catalog(client: &mut impl postgres::GenericClient) -> Result<Arc<Catalog>> {
    let (key, signature) = db_key(client)?;
    if let Some((sig, c)) = cache().lock().map_err(|_| poisoned())?.get(&key) {
        if *sig == signature {
            return Ok(c.clone());
        }
    }
    let c = Arc::new(Catalog::load(client)?);
    cache()
        .lock()
        .map_err(|_| poisoned())?
        .insert(key, (signature, c.clone()));
    Ok(c)
}

fn poisoned() -> crate::core::Error {
    crate::core::Error::new("The HTSQL catalog cache is unavailable")
}

/// Forgets the cached catalog of `client`'s database (call after DDL).
pub fn invalidate_catalog(client: &mut impl postgres::GenericClient) -> Result<()> {
    let (key, _) = db_key(client)?;
    cache().lock().map_err(|_| poisoned())?.remove(&key);
    Ok(())
}

/// Forgets every cached catalog (e.g. after dropping and re-creating databases).
pub fn invalidate_all_catalogs() {
    if let Ok(mut c) = cache().lock() {
        c.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_titles() {
        assert_eq!(normalize("First Name"), "first_name");
        assert_eq!(normalize("1abc"), "_1abc");
        assert_eq!(normalize("FIRSTNAME"), "firstname");
        assert_eq!(title("evaluation_date"), "Evaluation Date");
        assert_eq!(
            meta_key("---\ntitle: Foo Bars\n", "title").as_deref(),
            Some("Foo Bars")
        );
    }
}
