//! `MartCreator`: the creation pipeline of rexmart.md §3.3, in order — inventory
//! record, database (fresh, cloned or existing), deploy, post-deployment ETL,
//! post-assessment ETL, processors, fixed-name rename, completion, quota reaping —
//! with every log line and the exact `While ...` error chain. A failure purges the
//! mart (database and record) unless the caller asks to keep it.

use super::assessments::{self, AssessmentLoader};
use super::cluster::{hosts_management_db, physical_name, server_error, Cluster, MartLock};
use super::definition::{BaseType, Definition, Definitions, EtlScript, ScriptType};
use super::etl::{extract_htsql_statements, run_sql, script_params};
use super::inventory::{self, py_datetime, py_timedelta, Mart, Status};
use super::params::{parameters_log_line, validate_parameters, Params};
use super::purge::purge_with;
use super::settings::MartSettings;
use super::tables::{AssessmentDef, PrimaryTable};
use super::{ext, processors, quota};
use crate::core::app::App;
use crate::core::error::guard;
use crate::core::yaml::Node;
use crate::core::{Error, Result};
use postgres::Client;

/// How a creation treats failure and completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateOptions {
    /// Drop the database and delete the record when creation fails (default true).
    pub purge_on_failure: bool,
    /// Leave the status at `processing` instead of `complete` (default false).
    pub leave_incomplete: bool,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            purge_on_failure: true,
            leave_incomplete: false,
        }
    }
}

/// Creates marts of one definition for one owner.
pub struct MartCreator<'a> {
    app: &'a App,
    settings: MartSettings,
    owner: String,
    definition: Definition,
}

impl<'a> MartCreator<'a> {
    /// Refuses an empty owner and an unknown definition (rex's constructor). The
    /// application's definitions are read and validated here.
    pub fn new(app: &'a App, owner: &str, definition_id: &str) -> Result<MartCreator<'a>> {
        if owner.is_empty() {
            return Err(Error::new("No owner specified"));
        }
        let settings = MartSettings::from_settings(&app.settings)?;
        let definitions = Definitions::for_app(app)?;
        let definition = definitions
            .get(definition_id)
            .cloned()
            .ok_or_else(|| Error::new(format!("Unknown definition \"{definition_id}\"")))?;
        Ok(MartCreator {
            app,
            settings,
            owner: owner.to_string(),
            definition,
        })
    }

    pub fn definition(&self) -> &Definition {
        &self.definition
    }

    /// Checks creation parameters against the definition (typed, in definition order).
    pub fn validate_parameters(&self, given: &[(String, Node)]) -> Result<Params> {
        validate_parameters(&self.definition.parameters, given)
    }

    /// Creates one mart, calling `log` with each progress line; returns its record.
    pub fn create(
        &self,
        options: CreateOptions,
        parameters: &[(String, Node)],
        log: &mut dyn FnMut(&str),
    ) -> Result<Mart> {
        self.create_with(options, parameters, log, &mut quota::DefaultQuota)
    }

    /// [`MartCreator::create`] under an application's own quota rules.
    pub fn create_with(
        &self,
        options: CreateOptions,
        parameters: &[(String, Node)],
        log: &mut dyn FnMut(&str),
        rules: &mut dyn quota::QuotaRules,
    ) -> Result<Mart> {
        let params = self.validate_parameters(parameters)?;
        // Both management sessions are needed before the inventory insert: connect
        // them side by side (a connection costs a few ms, a tenth of a small mart).
        // The side thread's session belongs to this work: it is cancelled with it.
        let cancel = crate::pg::cancel::current();
        let (db, cluster) = std::thread::scope(|s| {
            let cluster = s.spawn(|| {
                let _scope = cancel.as_ref().map(|c| c.enter());
                Cluster::connect(&self.app.hosting)
            });
            let db = self.app.db.connect();
            (
                db,
                cluster
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            )
        });
        let mut db = db?;
        if !rules.can_create_mart(&mut db, &self.owner, &self.definition, &self.settings)? {
            return Err(Error::new(format!(
                "Creating a \"{}\" Mart for \"{}\" would exceed their quota",
                self.definition.id, self.owner
            )));
        }
        let mut run = Run {
            creator: self,
            params,
            db: Some(db),
            mart: None,
            cluster: Some(cluster?),
            lock: None,
            code: None,
            name: None,
            tables: Vec::new(),
        };
        match run.body(options, log, rules) {
            Ok(mart) => Ok(mart),
            Err(e) => {
                run.mart = None;
                if let (Some(code), true) = (run.code, options.purge_on_failure) {
                    // A purge failure must not hide the creation failure.
                    let _ = run.purge(code);
                } else if run.lock.is_some() {
                    // Kept on purpose: the sweep must not take it for an abandoned one.
                    let _ = run.mark_kept();
                }
                let _ = run.release();
                Err(e.wrap_with("While creating Mart database:", &self.definition.id))
            }
        }
    }
}

/// The state of one creation.
struct Run<'c, 'a> {
    creator: &'c MartCreator<'a>,
    params: Params,
    /// The management database session (closed while the application database is
    /// cloned: PostgreSQL refuses a template with other sessions).
    db: Option<Client>,
    /// The mart database session, opened when first needed.
    mart: Option<Client>,
    /// The hosting cluster's maintenance session: it holds the mart's lock and runs
    /// `CREATE DATABASE`, so it is never silently replaced while the lock is held.
    cluster: Option<Cluster>,
    /// The mart's lock, held from the inventory insert until the mart is complete.
    lock: Option<MartLock>,
    code: Option<i64>,
    name: Option<String>,
    /// The assessment tables loaded so far (processors describe them).
    tables: Vec<PrimaryTable>,
}

impl Run<'_, '_> {
    fn db(&mut self) -> Result<&mut Client> {
        if self.db.as_ref().is_none_or(Client::is_closed) {
            self.db = Some(self.creator.app.db.connect()?);
        }
        Ok(self.db.as_mut().expect("connected above"))
    }

