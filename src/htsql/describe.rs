//! What HTSQL's shell command `describe [table[.attribute]]` prints about the
//! catalog: the database's tables, a table (its SQL name, keys, identity and
//! labels), a column (domain, nullability, keys) or a link (its join), each label
//! with its kind (`text column`, `link to x`, `plural link to x`), labels as the
//! rex_deploy addon names them.

use super::catalog::{catalog, normalize, Attr, Catalog, IdPart, Table};
use crate::core::repr::py_str_repr;
use crate::core::Result;

/// The lines `describe ARGUMENT` prints (a `** ...` line for a bad name);
/// `db_title` names the database (`PGSQL:///mart`).
pub fn describe(
    client: &mut postgres::Client,
    db_title: &str,
    argument: &str,
) -> Result<Vec<String>> {
    let cat = catalog(client)?;
    let schema = cat.schema.clone().unwrap_or_else(|| "public".into());
    let d = Describer { cat: &cat, schema };
    let path: Vec<&str> = if argument.is_empty() {
        Vec::new()
    } else {
        argument.split('.').map(str::trim).collect()
    };
    // The arc each name leads to: None = the home node.
    let mut arc: Option<Arc> = None;
    for name in &path {
        if normalize(name) != name.to_lowercase() {
            return Ok(vec![format!("** invalid identifier {}", py_str_repr(name))]);
        }
        let labels = d.labels(arc.as_ref());
        match labels.into_iter().find(|(n, _)| *n == name.to_lowercase()) {
            Some((_, found)) => arc = Some(found),
            None => return Ok(vec![format!("** unknown identifier {}", py_str_repr(name))]),
        }
    }
    let mut out = Vec::new();
    match &arc {
        None => out.push(format!("{db_title} - HTSQL database")),
        Some(a) => {
            let name: Vec<String> = path.iter().map(|n| normalize(n)).collect();
            out.push(format!("{} - {}", name.join(".").to_uppercase(), d.kind(a)));
            d.description(a, &mut out);
        }
    }
    let labels = d.labels(arc.as_ref());
    if !labels.is_empty() {
        out.push(String::new());
        out.push("Labels:".into());
        for (name, a) in &labels {
            out.push(format!("  {:<24} : {}", name, d.kind(a)));
        }
    }
    out.push(String::new());
    Ok(out)
}

/// A labelled arc of HTSQL's model.
#[derive(Clone, Debug)]
enum Arc {
    Table(usize),
    /// A column of table `.0`.
    Column(usize, usize),
    /// Link from table `.0` by its attribute.
    Link(usize, Attr),
    /// A name several arcs want.
    Ambiguous,
}

struct Describer<'c> {
    cat: &'c Catalog,
    schema: String,
}

