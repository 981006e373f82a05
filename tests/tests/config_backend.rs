//! `cb4_updated` and `cb6_updated` fired for real: kea-dhcp4 and kea-dhcp6
//! with `config-control` on a real PostgreSQL and a real MariaDB (Debian's,
//! started by the test, schema from `kea-admin db-init`), ISC's config
//! backend hook (`libdhcp_pgsql_cb.so`/`libdhcp_mysql_cb.so`, from 3.0
//! `libdhcp_pgsql.so`/`libdhcp_mysql.so`) and the probe hooks, which
//! record every `cb*_updated` with its typed audit entries
//! (`kea_hooks::dhcp4::AuditEntry`).
//!
//! ISC's cb_cmds, which writes the backend through commands, is for ISC's
//! subscribers only; so the test writes a global parameter straight into
//! the backend's tables, in one transaction that starts with an audit
//! revision (`createAuditRevisionDHCP4/6`), as cb_cmds does: the tables'
//! triggers then write the audit entries Kea's poll finds.
//!
//! What must hold, on every release with SQL backends (2.2, 2.6, 3.0; the
//! 3.2 build has none, where this says so and returns):
//! - a parameter in the database before Kea starts is applied by the
//!   start-up fetch and fires nothing, neither then nor at the next poll;
//! - a parameter written while Kea runs fires the callout once, on Kea's
//!   main thread, within 10 s (the poll is every second), with exactly one
//!   entry: the parameter's table and row id, `Create`, the revision and
//!   its log message, and the time of the change; `config-get` then shows
//!   the new value; another poll does not fire it again.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::records;
use kea_hooks_tests::{hooks_together, require_root_and_kea, sql_backends, sql_config_backend_hook, Kea, KeaConfig, MariaDbServer, NetPair, PgServer};
use serde_json::{json, Value};

/// How long a change may take to reach the callout (Kea polls every
/// second here).
const BOUND: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq)]
enum Family {
    V4,
    V6,
}

impl Family {
    /// `4` or `6`, as in the backend's table and procedure names.
    fn digit(self) -> char {
        match self {
            Family::V4 => '4',
            Family::V6 => '6',
        }
    }

    fn point(self) -> &'static str {
        match self {
            Family::V4 => "cb4_updated",
            Family::V6 => "cb6_updated",
        }
    }

    fn server(self) -> &'static str {
        match self {
            Family::V4 => "kea-dhcp4",
            Family::V6 => "kea-dhcp6",
        }
    }
}

/// A Kea database on one of the two servers.
enum Db {
    Pg(Arc<PgServer>, String),
    My(Arc<MariaDbServer>, String),
}

impl Db {
    fn postgresql(name: &str) -> (Db, Value) {
        let pg = PgServer::shared();
        let entry = pg.kea_database(name);
        (Db::Pg(pg, name.to_owned()), entry)
    }

    fn mariadb(name: &str) -> (Db, Value) {
        let my = MariaDbServer::shared();
        let entry = my.kea_database(name);
        (Db::My(my, name.to_owned()), entry)
    }