    fn mart(&mut self) -> Result<&mut Client> {
        if self.mart.is_none() {
            let name = physical_name(self.creator.app, self.name.as_deref().unwrap_or(""));
            self.mart = Some(self.creator.app.hosting.connect(&name)?);
        }
        Ok(self.mart.as_mut().expect("connected above"))
    }

    fn cluster(&mut self) -> Result<&mut Cluster> {
        if self.cluster.is_none() {
            self.cluster = Some(Cluster::connect(&self.creator.app.hosting)?);
        }
        Ok(self.cluster.as_mut().expect("connected above"))
    }

    /// Both management sessions at once.
    fn sessions(&mut self) -> Result<(&mut Client, &mut Cluster)> {
        self.db()?;
        self.cluster()?;
        match (self.db.as_mut(), self.cluster.as_mut()) {
            (Some(db), Some(cluster)) => Ok((db, cluster)),
            _ => unreachable!("both sessions were opened above"),
        }
    }

    /// Purges the mart after a failure. Sessions that died (the cluster session's
    /// lock with it) are replaced, also when found dead only by the first try.
    fn purge(&mut self, code: i64) -> Result<()> {
        if self.cluster.as_ref().is_none_or(Cluster::is_closed) {
            self.cluster = None;
            self.lock = None;
        }
        let app = self.creator.app;
        let attempt = |run: &mut Self| -> Result<()> {
            let (db, cluster) = run.sessions()?;
            purge_with(app, db, cluster, code)
        };
        attempt(self).or_else(|_| {
            self.db = None;
            self.cluster = None;
            self.lock = None;
            attempt(self)
        })
    }