impl Describer<'_> {
    fn table_sql(&self, t: usize) -> String {
        format!("{}.{}", self.schema, self.cat.tables[t].name)
    }

    fn columns(&self, t: usize, cols: &[usize]) -> String {
        let table = &self.cat.tables[t];
        cols.iter()
            .map(|c| table.columns[*c].name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Table `t`'s label at home, if it has one.
    fn table_label(&self, t: usize) -> Option<String> {
        self.cat
            .home
            .iter()
            .find(|(_, v)| **v == Some(t))
            .map(|(k, _)| k.clone())
    }

    /// Where a link of table `t` leads.
    fn link_target(&self, t: usize, attr: Attr) -> Option<usize> {
        match attr {
            Attr::Direct(f) => Some(self.cat.tables[t].fks[f].target),
            Attr::Reverse(c, _) => Some(c),
            Attr::Column(_) => None,
        }
    }

    /// The labels of the home node (`None`) or of a table, in HTSQL's order:
    /// arcs in trace order, then the ambiguous names.
    fn labels(&self, node: Option<&Arc>) -> Vec<(String, Arc)> {
        let mut out = Vec::new();
        let mut ambiguous = Vec::new();
        let node = match node {
            None => None,
            Some(Arc::Table(t)) => Some(Some(*t)),
            Some(Arc::Link(t, attr)) => Some(self.link_target(*t, *attr)),
            Some(_) => Some(None),
        };
        match node {
            None => {
                for t in 0..self.cat.tables.len() {
                    if let Some(name) = self.table_label(t) {
                        out.push((name, Arc::Table(t)));
                    }
                }
                ambiguous.extend(
                    self.cat
                        .home
                        .iter()
                        .filter(|(_, v)| v.is_none())
                        .map(|(k, _)| k.clone()),
                );
            }
            Some(None) => return out,
            Some(Some(t)) => {
                let table = &self.cat.tables[t];
                let mut named: Vec<(String, Attr)> = table
                    .labels
                    .iter()
                    .filter_map(|(k, v)| v.map(|a| (k.clone(), a)))
                    .collect();
                named.sort_by_key(|(_, a)| trace_order(table, *a));
                for (name, attr) in named {
                    let arc = match attr {
                        Attr::Column(c) => Arc::Column(t, c),
                        other => Arc::Link(t, other),
                    };
                    out.push((name, arc));
                }
                ambiguous.extend(
                    table
                        .labels
                        .iter()
                        .filter(|(_, v)| v.is_none())
                        .map(|(k, _)| k.clone()),
                );
            }
        }
        ambiguous.sort();
        out.extend(ambiguous.into_iter().map(|n| (n, Arc::Ambiguous)));
        out
    }

    fn kind(&self, arc: &Arc) -> String {
        match arc {
            Arc::Table(_) => "table".into(),
            Arc::Column(t, c) => format!("{} column", self.cat.tables[*t].columns[*c].domain),
            Arc::Link(t, attr) => {
                let plural = match *attr {
                    Attr::Reverse(c, f) => {
                        let child = &self.cat.tables[c];
                        !is_unique(child, &child.fks[f].columns)
                    }
                    _ => false,
                };
                let kind = if plural { "plural link" } else { "link" };
                match self
                    .link_target(*t, *attr)
                    .and_then(|target| self.table_label(target))
                {
                    Some(name) => format!("{kind} to {name}"),
                    None => kind.into(),
                }
            }
            Arc::Ambiguous => "attribute".into(),
        }
    }

    fn key(&self, t: usize, cols: &[usize], primary: bool) -> String {
        let table = &self.cat.tables[t];
        let mut flags = Vec::new();
        if primary {
            flags.push("primary");
        }
        if cols.iter().any(|c| !table.columns[*c].not_null) {
            flags.push("nullable");
        }
        let text = format!("{}({})", self.table_sql(t), self.columns(t, cols));
        if flags.is_empty() {
            text
        } else {
            format!("{text} {{{}}}", flags.join(", "))
        }
    }

    fn foreign_key(&self, t: usize, f: usize) -> String {
        let table = &self.cat.tables[t];
        let fk = &table.fks[f];
        let text = format!(
            "{}({}) -> {}({})",
            self.table_sql(t),
            self.columns(t, &fk.columns),
            self.table_sql(fk.target),
            self.columns(fk.target, &fk.target_columns)
        );
        if fk.columns.iter().any(|c| !table.columns[*c].not_null) {
            format!("{text} {{nullable}}")
        } else {
            text
        }
    }

    /// Unique keys of table `t` (the primary key first) as `(columns, primary)`.
    fn unique_keys(&self, t: usize) -> Vec<(Vec<usize>, bool)> {
        let table = &self.cat.tables[t];
        let mut keys: Vec<(Vec<usize>, bool)> = Vec::new();
        keys.extend(table.primary_key.clone().map(|k| (k, true)));
        keys.extend(table.uniques.iter().map(|k| (k.clone(), false)));
        keys
    }

    /// Foreign keys of other tables pointing at `t`, as `(table, fk)`.
    fn referring(&self, t: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (c, child) in self.cat.tables.iter().enumerate() {
            for (f, fk) in child.fks.iter().enumerate() {
                if fk.target == t && c != t {
                    out.push((c, f));
                }
            }
        }
        out
    }

    fn description(&self, arc: &Arc, out: &mut Vec<String>) {
        let mut section = |title: &str, lines: Vec<String>| {
            if !lines.is_empty() {
                out.push(String::new());
                out.push(title.to_string());
                out.extend(lines.into_iter().map(|l| format!("  {l}")));
            }
        };
        match *arc {
            Arc::Table(t) => {
                let table = &self.cat.tables[t];
                section("SQL name:", vec![self.table_sql(t)]);
                section(
                    "Unique keys:",
                    self.unique_keys(t)
                        .iter()
                        .map(|(k, p)| self.key(t, k, *p))
                        .collect(),
                );
                let mut fks: Vec<String> = (0..table.fks.len())
                    .map(|f| self.foreign_key(t, f))
                    .collect();
                fks.extend(
                    self.referring(t)
                        .iter()
                        .map(|(c, f)| self.foreign_key(*c, *f)),
                );
                section("Foreign keys:", fks);
                if let Some(names) = self.identity_names(t) {
                    section("Identity:", vec![names.join(", ")]);
                }
            }
            Arc::Column(t, c) => {
                let column = &self.cat.tables[t].columns[c];
                section(
                    "SQL name:",
                    vec![format!("{}.{}", self.table_sql(t), column.name)],
                );
                section("Domain:", vec![column.domain.to_string()]);
                section(
                    "Nullable?",
                    vec![if column.not_null { "no" } else { "yes" }.into()],
                );
                section(
                    "Unique keys:",
                    self.unique_keys(t)
                        .iter()
                        .filter(|(k, _)| k.contains(&c))
                        .map(|(k, p)| self.key(t, k, *p))
                        .collect(),
                );
                let table = &self.cat.tables[t];
                let mut fks: Vec<String> = (0..table.fks.len())
                    .filter(|f| table.fks[*f].columns.contains(&c))
                    .map(|f| self.foreign_key(t, f))
                    .collect();
                for (rc, rf) in self.referring(t) {
                    if self.cat.tables[rc].fks[rf].target_columns.contains(&c) {
                        fks.push(self.foreign_key(rc, rf));
                    }
                }
                section("Foreign keys:", fks);
            }
            Arc::Link(t, attr) => {
                let join = match attr {
                    Attr::Direct(f) => self.foreign_key(t, f),
                    Attr::Reverse(c, f) => {
                        let fk = &self.cat.tables[c].fks[f];
                        format!(
                            "{}({}) -> {}({})",
                            self.table_sql(t),
                            self.columns(t, &fk.target_columns),
                            self.table_sql(c),
                            self.columns(c, &fk.columns)
                        )
                    }
                    Attr::Column(_) => return,
                };
                // A join prints without the key's flags.
                let join = join.trim_end_matches(" {nullable}").to_string();
                section("Joins:", vec![join]);
            }
            Arc::Ambiguous => {}
        }
    }

    /// The labels of table `t`'s identity arcs, if each has one.
    fn identity_names(&self, t: usize) -> Option<Vec<String>> {
        let table = &self.cat.tables[t];
        let parts = table.identity.as_ref()?;
        parts
            .iter()
            .map(|p| {
                let attr = match p {
                    IdPart::Column(c) => Attr::Column(*c),
                    IdPart::Link(f, _) => Attr::Direct(*f),
                };
                table
                    .labels
                    .iter()
                    .find(|(_, v)| **v == Some(attr))
                    .map(|(k, _)| k.clone())
            })
            .collect()
    }
}

/// HTSQL's trace order of a table's arcs: columns (and the links they start) in
/// column order, then links from other tables.
fn trace_order(table: &Table, attr: Attr) -> (usize, usize, usize) {
    match attr {
        Attr::Column(c) => (0, c, 0),
        Attr::Direct(f) => (
            0,
            table.fks[f].columns.iter().min().copied().unwrap_or(0),
            1,
        ),
        Attr::Reverse(c, f) => (1, c, f),
    }
}

/// Whether `cols` are the primary key or a unique key of `table`.
fn is_unique(table: &Table, cols: &[usize]) -> bool {
    let same = |k: &Vec<usize>| {
        let mut a = k.clone();
        let mut b = cols.to_vec();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    };
    table.primary_key.as_ref().is_some_and(same) || table.uniques.iter().any(same)
}