    fn db_type(&self) -> &'static str {
        match self {
            Db::Pg(..) => "postgresql",
            Db::My(..) => "mysql",
        }
    }

    /// Runs `sql` in the Kea database; its output (one row a line).
    fn sql(&self, sql: &str) -> String {
        match self {
            Db::Pg(pg, name) => pg.psql(name, sql),
            Db::My(my, name) => my.sql(name, sql),
        }
    }

    /// Writes integer global parameter `name` = `value` for every server
    /// (tag `all`) in one transaction under a new audit revision with log
    /// message `message`; returns the parameter's row id and the revision.
    fn set_global(&self, family: Family, name: &str, value: i64, message: &str) -> (u64, u64) {
        let f = family.digit();
        // parameter_type 0: integer (the backend's parameter_data_type).
        // The revision's time in whole seconds, as Kea's own backend code
        // writes it: Kea 2.2's PostgreSQL backend remembers the last entry
        // it applied in whole seconds, so an entry stamped with a fraction
        // (plain `now()`) is found again, and cb4_updated fired again, at
        // every poll (seen: three times in 4 s, the first at start-up).
        let sql = match self {
            Db::Pg(..) => format!(
                "BEGIN; \
                 SELECT createAuditRevisionDHCP{f}(date_trunc('second', now()), 'all', '{message}', false); \
                 WITH p AS (INSERT INTO dhcp{f}_global_parameter (name, value, parameter_type, modification_ts) \
                            VALUES ('{name}', '{value}', 0, now()) RETURNING id) \
                 INSERT INTO dhcp{f}_global_parameter_server (parameter_id, server_id, modification_ts) \
                   SELECT p.id, s.id, now() FROM p, dhcp{f}_server s WHERE s.tag = 'all'; \
                 COMMIT;"
            ),
            Db::My(..) => format!(
                "START TRANSACTION; \
                 CALL createAuditRevisionDHCP{f}(NOW(), 'all', '{message}', 0); \
                 INSERT INTO dhcp{f}_global_parameter (name, value, parameter_type, modification_ts) \
                   VALUES ('{name}', '{value}', 0, NOW()); \
                 INSERT INTO dhcp{f}_global_parameter_server (parameter_id, server_id, modification_ts) \
                   SELECT LAST_INSERT_ID(), id, NOW() FROM dhcp{f}_server WHERE tag = 'all'; \
                 COMMIT;"
            ),
        };
        self.sql(&sql);
        let row = self.sql(&format!(
            "SELECT p.id, (SELECT max(r.id) FROM dhcp{f}_audit_revision r) FROM dhcp{f}_global_parameter p \
             JOIN dhcp{f}_global_parameter_server ps ON ps.parameter_id = p.id WHERE p.name = '{name}'"
        ));
        let fields: Vec<u64> = row.split(|c: char| c == '|' || c.is_whitespace()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
        assert_eq!(fields.len(), 2, "parameter {name} and its revision: {row:?}");
        (fields[0], fields[1])
    }
}

/// Starts the server of `family` with `config-control` on `db` (polled
/// every second), the backend's hook and the probe hook recording into the
/// returned file; Kea's per-poll INFO line (`DCTL_CONFIG_FETCH`) is kept
/// out of the log.
fn start(pair: &NetPair, family: Family, db: &Db, entry: &Value) -> (Kea, PathBuf) {
    let mut cfg = match family {
        Family::V4 => KeaConfig::new(pair),
        Family::V6 => KeaConfig::new6(pair),
    };
    cfg = cfg
        .merge(json!({ "config-control": { "config-databases": [entry], "config-fetch-wait-time": 1 } }))
        .logger(&format!("{}.dctl", family.server()), "WARN", 0);
    if let Db::My(my, _) = db {
        let (var, socket) = my.kea_env();
        cfg = cfg.env(var, &socket);
    }
    let probe = match family {
        Family::V4 => common::probe(),
        Family::V6 => common::probe6(),
    };
    let libs = hooks_together(cfg.dir(), &[sql_config_backend_hook(db.db_type()), probe]);
    let out = cfg.dir().join("probe.jsonl");
    let kea = cfg.hook(&libs[0], None).hook(&libs[1], Some(json!({ "out": out }))).start(pair).unwrap_or_else(|e| panic!("{e}"));
    (kea, out)
}

/// The server's global `name` as `config-get` shows it.
fn configured(kea: &Kea, family: Family, name: &str) -> Value {
    let answer = kea.command("config-get", None);
    assert_eq!(answer["result"], 0, "{answer}");
    let key = match family {
        Family::V4 => "Dhcp4",
        Family::V6 => "Dhcp6",
    };
    answer["arguments"][key][name].clone()
}

/// Asks Kea to poll the backend now; it answers when the poll is done.
fn pull(kea: &Kea) {
    let answer = kea.command("config-backend-pull", None);
    assert_eq!(answer["result"], 0, "config-backend-pull: {answer}");
}