    /// Marks the mart's database (when there is one) kept after this failure. A
    /// cluster session that died (its lock with it) is replaced.
    fn mark_kept(&mut self) -> Result<()> {
        let name = self.name.clone().unwrap_or_default();
        let mark = |run: &mut Self| -> Result<()> {
            let cluster = run.cluster()?;
            if cluster.exists(&name)? {
                cluster.mark_kept(&name)?;
            }
            Ok(())
        };
        mark(self).or_else(|_| {
            self.cluster = None;
            self.lock = None;
            mark(self)
        })
    }

    /// Releases the mart's lock: its database is complete, or purged.
    fn release(&mut self) -> Result<()> {
        match (self.lock.take(), self.cluster.as_mut()) {
            (Some(lock), Some(cluster)) => cluster.unlock(lock),
            _ => Ok(()),
        }
    }

    fn status(&mut self, status: Status) -> Result<()> {
        let code = self.code.unwrap_or_default();
        inventory::set_status(self.db()?, code, status)
    }

    fn body(
        &mut self,
        options: CreateOptions,
        log: &mut dyn FnMut(&str),
        rules: &mut dyn quota::QuotaRules,
    ) -> Result<Mart> {
        let c = self.creator;
        let def = &c.definition;
        let started = inventory::now();
        log(&format!("Mart creation began: {}", py_datetime(&started)));
        if let Some(line) = parameters_log_line(&self.params) {
            log(&line);
        }
        let (db, cluster) = self.sessions()?;
        let code = inventory::insert(db, &def.id, &c.owner, started, |code| {
            cluster.lock(MartLock::new(c.app, code))
        })?;
        self.lock = Some(MartLock::new(c.app, code));
        self.code = Some(code);
        let name = match def.base.base_type {
            BaseType::Existing => def.base.target.clone().unwrap_or_default(),
            _ => format!(
                "{}{}{}_{}",
                c.settings.name_prefix.as_deref().unwrap_or(""),
                def.base.name_token.as_deref().unwrap_or(""),
                code,
                started.format("%Y%m%d%H%M%S")
            ),
        };
        inventory::set_name(self.db()?, code, &name)?;
        self.name = Some(name.clone());
        self.create_database(&name, log)?;

        self.status(Status::Deployment)?;
        if let Some(facts) = &def.deploy {
            log("Deploying structures...");
            let base_dir = def.base_path.clone().unwrap_or_else(|| c.app.dir.clone());
            let mart = self.mart()?;
            guard("While Deploying structures", None, || {
                ext::deploy_facts(mart, facts, &base_dir)
            })?;
        }

        self.status(Status::PostDeployment)?;
        log("Executing Post-Deployment ETL...");
        guard("While executing Post-Deployment Scripts", None, || {
            self.execute_etl(&def.post_deploy_scripts, log)
        })?;
        log("...ETL complete");

        self.status(Status::Assessment)?;
        self.load_assessments(log)?;
        self.status(Status::PostAssessment)?;
        log("Executing Post-Assessment ETL...");
        guard("While executing Post-Assessment Scripts", None, || {
            self.execute_etl(&def.post_assessment_scripts, log)
        })?;
        log("...ETL complete");

        self.status(Status::Processing)?;
        for p in &def.processors {
            self.mart()?;
            let (Some(mart), tables) = (self.mart.as_mut(), &self.tables) else {
                unreachable!("opened above")
            };
            guard("While executing Processor:", Some(&p.id), || {
                log(&format!("Executing Processor {}...", p.id));
                processors::execute(&p.id, &p.options, mart, log, tables)?;
                log("...complete");
                Ok(())
            })?;
        }

        if let Some(fixed) = &def.base.fixed_name {
            self.rename(fixed, log)?;
        }
        let final_name = self.name.clone().unwrap_or_default();
        self.mart = None;
        let size = guard("While retrieving database size", None, || {
            self.cluster()?.size(&physical_name(c.app, &final_name))
        })?;
        inventory::set_completion(self.db()?, code, inventory::now(), size)?;
        if !options.leave_incomplete {
            self.status(Status::Complete)?;
        }
        let mart = inventory::get(self.db()?, code)?
            .ok_or_else(|| Error::new(format!("Inventory record #{code} disappeared")))?;
        let completed = mart
            .date_creation_completed
            .unwrap_or(mart.date_creation_started);
        log(&format!(
            "Mart creation complete: {}",
            py_datetime(&completed)
        ));
        log(&format!(
            "Mart creation duration: {}",
            py_timedelta(completed - mart.date_creation_started)
        ));
        log(&format!(
            "Mart database size: {}",
            mart.size
                .map_or_else(|| "None".to_string(), |s| s.to_string())
        ));
        // Released before reaping: two creators of one owner, each reaping the
        // other's new mart while holding its own lock, would wait on each other.
        self.release()?;
        let (db, cluster) = self.sessions()?;
        rules.reap_marts(c.app, db, cluster, &c.owner, def, &c.settings)?;
        Ok(mart)
    }

    /// Step 4: the database, per base type.
    fn create_database(&mut self, name: &str, log: &mut dyn FnMut(&str)) -> Result<()> {
        let c = self.creator;
        let base = &c.definition.base;
        let template = match base.base_type {
            BaseType::Existing => {
                log(&format!("Using existing database: {name}"));
                if !self.cluster()?.exists(&physical_name(c.app, name))? {
                    return Err(Error::new(format!("Database \"{name}\" does not exist")));
                }
                return Ok(());
            }
            BaseType::Fresh => None,
            BaseType::Copy => base.target.clone(),
            BaseType::Application => Some(c.app.db.name.clone()),
        };
        log(&format!("Creating database: {name}"));
        let mut physical = None;
        if let Some(t) = &template {
            let source = physical_name(c.app, t);
            if !self.cluster()?.exists(&source)? {
                return Err(Error::new(format!("Database \"{t}\" does not exist")));
            }
            log(&format!("Cloning: {t}"));
            // PostgreSQL refuses a template with other sessions: ours on the
            // application database goes (`application`, or `copy` of it by name).
            if source == c.app.db.name {
                self.db = None;
            }
            physical = Some(source);
        }
        let cluster = self.cluster()?;
        guard("While creating database:", Some(name), || {
            cluster.create(name, physical.as_deref())
        })
    }

    /// Runs one phase's scripts, numbered from 1.
    fn execute_etl(&mut self, scripts: &[EtlScript], log: &mut dyn FnMut(&str)) -> Result<()> {
        let c = self.creator;
        for (i, script) in scripts.iter().enumerate() {
            let label = format!("#{}", i + 1);
            let params =
                script_params(&script.parameters, &self.params, &c.owner, &c.definition.id);
            match script.script_type {
                ScriptType::Htsql => {
                    log(&format!("HTSQL script {label}..."));
                    let statements = extract_htsql_statements(&script.script)?;
                    self.mart()?;
                    self.db()?;
                    let (Some(mart), Some(db)) = (self.mart.as_mut(), self.db.as_mut()) else {
                        unreachable!("both sessions were opened above")
                    };
                    guard("While executing HTSQL script:", Some(&label), || {
                        for statement in &statements {
                            guard("While executing statement:", Some(statement), || {
                                ext::produce_htsql(mart, db, statement, &params)
                            })?;
                        }
                        Ok(())
                    })?;
                }
                ScriptType::Sql => {
                    log(&format!("SQL script {label}..."));
                    let mart = self.mart()?;
                    guard("While executing SQL script:", Some(&label), || {
                        run_sql(mart, &script.script, &params)
                    })?;
                }
            }
        }
        Ok(())
    }