fn cb_updated_fires_for_a_change_in_the_database(family: Family, db: Db, entry: Value) {
    let point = family.point();
    // In the database before Kea starts: applied by the start-up fetch,
    // which fires nothing.
    let (_, first_revision) = db.set_global(family, "decline-probation-period", 4242, "before start");
    let pair = NetPair::new();
    let (kea, out) = start(&pair, family, &db, &entry);
    assert_eq!(configured(&kea, family, "decline-probation-period"), 4242, "the start-up fetch applied the database's parameter");
    // A poll for changes (the command runs on the main thread, as the
    // timer's polls do): nothing new since the start-up fetch.
    pull(&kea);
    let fired = || records(&out).into_iter().filter(|r| r["point"] == point).collect::<Vec<_>>();
    assert!(fired().is_empty(), "{point} fired at start-up or at the first poll: {:?}", fired());

    // A change while Kea runs.
    let message = format!("valid-lifetime by the {} test", family.server());
    let before = SystemTime::now();
    let t0 = Instant::now();
    let (object_id, revision) = db.set_global(family, "valid-lifetime", 4321, &message);
    assert!(revision > first_revision, "a new audit revision: {revision} after {first_revision}");
    let record = loop {
        if let Some(r) = fired().into_iter().next() {
            break r;
        }
        assert!(t0.elapsed() < BOUND, "{point} did not fire within {BOUND:?} of the change; log:\n{}", kea.log());
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("{point} fired {:?} after the commit ({})", t0.elapsed(), db.db_type());
    assert!(
        record.get("audit_error").is_none(),
        "{point} fired, but the SDK could not read its audit entries: {} (a hook built against other Boost headers \
         than Kea's: see the kea-hooks warning of the build)",
        record["audit_error"]
    );
    assert_eq!(record["main_thread"], true, "{point} runs on Kea's main thread: {record}");
    assert_eq!(record["entries"], 1, "one audit entry: {record}");
    let audit = &record["audit"][0];
    assert_eq!(audit["object_type"], format!("dhcp{}_global_parameter", family.digit()), "{record}");
    assert_eq!(audit["object_id"], object_id, "{record}");
    assert_eq!(audit["modification"], "create", "{record}");
    assert_eq!(audit["revision_id"], revision, "{record}");
    assert_eq!(audit["log_message"], message.as_str(), "{record}");
    let changed_at = audit["modification_time"].as_i64().unwrap_or_else(|| panic!("{record}"));
    let wrote_at = before.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((changed_at - wrote_at).abs() <= 60, "modification time {changed_at}, written at {wrote_at}: {record}");
    assert_eq!(configured(&kea, family, "valid-lifetime"), 4321, "config-get after {point}");

    // Seen once: another poll does not fire it again.
    pull(&kea);
    assert_eq!(fired().len(), 1, "{point} fired again for a revision already applied: {:?}", fired());
}

#[test]
fn cb4_updated_fires_for_a_change_in_postgresql() {
    if !require_root_and_kea() || !sql_backends() {
        return;
    }
    let (db, entry) = Db::postgresql("keacb4");
    cb_updated_fires_for_a_change_in_the_database(Family::V4, db, entry);
}

#[test]
fn cb4_updated_fires_for_a_change_in_mariadb() {
    if !require_root_and_kea() || !sql_backends() {
        return;
    }
    let (db, entry) = Db::mariadb("keacb4");
    cb_updated_fires_for_a_change_in_the_database(Family::V4, db, entry);
}

#[test]
fn cb6_updated_fires_for_a_change_in_postgresql() {
    if !require_root_and_kea() || !sql_backends() {
        return;
    }
    if kea_hooks_tests::kea_hooks_version() < 20400 {
        // Kea 2.2's libdhcp_pgsql_cb.so cannot prepare its UPDATE_SUBNET6
        // statement ("trailing junk after parameter at or near $33WHERE"):
        // kea-dhcp6 with a PostgreSQL config backend does not start (seen
        // on 2.2; 2.6 and 3.0 run it).
        eprintln!("not applicable: Kea {} cannot run kea-dhcp6 on a PostgreSQL config backend (its UPDATE_SUBNET6 statement is malformed)", kea_hooks_tests::kea_hooks_version());
        return;
    }
    let (db, entry) = Db::postgresql("keacb6");
    cb_updated_fires_for_a_change_in_the_database(Family::V6, db, entry);
}

#[test]
fn cb6_updated_fires_for_a_change_in_mariadb() {
    if !require_root_and_kea() || !sql_backends() {
        return;
    }
    let (db, entry) = Db::mariadb("keacb6");
    cb_updated_fires_for_a_change_in_the_database(Family::V6, db, entry);
}