    /// The assessment phase: each assessment definition (dynamic ones asked of
    /// their definer) deployed, loaded and calculated, numbered from 1.
    fn load_assessments(&mut self, log: &mut dyn FnMut(&str)) -> Result<()> {
        let c = self.creator;
        let def = &c.definition;
        if def.assessments.is_empty() {
            return Ok(());
        }
        let mut items = Vec::new();
        for item in &def.assessments {
            match item.get("dynamic").and_then(Node::as_str) {
                Some(definer) => {
                    let db = self.db()?;
                    items.extend(assessments::dynamic(definer, db, &def.id, &c.settings)?);
                }
                None => items.push(AssessmentDef::from_node(item)?),
            }
        }
        let params = script_params(&[], &self.params, &c.owner, &def.id);
        let base_dir = def.base_path.clone().unwrap_or_else(|| c.app.dir.clone());
        for (i, item) in items.iter().enumerate() {
            let label = format!("#{} ({})", i + 1, item.name);
            log(&format!("Processing Assessment {label}"));
            self.mart()?;
            self.db()?;
            let (Some(mart), Some(app)) = (self.mart.as_mut(), self.db.as_mut()) else {
                unreachable!("both sessions were opened above")
            };
            guard("While processing Assessment:", Some(&label), || {
                let loader = AssessmentLoader::new(item, mart, app, &params, &c.settings)?;
                guard("While deploying Assessment structures", None, || {
                    log("...deploying structures");
                    ext::deploy_facts(mart, &loader.deploy_facts(), &base_dir)
                })?;
                guard("While loading Assessments", None, || {
                    log("...loading Assessments");
                    let loaded = loader.load(mart, app)?;
                    log(&format!("...{loaded} Assessments loaded"));
                    Ok(())
                })?;
                guard("While performing Assessment calculations", None, || {
                    log("...performing calculations");
                    loader.calculate(mart, app)
                })?;
                log("...complete");
                self.tables.push(loader.table);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Step 17: purge this owner's previous mart of that name, then rename.
    fn rename(&mut self, fixed: &str, log: &mut dyn FnMut(&str)) -> Result<()> {
        let c = self.creator;
        let owner = c.owner.clone();
        guard("While purging previous fixed-name database", None, || {
            let (db, cluster) = self.sessions()?;
            let previous = inventory::with_name(db, fixed)?;
            match previous.as_slice() {
                [] => Ok(()),
                [one] if one.owner == owner => {
                    log(&format!("Purging previous database named \"{fixed}\"..."));
                    purge_with(c.app, db, cluster, one.code)
                }
                [one] => Err(Error::new(format!(
                    "Cannot set name of Mart to \"{fixed}\" because a Mart with that name already exists owned by \"{}\"",
                    one.owner
                ))),
                _ => Err(Error::new(format!(
                    "Multiple inventory records have a name of \"{fixed}\"; unsure what to do"
                ))),
            }
        })?;
        guard("While renaming database", None, || {
            log(&format!("Renaming database to: {fixed}"));
            self.mart = None;
            let old = self.name.clone().unwrap_or_default();
            let code = self.code.unwrap_or_default();
            if hosts_management_db(c.app) {
                rename_with_record(self.db()?, code, &old, fixed)?;
            } else {
                // Two servers: a crash between the two leaves the record on the old
                // name (and the sweep may then delete it).
                self.cluster()?.rename(&old, fixed)?;
                inventory::set_name(self.db()?, code, fixed)?;
            }
            self.name = Some(fixed.to_string());
            Ok(())
        })
    }
}

/// Renames the database and its inventory record in one transaction, on the
/// server both live on, so that no crash leaves the record on a missing name.
fn rename_with_record(db: &mut Client, code: i64, old: &str, new: &str) -> Result<()> {
    let mut tx = db.transaction()?;
    inventory::set_name(&mut tx, code, new)?;
    let sql = Cluster::rename_sql(old, new);
    tx.batch_execute(&sql).map_err(|e| server_error(e, &sql))?;
    tx.commit()?;
    Ok(())
}
